"""The model owner thread: one QObject, moved to one QThread, owns the :class:`Engine` and runs jobs from a
queue (load a model, answer a turn).

Why a queue and a flag rather than queued slots: while the worker is generating, its thread is busy in the
token loop and would never run a queued "stop" slot. Stop sets a ``threading.Event`` that the loop checks
between tokens; new jobs wait in a ``queue.Queue``. Tokens leave by signal, batched to at most
``1 / throttle_s`` signals a second so a fast model cannot flood the GUI's event queue. At ``aboutToQuit``
:meth:`shutdown` stops the current answer, lets it be saved, and joins the thread.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

from desktop.core.chat import history as h
from desktop.core.chat.db import DbCalls
from desktop.core.chat.persist import StreamingSaver
from desktop.core.chat.session import ChatSettings, TurnRequest, TurnResult, finish_turn, run_turn
from desktop.core.llm.engine import Engine
from desktop.core.llm.gguf_info import ModelFileError
from desktop.core.llm.model_files import adapter_for, check_model
from desktop.core.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedModel:
    path: Path
    n_ctx: int
    n_threads: int
    load_s: float


@dataclass(frozen=True)
class _Load:
    job_id: int
    path: Path
    settings: ChatSettings


@dataclass(frozen=True)
class _Generate:
    job_id: int
    request: TurnRequest
    cancel: threading.Event  # one per job: Stop ends this answer and any queued ones
    stream_saves: bool       # False only in the benchmark, to show what saving costs


class ModelWorker(QObject):
    modelLoaded = Signal(int, object)     # job id, LoadedModel
    modelFailed = Signal(int, str)        # job id, message naming the file and the problem
    planReady = Signal(int, object)       # job id, PromptPlan: the context meter can move before tokens come
    tokens = Signal(int, str)             # job id, text (one or more tokens)
    finished = Signal(int, object)        # job id, TurnResult, saved when this is emitted
    failed = Signal(int, str)             # job id, message

    def __init__(self, *, db: DbCalls, throttle_s: float = 1 / 30, save_interval_s: float = 0.0) -> None:
        super().__init__()
        self._db = db
        # 0: every token is offered to the saver (see desktop.core.chat.persist for the trade-off).
        self.save_interval_s = save_interval_s
        self._throttle_s = throttle_s
        self._jobs: queue.Queue[_Load | _Generate | None] = queue.Queue()
        self._ids = itertools.count(1)
        self._cancels: set[threading.Event] = set()
        self._cancels_lock = threading.Lock()
        self._engine: Engine | None = None
        self.last_saves = 0  # streaming writes of the last answer (the benchmark reports it)
        self._thread: QThread | None = None

    # -- called from the GUI thread --------------------------------------------------------------------
    def start(self) -> None:
        thread = QThread()
        thread.setObjectName("model-owner")
        self.moveToThread(thread)
        thread.started.connect(self._run)
        self._thread = thread
        thread.start()

    def load_model(self, path: str | Path, settings: ChatSettings) -> int:
        job = _Load(next(self._ids), Path(path), settings)
        self._jobs.put(job)
        return job.job_id

    def generate(self, request: TurnRequest, *, stream_saves: bool = True) -> int:
        """Queue an answer to ``request`` (its messages already saved by ``prepare_*``). The text is saved
        as it streams and the final state before ``finished`` is emitted."""
        job = _Generate(next(self._ids), request, threading.Event(), stream_saves)
        with self._cancels_lock:
            self._cancels.add(job.cancel)
        self._jobs.put(job)
        return job.job_id

    def stop(self) -> None:
        """Stop the answer being written (and any waiting); it keeps what it has. Safe from any thread."""
        with self._cancels_lock:
            for event in self._cancels:
                event.set()

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Stop, drain, join. Returns False if the thread did not end in time."""
        self.stop()
        self._jobs.put(None)
        thread = self._thread
        if thread is None:
            return True
        thread.quit()
        ok = thread.wait(timeout_ms)
        self._thread = None
        return bool(ok)

    # -- the owner thread ------------------------------------------------------------------------------
    @Slot()
    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                break
            try:
                if isinstance(job, _Load):
                    self._load(job)
                else:
                    self._generate(job)
            except Exception as exc:  # never lose a worker error: it reaches the GUI as a signal
                log.exception("model job %s failed", job.job_id)
                self.failed.emit(job.job_id, f"{type(exc).__name__}: {exc}")
        if self._engine is not None:
            self._engine.close()
            self._engine = None
        self.thread().quit()

    def _load(self, job: _Load) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None
        try:
            check_model(job.path)  # size+sha256 against its manifest, or a trial load in a child process
            adapter = adapter_for(job.path, enabled=job.settings.use_adapter)  # checked against its base
            self._engine = Engine.load(job.path, n_ctx=job.settings.n_ctx, n_threads=job.settings.n_threads,
                                       lora_path=adapter)
        except ModelFileError as exc:
            self.modelFailed.emit(job.job_id, str(exc))
            return
        self.modelLoaded.emit(job.job_id, LoadedModel(job.path, self._engine.n_ctx, job.settings.n_threads,
                                                      self._engine.load_s))

    def _generate(self, job: _Generate) -> None:
        try:
            self._generate_with(job)
        finally:
            with self._cancels_lock:
                self._cancels.discard(job.cancel)

    def _generate_with(self, job: _Generate) -> None:
        engine = self._engine
        if engine is None:
            result = TurnResult(job.request.message_id, "", "failed", error="No model is loaded.")
            self._db.call(lambda store: finish_turn(store, result)).result()
            self.finished.emit(job.job_id, result)
            return
        pending: list[str] = []
        last = 0.0

        def on_text(text: str) -> None:
            nonlocal last
            pending.append(text)
            now = time.perf_counter()
            if now - last >= self._throttle_s:
                last = now
                self.tokens.emit(job.job_id, "".join(pending))
                pending.clear()

        message_id = job.request.message_id

        def save(store: Store, text: str) -> None:
            if job.stream_saves:
                h.update_message_text(store, message_id=message_id, content=text)

        saver = StreamingSaver(self._db, save, min_interval_s=self.save_interval_s)
        result = run_turn(engine, job.request, on_text=on_text, cancel=job.cancel, saver=saver,
                          on_plan=lambda plan: self.planReady.emit(job.job_id, plan))
        if pending:
            self.tokens.emit(job.job_id, "".join(pending))
        self.last_saves = saver.writes
        self._db.call(lambda store: finish_turn(store, result)).result()
        self.finished.emit(job.job_id, result)
