"""The audit trail of window actions, and File > Audit log: the entries, the chain check, CSV export.

Entries go through desktop/core/workspace/audit.py ``record`` on the workspace's database thread, like the
command line's; they carry patient ids at most (never names, values or questions).
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.workspace import audit
from desktop.core.workspace.audit import AuditEntry, ChainCheck
from desktop.core.workspace.store import Store
from desktop.ui.executor import op
from desktop.ui.workspace import Workspace

log = logging.getLogger(__name__)

HEADERS = ("#", "Time (UTC)", "OS user", "Action", "Patient", "Detail")


class AuditTrail:
    """Records window actions in the open workspace's audit log."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.recorded = 0  # entries this window wrote (tests wait on it)

    def record(self, action: str, *, patient_id: str | None = None, detail: str = "") -> None:
        if not self.workspace.is_open:
            return

        def done(_entry: AuditEntry) -> None:
            self.recorded += 1

        def failed(exc: BaseException) -> None:
            # The action has happened; a failed entry is logged (type only) rather than shown mid-work.
            log.warning("audit entry %s not recorded: %s", action, type(exc).__name__)

        (
            op(lambda store: audit.record(store, action=action, patient_id=patient_id, detail=detail))
            .success(done)
            .failure(failed)
            .run(self.workspace.executor)
        )


def write_audit_csv(entries: list[AuditEntry], check: ChainCheck, path: str | Path) -> int:
    """The entries as CSV, with the chain check as a final comment-like row so the file says it."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "sequence",
                "recorded_at_utc",
                "os_user",
                "action",
                "patient_id",
                "detail",
                "previous_hash",
                "entry_hash",
            ]
        )
        for e in entries:
            writer.writerow(
                [
                    e.sequence,
                    e.recorded_at.isoformat(sep=" "),
                    e.os_user,
                    e.action,
                    e.patient_id or "",
                    e.detail,
                    e.previous_hash,
                    e.entry_hash,
                ]
            )
        writer.writerow(
            ["chain", "intact" if check.ok else f"BROKEN: {check.problem}", "", "", "", "", "", ""]
        )
    return len(entries)


def chain_sentence(check: ChainCheck) -> str:
    if check.ok:
        return f"Chain check: intact ({check.entries} entries; none edited or removed)."
    return f"Chain check: BROKEN. {check.problem}. The log was changed outside Vitalsight."


class AuditLogDialog(QDialog):
    """The workspace's audit log, newest last, with the chain check and an export to CSV."""

    def __init__(self, workspace: Workspace, trail: AuditTrail, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Audit log")
        self.resize(980, 560)
        self.workspace = workspace
        self.trail = trail
        self.entries: list[AuditEntry] = []
        self.check: ChainCheck | None = None
        layout = QVBoxLayout(self)
        self.chain_label = QLabel("Reading the audit log…")
        self.chain_label.setWordWrap(True)
        layout.addWidget(self.chain_label)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(len(HEADERS) - 1, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = QPushButton("Export to CSV…")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self.choose_export)
        buttons.addButton(self.export_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.refresh()

    def refresh(self) -> None:
        def read(store: Store) -> tuple[list[AuditEntry], ChainCheck]:
            return audit.read_audit(store), audit.verify_chain(store)

        op(read).success(self._show).run(self.workspace.executor)

    def _show(self, result: tuple[list[AuditEntry], ChainCheck]) -> None:
        self.entries, self.check = result
        self.chain_label.setText(chain_sentence(self.check))
        self.chain_label.setStyleSheet("" if self.check.ok else "color: #b00020; font-weight: bold;")
        self.table.setRowCount(len(self.entries))
        for r, e in enumerate(self.entries):
            cells = (
                str(e.sequence),
                f"{e.recorded_at:%Y-%m-%d %H:%M:%S}",
                e.os_user,
                e.action,
                e.patient_id or "",
                e.detail,
            )
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.table.scrollToBottom()
        self.export_button.setEnabled(True)

    def choose_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export audit log", str(Path.home() / "audit-log.csv"), "CSV (*.csv)"
        )
        if path:
            self.export_to(path)

    def export_to(self, path: str) -> None:
        if self.check is None:
            return
        rows = write_audit_csv(self.entries, self.check, path)
        self.trail.record("data_exported", detail=f"audit log, {rows} entries, to {path}")
        self.chain_label.setText(f"{chain_sentence(self.check)} Exported {rows} entries to {path}.")
