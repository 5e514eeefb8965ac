"""Fixtures for the chat panel tests: a demo workspace, the DuckDB executor, the model owner thread with the
real default model, and the controller. Teardown fails the test if a thread is left running."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool

from desktop.core.chat.session import ChatSettings
from desktop.core.llm.model_files import default_model_path
from desktop.core.store import open_store
from desktop.core.workspace_executor import WorkspaceExecutor
from desktop.ui.chat.chat_controller import ChatController
from desktop.ui.chat.model_worker import ModelWorker
from devtools.synthetic.workspaces import seed_demo_patient

# One thread: see tests/core/llm_support.py. Greedy, short answers keep the tests quick.
SETTINGS = ChatSettings(n_threads=1, n_ctx=2048, temperature=0.0, max_tokens=48)


@dataclass
class ChatEnv:
    db: WorkspaceExecutor
    worker: ModelWorker
    controller: ChatController
    patient: str
    workspace: Path


@pytest.fixture
def chat_env(qtbot, tmp_path: Path) -> Iterator[ChatEnv]:
    model = default_model_path()
    if not model.is_file():
        pytest.fail(f"{model} is missing: run `make default-model` (make test does it first)")
    workspace = tmp_path / "ws.duckdb"
    store = open_store(workspace)
    patient = seed_demo_patient(store)
    db = WorkspaceExecutor(store)
    worker = ModelWorker(db=db)
    worker.start()
    controller = ChatController(worker=worker, db=db, model_path=model, settings=SETTINGS)
    qtbot.waitUntil(lambda: controller.model_ready, timeout=60000)
    env = ChatEnv(db, worker, controller, patient, workspace)
    try:
        yield env
    finally:
        # The test may have replaced the parts (a restart); shut down whatever is current.
        thread = env.worker._thread
        assert env.worker.shutdown(), "the model owner thread did not end"
        env.controller.close()
        assert thread is None or not thread.isRunning()
        env.db.shutdown()
        assert QThreadPool.globalInstance().activeThreadCount() == 0
