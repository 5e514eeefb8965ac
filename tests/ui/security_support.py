"""Helpers for the window security tests: what a person could read on screen, and an encrypted
workspace built through the real importer."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from desktop.core.importers import import_paths
from desktop.core.workspace.crypto import create_encrypted_workspace
from desktop.core.workspace.store import forget_workspace_key

PASSPHRASE = "correct horse battery staple"


def visible_texts(root: QWidget) -> list[str]:
    """Every text a visible widget of ``root`` shows: labels, fields, buttons, and the cells of item
    views (their models' display data), plus the window title."""
    texts = [root.windowTitle()]
    widgets = [root, *root.findChildren(QWidget)]
    for w in widgets:
        if not w.isVisible():
            continue
        if isinstance(w, (QLabel, QLineEdit, QAbstractButton)):
            texts.append(w.text())
        elif isinstance(w, (QTextEdit, QPlainTextEdit)):
            texts.append(w.toPlainText())
        elif isinstance(w, QComboBox):
            texts.append(w.currentText())
        elif isinstance(w, QAbstractItemView) and w.model() is not None:
            model = w.model()
            for r in range(min(model.rowCount(), 500)):
                for c in range(model.columnCount()):
                    value = model.data(model.index(r, c), Qt.ItemDataRole.DisplayRole)
                    if value is not None:
                        texts.append(str(value))
    return texts


def shows(root: QMainWindow, needle: str) -> bool:
    return any(needle in text for text in visible_texts(root))


def encrypted_workspace(path: Path, synthea_folder: Path, passphrase: str = PASSPHRASE) -> Path:
    """An encrypted workspace with the test cohort, closed and its key forgotten (as after a restart)."""
    with create_encrypted_workspace(path, passphrase) as store:
        report = import_paths(store, [synthea_folder])
        assert report.ok, report.to_dict()
    forget_workspace_key()
    return path
