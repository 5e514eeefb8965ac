# ruff: noqa: F811  (pytest fixtures imported from the support module, then requested by name)
"""The model owner thread: throttled token signals, draining at quit, the assembled assistant, the preview."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from desktop.core.chat import history as h
from desktop.core.chat.session import ChatSettings, TurnRequest
from desktop.core.chat.turn import Send
from desktop.core.llm.engine import GenerationStats
from desktop.core.llm.prompt import ChatTemplate
from desktop.core.workspace.executor import WorkspaceExecutor
from desktop.core.workspace.store import open_store
from desktop.ui.chat.chat_assistant import ChatAssistant
from desktop.ui.chat.model_worker import ModelWorker
from devtools.synthetic.workspaces import seed_demo_patient
from tests.ui.chat_support import SETTINGS, ChatEnv, ScriptedEngine, chat_env, scripted_env  # noqa: F401  (fixtures)

REPO = Path(__file__).resolve().parents[2]


class BurstEngine:
    """A stand-in engine that produces 2,000 pieces as fast as Python can: only the throttle is under test."""

    n_ctx = 4096
    load_s = 0.0
    chat_template = ChatTemplate(None)

    def tokenize(self, text: str) -> list[int]:
        return list(range(len(text.split())))

    def generate(self, tokens: list[int], *, params: object, on_text: object,
                 cancel: threading.Event | None = None) -> GenerationStats:
        for i in range(2000):
            on_text(f"t{i} ")  # type: ignore[operator]
        return GenerationStats(len(tokens), 0, 2000, 0.0, 0.001, 0.1, "max_tokens")

    def close(self) -> None:
        pass


def test_a_fast_stream_is_throttled_into_few_signals(qtbot, tmp_path: Path) -> None:
    db = WorkspaceExecutor(open_store(tmp_path / "ws.duckdb"))
    patient = db.call(seed_demo_patient).result()
    worker = ModelWorker(db=db, throttle_s=0.05, load_engine=lambda _path, _role, _settings: BurstEngine())
    worker.start()
    chunks: list[str] = []
    worker.tokens.connect(lambda _job, text: chunks.append(text))
    try:
        with qtbot.waitSignal(worker.modelLoaded, timeout=30000):
            worker.load_model("burst.gguf", ChatSettings(n_threads=1))
        with qtbot.waitSignal(worker.finished, timeout=30000) as done:
            worker.turn(patient_id=patient, action=Send("Go"), conversation_id=None, model_name="fake",
                        settings=ChatSettings(n_threads=1, max_tokens=2000))
    finally:
        assert worker.shutdown()
    expected = "".join(f"t{i} " for i in range(2000))
    turn = done.args[1]
    assert "".join(chunks) == expected == turn.result.text
    assert len(chunks) < 200  # 2,000 pieces, far fewer signals
    saved = db.call(lambda store: h.active_messages(store, conversation_id=turn.conversation_id)).result()
    assert saved[-1].content == expected and saved[-1].status == "truncated"
    db.shutdown()


def test_shutdown_mid_answer_stops_and_saves_what_was_written(qtbot, chat_env: ChatEnv) -> None:
    env = chat_env
    seen: list[str] = []
    started: list[TurnRequest] = []
    env.worker.tokens.connect(lambda _job, text: seen.append(text))
    env.worker.started.connect(lambda _job, request: started.append(request))
    env.worker.turn(patient_id=env.patient, action=Send("Write a very long, detailed essay about blood pressure."),
                    conversation_id=None, model_name="m",
                    settings=ChatSettings(n_threads=1, n_ctx=2048, temperature=0.0, max_tokens=1500))
    qtbot.waitUntil(lambda: len("".join(seen)) > 40, timeout=60000)
    assert env.worker.shutdown()  # what aboutToQuit does: returns once the thread has ended
    conversation_id = started[0].conversation_id
    saved = env.db.call(lambda store: h.active_messages(store, conversation_id=conversation_id)).result()
    assert saved[-1].status == "stopped"
    assert saved[-1].content.startswith("".join(seen)[:40])


def test_the_assembled_assistant_answers_and_shuts_down(qtbot, tmp_path: Path) -> None:
    db = WorkspaceExecutor(open_store(tmp_path / "ws.duckdb"))
    patient = db.call(seed_demo_patient).result()
    assistant = ChatAssistant(db=db, settings=SETTINGS)
    qtbot.addWidget(assistant.panel)
    try:
        assistant.set_patient(patient)
        qtbot.waitUntil(lambda: assistant.panel.send_button.isEnabled(), timeout=60000)
        assistant.panel.input.setPlainText("What lifestyle advice could help her?")
        with qtbot.waitSignal(assistant.turns.streamFinished, timeout=120000) as done:
            assistant.panel.send_button.click()
        assert done.args[0].text.strip()
    finally:
        assert assistant.shutdown()
        db.shutdown()


def test_the_worker_preview_runs_on_its_own() -> None:
    proc = subprocess.run([sys.executable, "-m", "desktop.ui.dev.chat_preview", "worker", "Hello"], cwd=REPO,
                          env=dict(os.environ, QT_QPA_PLATFORM="offscreen"), capture_output=True, text=True,
                          timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "loaded in" in proc.stdout and "tokens/s" in proc.stdout


def test_the_window_answers_through_ask_turn(qtbot, scripted_env, monkeypatch) -> None:
    """The panel's question runs as one ask_turn on the model thread (the CLI's and the evaluation's path)."""
    from desktop.core.chat import ask_turn as asking

    calls: list[dict] = []
    real = asking.ask_turn

    def spy(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(asking, "ask_turn", spy)
    env, _engine = scripted_env
    qtbot.waitUntil(lambda: env.assistant.model.ready, timeout=30000)
    env.assistant.set_patient(env.patient)
    with qtbot.waitSignal(env.assistant.turns.answerComputed, timeout=60000) as computed:
        env.assistant.turns.send("What is the latest heart rate?")
    assert computed.args[0].computed and len(calls) == 1 and calls[0]["patient_id"] == env.patient
    assert threading.current_thread() is threading.main_thread()  # the signal was delivered here


def test_quitting_while_the_model_loads_waits_for_the_load_and_leaves_no_thread(qtbot, tmp_path: Path) -> None:
    """Quitting during a load (the screenshot script's views-only run quits before the model is up) used to
    drop the QThread while it ran: Qt aborts the process ("Destroyed while thread is still running")."""
    db = WorkspaceExecutor(open_store(tmp_path / "ws.duckdb"))
    loading, release = threading.Event(), threading.Event()

    def slow_load(_path, _role, _settings) -> ScriptedEngine:
        loading.set()
        release.wait(30)  # a big GGUF being read; nothing can cut it short
        return ScriptedEngine()

    assistant = ChatAssistant(db=db, model_path=Path("big.gguf"), settings=SETTINGS,
                              worker=ModelWorker(db=db, load_engine=slow_load))
    qtbot.addWidget(assistant.panel)
    thread = assistant.worker._thread
    assert thread is not None
    try:
        assert loading.wait(30) and not assistant.model.ready  # quitting now: the load is under way
        # The load ends on its own while quitting waits (in the app, llama.cpp finishing the file).
        threading.Timer(0.3, release.set).start()
        assert assistant.shutdown(warn_after_ms=50)  # waits past its warning instead of giving up
        assert not thread.isRunning() and assistant.worker._thread is None
    finally:
        release.set()
        db.shutdown()
