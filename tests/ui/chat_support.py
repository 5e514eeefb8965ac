"""Fixtures for the chat panel tests: a demo workspace, the DuckDB executor the app uses
(:class:`WorkspaceExecutor`), and the assistant (model owner thread, conversations, turns, model); ``chat_env`` with the real default
model, ``scripted_env`` with :class:`ScriptedEngine` where a real model adds nothing (stop, regenerate, edit,
errors, recovery, warming). Teardown fails the test if a thread is left running."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QThreadPool

from desktop.core.chat.session import ChatSettings, TurnResult
from desktop.core.llm.engine import GenerationStats, SamplingParams
from desktop.core.llm.model_files import default_model_path
from desktop.core.llm.prompt import ChatTemplate
from desktop.core.workspace.executor import WorkspaceExecutor
from desktop.core.workspace.store import open_store
from desktop.ui.chat.chat_assistant import ChatAssistant
from desktop.ui.chat.model_worker import ModelWorker
from desktop.ui.chat.qt_chat_panel import QtChatPanel
from devtools.synthetic.workspaces import seed_demo_patient

# One thread: see tests/core/llm_support.py. Greedy, short answers keep the tests quick.
SETTINGS = ChatSettings(n_threads=1, n_ctx=2048, temperature=0.0, max_tokens=48)


@dataclass
class ChatEnv:
    db: WorkspaceExecutor
    assistant: ChatAssistant
    patient: str
    workspace: Path

    @property
    def worker(self) -> ModelWorker:
        return self.assistant.worker


@dataclass
class ScriptedEngine:
    """Stands in for :class:`desktop.core.llm.engine.Engine` on the model thread: answer ``n`` (1, 2, ...) is
    ``pieces`` words "answer-n-i", one ``pace_s`` apart; ``fail`` makes the next answers raise; ``hold_warm``
    makes a warm-up wait until it is cancelled. Records what it was asked to warm and generate."""

    pieces: int = 5
    pace_s: float = 0.0
    fail: str | None = None
    hold_warm: bool = False
    n_ctx: int = 2048
    load_s: float = 0.0
    chat_template: ChatTemplate = field(default_factory=lambda: ChatTemplate(None))
    prompts: list[list[int]] = field(default_factory=list)
    warmed: list[int] = field(default_factory=list)
    warm_cancelled: list[bool] = field(default_factory=list)
    forgotten: int = 0  # how often the KV cache was dropped (a lock)
    words: list[str] | None = None  # when set, the answer is these words (one per piece) instead

    def tokenize(self, text: str) -> list[int]:
        return [hash(w) % 50000 for w in text.split()]

    def warm(self, tokens: list[int], *, cancel: threading.Event | None = None) -> int:
        self.warmed.append(len(tokens))
        if self.hold_warm and cancel is not None:
            self.warm_cancelled.append(cancel.wait(30))
            return 0
        return len(tokens)

    def generate(self, tokens: list[int], *, params: SamplingParams, on_text: Callable[[str], None],
                 cancel: threading.Event | None = None) -> GenerationStats:
        self.prompts.append(list(tokens))
        if self.fail:
            raise RuntimeError(self.fail)
        n = len(self.prompts)
        stop, made = "eos", 0
        pieces = [w + " " for w in self.words] if self.words else [f"answer-{n}-{i} " for i in range(self.pieces)]
        for piece in pieces:
            if cancel is not None and cancel.is_set():
                stop = "cancelled"
                break
            on_text(piece)
            made += 1
            if self.pace_s:
                time.sleep(self.pace_s)
        return GenerationStats(len(tokens), 0, made, 0.0, 0.001, 0.01, stop)

    def forget(self) -> None:
        self.forgotten += 1

    def close(self) -> None:
        pass


def _env(qtbot, tmp_path: Path, model: Path, load_engine: Callable[..., object] | None) -> ChatEnv:
    workspace = tmp_path / "ws.duckdb"
    store = open_store(workspace)
    patient = seed_demo_patient(store)
    db = WorkspaceExecutor(store)
    worker = None if load_engine is None else ModelWorker(db=db, load_engine=load_engine)
    assistant = ChatAssistant(db=db, model_path=model, settings=SETTINGS, worker=worker)
    qtbot.addWidget(assistant.panel)
    qtbot.waitUntil(lambda: assistant.model.ready, timeout=60000)
    return ChatEnv(db, assistant, patient, workspace)


@pytest.fixture
def scripted_env(qtbot, tmp_path: Path) -> Iterator[tuple[ChatEnv, ScriptedEngine]]:
    engine = ScriptedEngine()
    env = _env(qtbot, tmp_path, Path("scripted.gguf"), lambda _path, _role, _settings: engine)
    try:
        yield env, engine
    finally:
        _close(env)


@pytest.fixture
def chat_env(qtbot, tmp_path: Path) -> Iterator[ChatEnv]:
    model = default_model_path()
    if not model.is_file():
        pytest.fail(f"{model} is missing: run `make default-model` (make test does it first)")
    env = _env(qtbot, tmp_path, model, None)
    try:
        yield env
    finally:
        _close(env)


def _close(env: ChatEnv) -> None:
    # The test may have replaced the parts (a restart); shut down whatever is current.
    thread = env.worker._thread
    assert env.assistant.shutdown(), "the model owner thread did not end"
    assert thread is None or not thread.isRunning()
    env.db.shutdown()
    assert QThreadPool.globalInstance().activeThreadCount() == 0


def open_panel(qtbot, env: ChatEnv) -> QtChatPanel:
    """The env's chat panel, with the env's patient selected and Send usable."""
    panel = env.assistant.panel
    env.assistant.set_patient(env.patient)
    qtbot.waitUntil(lambda: panel.send_button.isEnabled())
    return panel


def ask(qtbot, panel: QtChatPanel, text: str, *, timeout_ms: int = 120000) -> TurnResult:
    """Type ``text`` and click Send, as a user would; returns the finished answer."""
    panel.input.setPlainText(text)
    with qtbot.waitSignal(panel.turns.streamFinished, timeout=timeout_ms) as done:
        qtbot.mouseClick(panel.send_button, Qt.MouseButton.LeftButton)
    return done.args[0]
