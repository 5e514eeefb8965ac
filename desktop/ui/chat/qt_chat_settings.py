"""A small dialog for :class:`ChatSettings`: threads, context size, temperature, top-p, max tokens."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.core.chat.session import ChatSettings


class QtChatSettingsDialog(QDialog):
    def __init__(self, settings: ChatSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Chat settings")
        self._original = settings
        self.threads = QSpinBox(minimum=1, maximum=64, value=settings.n_threads)
        self.n_ctx = QSpinBox(minimum=256, maximum=131072, singleStep=512, value=settings.n_ctx)
        self.temperature = QDoubleSpinBox(minimum=0.0, maximum=2.0, singleStep=0.05, decimals=2,
                                          value=settings.temperature)
        self.top_p = QDoubleSpinBox(minimum=0.05, maximum=1.0, singleStep=0.05, decimals=2, value=settings.top_p)
        self.max_tokens = QSpinBox(minimum=16, maximum=8192, singleStep=64, value=settings.max_tokens)
        form = QFormLayout()
        form.addRow("Threads", self.threads)
        form.addRow("Context size (tokens)", self.n_ctx)
        form.addRow("Temperature", self.temperature)
        form.addRow("Top-p", self.top_p)
        form.addRow("Max tokens per answer", self.max_tokens)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def value(self) -> ChatSettings:
        return replace(self._original, n_threads=self.threads.value(), n_ctx=self.n_ctx.value(),
                       temperature=round(self.temperature.value(), 2), top_p=round(self.top_p.value(), 2),
                       max_tokens=self.max_tokens.value())
