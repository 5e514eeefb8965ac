"""Chat previews, for developers: ``python -m desktop.ui.dev.chat_preview panel`` shows the chat panel on
a demo patient; ``python -m desktop.ui.dev.chat_preview worker ["question"]`` streams one answer from the
model owner thread to the console. They live here, not beside the widgets, because they seed demo data
(developer tools the shipped app never imports) and build the whole assistant (which imports the panel).
"""

from __future__ import annotations

import sys
from pathlib import Path

from desktop.core.chat.session import ChatSettings
from desktop.core.chat.turn import ChatTurn, Send
from desktop.ui.chat.model_worker import LoadedModel, ModelWorker
from desktop.ui.dev.preview import seed_demo_patient


def worker_preview() -> int:
    """Console preview: the owner thread answers one question about the demo patient; tokens print as the
    signals arrive on the main thread's event loop. ``python -m desktop.ui.dev.chat_preview worker ["question"]``."""
    import sys
    import tempfile

    from PySide6.QtCore import QCoreApplication, QTimer

    from desktop.core.llm.model_files import default_model_path
    from desktop.core.workspace.executor import WorkspaceExecutor
    from desktop.core.workspace.store import open_store

    app = QCoreApplication(sys.argv)
    question = sys.argv[2] if len(sys.argv) > 2 else "What is the latest systolic blood pressure?"
    tmp = tempfile.TemporaryDirectory(prefix="vitalsight-worker-preview-")
    db = WorkspaceExecutor(open_store(Path(tmp.name) / "preview.duckdb"))
    patient = db.call(seed_demo_patient).result()
    settings = ChatSettings(max_tokens=96)
    worker = ModelWorker(db=db)
    worker.start()

    def ask(_job: int, info: LoadedModel) -> None:
        print(f"[{info.path.name} loaded in {info.load_s:.2f} s]", flush=True)
        worker.turn(patient_id=patient, action=Send(question), conversation_id=None, model_name=info.path.name,
                    settings=settings)

    def done(_job: int, turn: ChatTurn) -> None:
        result = turn.result
        s = result.stats
        print(f"\n[{result.status}" + (f", {s.tokens_per_s:.1f} tokens/s, first token {s.ttft_s:.2f} s" if s else "")
              + "]", flush=True)
        app.quit()

    def failed(_job: int, message: str) -> None:
        print(f"error: {message}", file=sys.stderr)
        app.exit(1)

    worker.modelLoaded.connect(ask)
    worker.modelFailed.connect(failed)
    worker.failed.connect(failed)
    worker.tokens.connect(lambda _job, text: print(text, end="", flush=True))
    worker.finished.connect(done)
    worker.load_model(default_model_path(), settings)
    QTimer.singleShot(120000, lambda: app.exit(2))  # a preview never hangs
    code = app.exec()
    worker.shutdown()
    db.shutdown()
    tmp.cleanup()
    return code


def panel_preview() -> int:
    """A demo patient in a temporary workspace, the default model, the panel on its own."""
    import os
    import sys
    import tempfile

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.core.workspace.executor import WorkspaceExecutor
    from desktop.core.workspace.store import open_store
    from desktop.ui.chat.chat_assistant import ChatAssistant

    app = QApplication(sys.argv)
    tmp = tempfile.TemporaryDirectory(prefix="vitalsight-chat-preview-")
    store = open_store(Path(tmp.name) / "preview.duckdb")
    patient = seed_demo_patient(store)
    db = WorkspaceExecutor(store)
    assistant = ChatAssistant(db=db)
    panel = assistant.panel
    panel.resize(1000, 680)
    panel.setWindowTitle("Vitalsight chat (preview)")
    panel.show()
    assistant.set_patient(patient)

    def shutdown() -> None:  # the order matters: the worker saves its last answer through db
        assistant.shutdown()
        db.shutdown()

    app.aboutToQuit.connect(shutdown)
    question = os.environ.get("VITALSIGHT_PREVIEW_ASK")
    if question:
        def ask() -> None:
            if assistant.model.ready:
                panel.input.setPlainText(question)
                panel._send()
            else:
                QTimer.singleShot(200, ask)
        QTimer.singleShot(300, ask)
    quit_ms = os.environ.get("VITALSIGHT_PREVIEW_QUIT_MS")
    if quit_ms:
        QTimer.singleShot(int(quit_ms), app.quit)
    code = app.exec()
    tmp.cleanup()
    return code


def main(argv: list[str]) -> int:
    which = argv[1] if len(argv) > 1 else "panel"
    if which == "worker":
        return worker_preview()
    if which == "panel":
        return panel_preview()
    print("usage: python -m desktop.ui.dev.chat_preview panel|worker [question]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
