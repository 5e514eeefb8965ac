"""The chat panel: conversations of the selected patient, the messages, the question box and its buttons.

A view only: it gets the chat's three parts (:class:`Conversations`, :class:`TurnControl`, :class:`ChatModel`,
assembled by :class:`~desktop.ui.chat.chat_assistant.ChatAssistant`), calls them for every action and redraws
from their signals. Preview on its own with ``python -m desktop.ui.chat.qt_chat_panel`` (a demo patient and the
default model).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.core.chat import history as h
from desktop.core.chat.session import DISCLAIMER
from desktop.core.chat.turn import COMPUTED_MODEL
from desktop.ui.chat.conversations import Conversations
from desktop.ui.chat.model_control import ChatModel
from desktop.ui.chat.qt_chat_settings import QtChatSettingsDialog
from desktop.ui.chat.qt_collapse import DockCollapse
from desktop.ui.chat.qt_flow import flow_row
from desktop.ui.chat.qt_model_manager import QtModelManager
from desktop.ui.chat.turn_control import TurnControl

_STATUS_NOTE = {
    "stopped": "stopped",
    "truncated": "cut short (max tokens or a full context)",
    "interrupted": "interrupted when the app closed",
    "failed": "failed",
    "generating": "writing…",
}


# A conversation is free text: it may quote names, dates and values, so it cannot be de-identified the way a
# table can (desktop/core/deidentify.py); the clinician is told so before the file is chosen.
EXPORT_NOTICE = (
    "This conversation contains patient data: the patient's id and whatever the questions and answers say "
    "(names, dates, values). Anyone who gets the file can read it: keep it on an encrypted disk and delete it "
    "when done. Free text cannot be de-identified. The export is recorded in the workspace's audit log."
)


class QtChatPanel(QWidget):
    exported = Signal(str)  # the path a conversation was exported to (the window audits it)

    def __init__(self, *, conversations: Conversations, turns: TurnControl, model: ChatModel,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.conversations, self.turns, self.model = conversations, turns, model
        self._editing_id: int | None = None
        self._stream_shown: int | None = None  # the message id whose text is being appended

        self.conversation_list = QListWidget()
        self.conversation_list.setWordWrap(True)
        self.conversation_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.new_button = QPushButton("New conversation")
        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.addWidget(QLabel("<b>Conversations</b>"))
        left.addWidget(self.conversation_list, 1)
        left.addWidget(self.new_button)
        left_box = QWidget()
        left_box.setLayout(left)

        self.disclaimer = QLabel(DISCLAIMER)
        self.disclaimer.setObjectName("chatDisclaimer")
        self.disclaimer.setWordWrap(True)  # one ~400 px line otherwise: the dock goes down to 340 px
        self.disclaimer.setStyleSheet("QLabel#chatDisclaimer { background: #fff4d6; color: #5a4500; "
                                      "padding: 4px 8px; border-radius: 3px; }")
        self.model_line = QLabel("No model loaded")
        self.model_line.setStyleSheet("color: #666;")
        # "SmolLM2-… · context 4096 · 1 thread · loaded in 0.24 s · patient context ready (…)" is ~470 px on
        # one line: it wraps, so it never holds the dock wider than DOCK_MIN_WIDTH nor gets clipped.
        self.model_line.setWordWrap(True)
        self.view = QTextBrowser()
        self.view.setOpenLinks(False)
        self.notice = QLabel("")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("color: #8a3b00;")
        self.input = QPlainTextEdit()
        self.input.setPlaceholderText("Ask about this patient… (Ctrl+Enter to send)")
        self.input.setMaximumHeight(90)
        self.send_button = QPushButton("Send")
        self.stop_button = QPushButton("Stop")
        self.regenerate_button = QPushButton("Regenerate")
        self.edit_button = QPushButton("Edit last question")
        self.export_button = QPushButton("Export…")
        self.settings_button = QPushButton("Settings…")
        self.models_button = QPushButton("Models…")
        # Two rows of buttons and a stacked layout keep the panel a readable column beside the plots; each row
        # wraps onto a second line when the dock is narrow (340 px on a 1366-pixel laptop), never cutting a button.
        buttons = QVBoxLayout()
        self.answer_row = flow_row(self.send_button, self.stop_button, self.regenerate_button, self.edit_button)
        self.tools_row = flow_row(self.export_button, self.models_button, self.settings_button)
        buttons.addWidget(self.answer_row)
        buttons.addWidget(self.tools_row)
        self.meter = QProgressBar()
        self.meter.setRange(0, model.settings.n_ctx)
        self.meter.setValue(0)
        self.meter.setFormat("Context: %v / %m tokens")
        self.stats = QLabel("")
        # Wraps instead of asking for width: a long status line must not widen the dock (and squeeze the list).
        self.stats.setWordWrap(True)
        status = QVBoxLayout()
        status.addWidget(self.meter)
        status.addWidget(self.stats)

        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(self.disclaimer)
        top = QHBoxLayout()
        top.addWidget(self.model_line, 1)
        right.addLayout(top)
        right.addWidget(self.view, 1)
        right.addWidget(self.notice)
        right.addWidget(self.input)
        right.addLayout(buttons)
        right.addLayout(status)
        right_box = QWidget()
        right_box.setLayout(right)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(left_box)
        splitter.addWidget(right_box)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([130, 700])
        outer = QVBoxLayout(self)
        self.collapse = DockCollapse(self, splitter)
        top.addWidget(self.collapse.button)
        self.addAction(self.collapse.action)  # the window lists the panel's actions in its View menu
        outer.addWidget(self.collapse.strip)
        outer.addWidget(splitter)

        # view -> model
        self.new_button.clicked.connect(conversations.new)
        self.conversation_list.currentItemChanged.connect(self._on_conversation_clicked)
        self.send_button.clicked.connect(self._send)
        self.stop_button.clicked.connect(turns.stop)
        self.regenerate_button.clicked.connect(turns.regenerate)
        self.edit_button.clicked.connect(self._edit_last)
        self.export_button.clicked.connect(self._export)
        self.settings_button.clicked.connect(self._settings)
        self.models_button.clicked.connect(self._models)
        # model -> view
        conversations.conversationsChanged.connect(self._show_conversations)
        conversations.conversationSelected.connect(self._mark_conversation)
        conversations.messagesChanged.connect(self._show_messages)
        turns.streamStarted.connect(self._stream_started)
        turns.streamText.connect(self._stream_text)
        turns.streamChecked.connect(self._stream_checked)
        turns.busyChanged.connect(self._busy)
        turns.contextChanged.connect(self._context)
        turns.statsChanged.connect(self.stats.setText)
        turns.answerComputed.connect(lambda answer: self.stats.setText(answer.source_line()))
        model.modelChanged.connect(self.model_line.setText)
        # The buttons follow the model's readiness as well as the turn's.
        model.readyChanged.connect(lambda _ready: self._busy(self.turns.busy))
        for part in (conversations, turns, model):
            part.errorRaised.connect(self.notice.setText)
        self._busy(turns.busy)

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self._send()
            return
        super().keyPressEvent(event)

    # -- actions ---------------------------------------------------------------------------------------
    def _send(self) -> None:
        text = self.input.toPlainText().strip()
        if not text or self.turns.busy:
            return
        self.notice.setText("")
        if self._editing_id is not None:
            self.turns.edit_and_resend(self._editing_id, text)
        else:
            self.turns.send(text)
        self._set_editing(None)
        self.input.clear()

    def _edit_last(self) -> None:
        last = self.conversations.last_user_message()
        if last is None:
            return
        self.input.setPlainText(last.content)
        self._set_editing(last.message_id)
        self.input.setFocus()

    def _set_editing(self, message_id: int | None) -> None:
        self._editing_id = message_id
        self.send_button.setText("Resend edited" if message_id is not None else "Send")

    def _export(self) -> None:
        answer = QMessageBox.information(self, "Export patient data", EXPORT_NOTICE,
                                         QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Ok:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export conversation", "conversation.md", "Markdown (*.md)")
        if path:
            self.conversations.export_markdown(Path(path), self._exported)

    def _exported(self, path: Path) -> None:
        self.notice.setText(f"Exported to {path}")
        self.exported.emit(str(path))

    def _settings(self) -> None:
        dialog = QtChatSettingsDialog(self.model.settings, self)
        if dialog.exec():
            self.model.apply_settings(dialog.value())
            self.meter.setMaximum(self.model.settings.n_ctx)

    def _models(self) -> None:
        QtModelManager(self.model, self).exec()

    def _on_conversation_clicked(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if item is None:
            return
        cid = item.data(Qt.ItemDataRole.UserRole)
        if cid != self.conversations.conversation_id and not self.turns.busy:
            self.conversations.select(cid)

    # -- redraw ----------------------------------------------------------------------------------------
    @Slot(list)
    def _show_conversations(self, convs: list[h.Conversation]) -> None:
        self.conversation_list.blockSignals(True)
        self.conversation_list.clear()
        for c in convs:
            item = QListWidgetItem(f"{c.title}\n{c.updated_at:%Y-%m-%d %H:%M}")
            item.setData(Qt.ItemDataRole.UserRole, c.conversation_id)
            self.conversation_list.addItem(item)
        self.conversation_list.blockSignals(False)
        self._mark_conversation(self.conversations.conversation_id)

    @Slot(object)
    def _mark_conversation(self, cid: int | None) -> None:
        self.conversation_list.blockSignals(True)
        for i in range(self.conversation_list.count()):
            item = self.conversation_list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == cid:
                self.conversation_list.setCurrentItem(item)
                break
        else:
            self.conversation_list.clearSelection()
        self.conversation_list.blockSignals(False)

    @Slot(list)
    def _show_messages(self, msgs: list[h.Message]) -> None:
        streaming = self.turns.streaming_message_id
        parts = []
        for m in msgs:
            who = "Clinician" if m.role == "user" else "Assistant"
            color = "#1f4e79" if m.role == "user" else "#2d6a2d"
            text = self.turns.streaming_text if m.message_id == streaming else m.content
            note = "writing…" if m.message_id == streaming else _STATUS_NOTE.get(m.status, "")
            if m.message_id == streaming:  # marked as each sentence is judged, before the answer ends
                marks = {"spans": [s.to_dict() for s in self.turns.streaming_marks]}
                body = verdict_html(text, json.dumps(marks))
            elif m.verdict:
                body = verdict_html(text, m.verdict)
            else:
                body = html.escape(text).replace("\n", "<br>")
            computed = m.model == COMPUTED_MODEL
            if computed:
                note = "✔ computed from the record"
            parts.append(f"<p style='margin-top:10px'><b style='color:{color}'>{who}</b> "
                         f"<span style='color:#888'>{m.created_at:%H:%M}"
                         f"{' · ' + note if note else ''}</span><br>{body}</p>")
            if m.verdict and m.message_id != streaming:
                parts.append(verdict_summary_html(m.verdict))
            if computed and m.context_summary:
                parts.append(computation_html(m.context_summary))
        self.view.setHtml("".join(parts) or "<p style='color:#888'>No messages yet.</p>")
        self._stream_shown = streaming if any(m.message_id == streaming for m in msgs) else None
        self.view.moveCursor(QTextCursor.MoveOperation.End)

    @Slot(int)
    def _stream_started(self, message_id: int) -> None:
        self._stream_shown = message_id if self._stream_shown == message_id else self._stream_shown

    @Slot(str)
    def _stream_text(self, text: str) -> None:
        if self._stream_shown is None or self._stream_shown != self.turns.streaming_message_id:
            return  # not drawn yet: the redraw will show turns.streaming_text in full
        cursor = self.view.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        self.view.setTextCursor(cursor)
        self.view.ensureCursorVisible()

    @Slot(list)
    def _stream_checked(self, _marks: list) -> None:
        """A sentence the record does not support was just written: redraw, so it is marked while the answer
        is still streaming (rare: a verified sentence needs no redraw)."""
        if self._stream_shown is not None:
            self._show_messages(self.conversations.messages)

    @Slot(bool)
    def _busy(self, busy: bool) -> None:
        ready = self.model.ready
        self.send_button.setEnabled(not busy and ready)
        self.stop_button.setEnabled(busy)
        self.regenerate_button.setEnabled(not busy and ready)
        self.edit_button.setEnabled(not busy and ready)
        self.settings_button.setEnabled(not busy)
        self.models_button.setEnabled(not busy)
        self.new_button.setEnabled(not busy)

    @Slot(int, int, int)
    def _context(self, used: int, n_ctx: int, dropped: int) -> None:
        self.meter.setMaximum(n_ctx)
        self.meter.setValue(min(used, n_ctx))
        if dropped:
            self.notice.setText(f"{dropped} earlier messages are left out to fit the context window; the patient "
                                "summary and the system prompt are always kept.")


def _cell(value: object) -> str:
    """A table cell as a clinician reads it: numbers without float noise, dates without midnight times."""
    if isinstance(value, float):
        return f"{value:g}"
    text = "" if value is None else str(value)
    if len(text) >= 19 and text[4] == "-" and text[10] == "T":
        return text[:10] if text.endswith("T00:00:00") else text[:16].replace("T", " ")
    return text[:40]


def computation_html(context_summary: str, max_rows: int = 15) -> str:
    """"How this was computed" under an answer DuckDB computed: the plan in words, the SQL with its
    parameters, and the rows used (the patients counted, for a cohort answer)."""
    try:
        doc = json.loads(context_summary)
    except ValueError:
        return ""
    sql = "<br>".join(html.escape(" ".join(str(s).split())) for s in doc.get("sql", []))
    columns, rows = doc.get("columns", []), doc.get("rows", [])
    table = ""
    if rows and doc.get("plan", {}).get("subject") == "workspace":
        head = "".join(f"<th align='left'>{html.escape(str(c))}</th>" for c in columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
                       for row in rows[:max_rows])
        more = f"<br>… {len(rows) - max_rows} more in the exported table" if len(rows) > max_rows else ""
        table = f"<table cellspacing='0' cellpadding='2' style='font-size:9pt'><tr>{head}</tr>{body}</table>{more}"
    return (f"<div style='margin-left:12px;color:#555;font-size:9pt'><b>How this was computed</b>: "
            f"{html.escape(str(doc.get('plan_in_words', '')))}.<br><span style='font-family:monospace'>{sql}</span>"
            f"<br>Rows used: {len(rows)}{table}</div>")


_MARK = {"unverified": "background:#fff3c4", "contradicted": "background:#ffd6d6;text-decoration:line-through"}


def verdict_html(text: str, verdict_json: str) -> str:
    """The answer with each figure the record does not support marked (yellow: unverified; red, struck
    through: contradicted), its reason in the tooltip."""
    try:
        spans = sorted(json.loads(verdict_json).get("spans", []), key=lambda s: s["start"])
    except (ValueError, KeyError, TypeError):
        return html.escape(text).replace("\n", "<br>")
    out, last = [], 0
    for s in spans:
        if s["status"] == "verified" or s["start"] < last:
            continue
        out.append(html.escape(text[last:s["start"]]))
        out.append(f"<span style='{_MARK.get(s['status'], '')}' title='{html.escape(s['status'] + ': ' + s['reason'])}'>"
                   f"{html.escape(text[s['start']:s['end']])}</span>")
        last = s["end"]
    out.append(html.escape(text[last:]))
    return "".join(out).replace("\n", "<br>")


def verdict_summary_html(verdict_json: str) -> str:
    try:
        doc = json.loads(verdict_json)
    except ValueError:
        return ""
    counts = doc.get("counts", {})
    status = doc.get("status", "")
    colour = {"verified": "#2d6a2d", "unverified": "#8a6d00", "contradicted": "#b00020"}.get(status, "#555")
    reasons = "".join(f"<br>· <b>{html.escape(s['text'])}</b>: {html.escape(s['status'])}, {html.escape(s['reason'])}"
                      for s in doc.get("spans", []) if s.get("status") != "verified")
    return (f"<div style='margin-left:12px;font-size:9pt;color:{colour}'>Checked against the record: "
            f"{counts.get('verified', 0)} verified, {counts.get('unverified', 0)} unverified, "
            f"{counts.get('contradicted', 0)} contradicted{reasons}</div>")
