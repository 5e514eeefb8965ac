"""Exports with patient data say so before the file is chosen, and offer a de-identified copy (names
removed, ids replaced, each patient's dates shifted by one random offset: desktop/core/deidentify.py)."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

FULL, DEIDENTIFIED = "full", "deidentified"

NOTICE = (
    "{what} contains patient data (patient ids, dates and values). Anyone who gets the file can "
    "read it: keep it on an encrypted disk and delete it when done. The export is recorded in the "
    "workspace's audit log.\n\nA de-identified export replaces patient ids with pseudonyms and shifts "
    "each patient's dates by a random number of days (intervals and trends are kept)."
)


def ask_export_kind(parent: QWidget | None, what: str) -> str | None:
    """FULL, DEIDENTIFIED, or None when the user cancels."""
    box = QMessageBox(
        QMessageBox.Icon.Information, "Export patient data", NOTICE.format(what=what), parent=parent
    )
    full = box.addButton("Export with patient ids", QMessageBox.ButtonRole.AcceptRole)
    deidentified = box.addButton("Export de-identified", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(deidentified)
    box.exec()
    clicked = box.clickedButton()
    if clicked is full:
        return FULL
    if clicked is deidentified:
        return DEIDENTIFIED
    return None
