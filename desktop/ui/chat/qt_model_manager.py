"""The model manager dialog: the GGUF files the app can use, importing one, choosing the chat's model."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.llm.model_files import ModelEntry, adapter_description
from desktop.ui.chat.model_control import ChatModel

COLUMNS = ("Name", "Size", "Quantization", "Context", "Chat template", "Checked by", "Status")


class QtModelManager(QDialog):
    def __init__(self, model: ChatModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.entries: list[ModelEntry] = []
        self.setWindowTitle("Models")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.status = QLabel("Reading model files…")
        self.status.setWordWrap(True)
        self.import_button = QPushButton("Import GGUF…")
        self.use_button = QPushButton("Use for chat")
        self.close_button = QPushButton("Close")
        # The project's LoRA adapter (resources/models), loaded over the default model when it is the chat's.
        self.adapter_box = QCheckBox("Use Vitalsight's fine-tuned adapter over the default model")
        self.adapter_box.setChecked(model.settings.use_adapter)
        self.adapter_box.toggled.connect(self._use_adapter)
        # What it is used for and what it measured (its manifest: a small JSON read, no hashing).
        self.adapter_info = QLabel(adapter_description(model.model_path))
        self.adapter_info.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.import_button)
        buttons.addStretch(1)
        buttons.addWidget(self.use_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.adapter_box)
        layout.addWidget(self.adapter_info)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.resize(820, 300)
        self.import_button.clicked.connect(self._import)
        self.use_button.clicked.connect(self._use)
        self.close_button.clicked.connect(self.accept)
        self.refresh()

    def refresh(self) -> None:
        self.model.list_models(self._show)

    def _show(self, entries: list[ModelEntry]) -> None:
        self.entries = entries
        self.table.setRowCount(len(entries))
        current = self.model.model_path.resolve()
        for row, e in enumerate(entries):
            checked = "manifest (sha256)" if e.has_manifest else "trial load on use"
            cells = (e.name + ("  ◀ in use" if e.path.resolve() == current else ""), f"{e.size_bytes / 1e6:.1f} MB",
                     e.quantization or "?", str(e.context_length or "?"), "yes" if e.has_chat_template else "no",
                     checked, e.error or "ok")
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(str(e.path))
                if e.error:
                    item.setForeground(Qt.GlobalColor.darkRed)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        self.status.setText(f"{len(entries)} model file(s).")

    def _use_adapter(self, on: bool) -> None:
        self.model.apply_settings(dataclasses.replace(self.model.settings, use_adapter=on))

    def _import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a GGUF model", "", "GGUF models (*.gguf)")
        if path:
            self.import_gguf(Path(path))

    def import_gguf(self, path: Path) -> None:
        self.status.setText(f"Checking {path.name} (a trial load runs in a separate process)…")
        self.import_button.setEnabled(False)

        def imported(entry: ModelEntry) -> None:
            self.import_button.setEnabled(True)
            self.status.setText(f"Imported {entry.name}.")
            self.refresh()

        def failed(message: str) -> None:
            self.import_button.setEnabled(True)
            self.status.setText(message)

        self.model.import_model(path, imported, failed)

    def _use(self) -> None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        if len(rows) != 1:
            return
        entry = self.entries[rows.pop()]
        if entry.error:
            self.status.setText(entry.error)
            return
        self.model.load(entry.path)
        self.accept()
