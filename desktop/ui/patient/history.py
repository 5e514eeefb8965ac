"""Allergies and active medications in two compact lines above the vitals table, the rest behind "show all".

Allergies come first and stand out (a red band, the word ALLERGIES, severe reactions named): it is what a
clinician must not miss before prescribing. The block never grows with the record: the vitals table below
keeps its place at 1366x768 however many medications a patient has; the full lists (past medications,
procedures, immunizations) open in a separate window.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel, QTextBrowser, QVBoxLayout, QWidget

from desktop.core.queries.medications import Allergy, Event, Medication, PatientHistory

SHOWN_MEDICATIONS = 3  # on the compact line; the count says how many there are
ALLERGY_STYLE = "background:#ffe0e0; border:1px solid #c00000; padding:2px 4px;"
NO_ALLERGY_STYLE = "padding:2px 4px;"


def _day(value: object) -> str:
    return str(value)[:10]


def allergy_html(a: Allergy) -> str:
    kind = f" ({escape(a.allergy_type)})" if a.allergy_type and a.allergy_type != "allergy" else ""
    reaction = escape(a.reaction_text())
    text = f"<b>{escape(a.substance)}</b>{kind}" + (f" — {reaction}" if reaction else "")
    return f"<span style='color:#a00000'>{text}</span>" if a.severe else text


def medication_text(m: Medication, *, with_dates: bool = False) -> str:
    text = escape(m.description)
    if with_dates:
        stop = f" to {_day(m.stopped_at)}" if m.stopped_at else " (not stopped)"
        text += f", from {_day(m.started_at)}{stop}"
        if m.reason:
            text += f"; for {escape(m.reason)}"
    return text


class QtPatientHistory(QWidget):
    """The compact block; ``show_history(None)`` clears it (no patient, or a workspace without the tables)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.allergies = QLabel()
        self.allergies.setTextFormat(Qt.TextFormat.RichText)
        self.allergies.setWordWrap(True)
        self.medications = QLabel()
        self.medications.setTextFormat(Qt.TextFormat.RichText)
        self.medications.setWordWrap(True)
        self.medications.linkActivated.connect(lambda _link: self.show_all())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        layout.setSpacing(2)
        layout.addWidget(self.allergies)
        layout.addWidget(self.medications)
        self.history: PatientHistory | None = None
        self.patient_name = ""
        self.dialog: QDialog | None = None
        self.setVisible(False)

    def show_history(self, history: PatientHistory | None, patient_name: str = "") -> None:
        self.history = history
        self.patient_name = patient_name
        if self.dialog is not None:
            self.dialog.close()
        if history is None:
            self.setVisible(False)
            return
        self.setVisible(True)
        self.allergies.setText(self._allergies_line(history))
        self.allergies.setStyleSheet(ALLERGY_STYLE if history.allergies else NO_ALLERGY_STYLE)
        self.medications.setText(self._medications_line(history))

    @staticmethod
    def _allergies_line(h: PatientHistory) -> str:
        if not h.allergies:
            return "<b>Allergies:</b> none recorded"
        severe = sum(a.severe for a in h.allergies)
        head = f"<b>⚠ ALLERGIES ({len(h.allergies)}{f', {severe} severe' if severe else ''}):</b> "
        return head + "; ".join(allergy_html(a) for a in h.allergies)

    @staticmethod
    def _medications_line(h: PatientHistory) -> str:
        as_of = f", as of {_day(h.as_of)}" if h.as_of else ""
        active = h.active_medications
        shown = "; ".join(medication_text(m) for m in active[:SHOWN_MEDICATIONS])
        more = f"; … {len(active) - SHOWN_MEDICATIONS} more" if len(active) > SHOWN_MEDICATIONS else ""
        body = f"{shown}{more}" if active else "none recorded"
        extras = len(h.past_medications) + h.procedures_total + h.immunizations_total
        link = " &nbsp;<a href='show-all'>show all</a>" if active or extras else ""
        return f"<b>Active medications ({len(active)}{as_of}):</b> {body}{link}"

    def full_html(self) -> str:
        """Every list, for the "show all" window."""
        h = self.history
        if h is None:
            return ""
        parts = [f"<h3>{escape(self.patient_name)}</h3>" if self.patient_name else "",
                 f"<p>Judged at the workspace's latest date: {_day(h.as_of)}.</p>" if h.as_of else ""]
        parts.append(f"<h4>Allergies and intolerances ({len(h.allergies)})</h4>")
        parts.append(_list([allergy_html(a) + f", recorded {_day(a.recorded_on)}" for a in h.allergies]))
        parts.append(f"<h4>Active medications ({len(h.active_medications)})</h4>")
        parts.append(_list([medication_text(m, with_dates=True) for m in h.active_medications]))
        parts.append(f"<h4>Past medications ({len(h.past_medications)})</h4>")
        parts.append(_list([medication_text(m, with_dates=True) for m in h.past_medications]))
        parts.append(_events_html("Procedures", h.recent_procedures, h.procedures_total))
        parts.append(_events_html("Immunizations", h.recent_immunizations, h.immunizations_total))
        return "".join(parts)

    def show_all(self) -> QDialog:
        if self.dialog is None:
            self.dialog = QDialog(self)
            self.dialog.resize(640, 520)
            self.dialog_text = QTextBrowser(self.dialog)
            layout = QVBoxLayout(self.dialog)
            layout.addWidget(self.dialog_text)
        self.dialog.setWindowTitle(f"Medications, allergies and history — {self.patient_name}".rstrip(" —"))
        self.dialog_text.setHtml(self.full_html())
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog


def _list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>" if items else "<p>None recorded.</p>"


def _events_html(title: str, events: list[Event], total: int) -> str:
    shown = f", the {len(events)} most recent" if total > len(events) else ""
    items = [f"{_day(e.at)}: {escape(e.description)}" + (f" (for {escape(e.reason)})" if e.reason else "")
             for e in events]
    return f"<h4>{title} ({total}{shown})</h4>" + _list(items)
