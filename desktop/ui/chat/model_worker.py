"""The model owner thread: one QObject, moved to one QThread, owns the :class:`Engine` and runs jobs from a
queue: load a model, warm the KV cache for a patient, answer a turn. A turn is
:func:`desktop.core.chat.turn.chat_turn`, the same function the CLI and the benchmark run; it blocks on
``db.call(...).result()`` for its database steps, which run on the one DuckDB thread.

Why a queue and a flag rather than queued slots: while the worker is generating, its thread is busy in the
token loop and would never run a queued "stop" slot. Stop sets a ``threading.Event`` that the loop checks
between tokens; new jobs wait in a ``queue.Queue``. A warm job has its own event, set when a turn is queued
or another patient is selected, so warming never holds up a question for more than one small batch. Tokens
leave by signal, batched to at most ``1 / throttle_s`` signals a second so a fast model cannot flood the
GUI's event queue. At ``aboutToQuit`` :meth:`shutdown` stops the current answer, lets it be saved, and joins
the thread.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

from desktop.core.assistant.model_plan import PLANNER_N_CTX, ModelPlanOutcome, plan_with_model
from desktop.core.chat.db import DbCalls
from desktop.core.trained import patient_context
from desktop.core.chat.session import ChatSettings
from desktop.core.chat.turn import ContextBuilder, TurnAction, chat_turn, warm_turn
from desktop.core.llm.engine import Engine
from desktop.core.llm.gguf_info import ModelFileError
from desktop.core.llm.manifest import CHAT_ROLE, PLANNER_ROLE
from desktop.core.llm.model_files import adapter_for, check_model

log = logging.getLogger(__name__)

EngineLoader = Callable[[Path, ChatSettings], Engine]


def load_checked(path: Path, settings: ChatSettings) -> Engine:
    """Size + sha256 against its manifest (or a trial load in a child process: llama.cpp can abort), then
    load in this process."""
    check_model(path)
    # checked against the base it was trained on; loaded for chat only when the build measured it better there
    adapter = adapter_for(path, enabled=settings.use_adapter, role=CHAT_ROLE)
    return Engine.load(path, n_ctx=settings.n_ctx, n_threads=settings.n_threads, lora_path=adapter)


def load_planner(path: Path, settings: ChatSettings) -> Engine:
    """The planner's own engine over the same (already checked) file, with the project's planner adapter
    when one ships: a small context is enough for its prompt and one question."""
    adapter = adapter_for(path, enabled=settings.use_adapter, role=PLANNER_ROLE)
    return Engine.load(path, n_ctx=PLANNER_N_CTX, n_threads=settings.n_threads, lora_path=adapter)


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
class _Warm:
    job_id: int
    patient_id: str
    cancel: threading.Event


@dataclass(frozen=True)
class _Turn:
    job_id: int
    patient_id: str
    action: TurnAction
    conversation_id: int | None
    model_name: str
    settings: ChatSettings
    cancel: threading.Event  # one per job: Stop ends this answer and any queued ones
    stream_saves: bool       # False only in the benchmark, to show what saving costs


@dataclass(frozen=True)
class _PlanJob:
    job_id: int
    question: str
    patient_id: str | None
    today: date
    cancel: threading.Event


_FORGET = object()  # a job: clear the KV cache


class ModelWorker(QObject):
    modelLoaded = Signal(int, object)     # job id, LoadedModel
    modelFailed = Signal(int, str)        # job id, message naming the file and the problem
    started = Signal(int, object)         # job id, TurnRequest: the question and the empty answer are saved
    planReady = Signal(int, object)       # job id, PromptPlan: the context meter can move before tokens come
    tokens = Signal(int, str)             # job id, text (one or more tokens)
    finished = Signal(int, object)        # job id, ChatTurn, saved and verified when this is emitted
    failed = Signal(int, str)             # job id, message
    warmed = Signal(int, str, int)        # job id, patient id, prompt tokens now in the KV cache
    checked = Signal(int, object)         # job id, [Span]: sentences judged against the record while streaming
    planned = Signal(int, object)         # job id, ModelPlanOutcome: the model's plan of a question, checked

    def __init__(self, *, db: DbCalls, throttle_s: float = 1 / 30, save_interval_s: float = 0.0,
                 load_engine: EngineLoader = load_checked, load_planner: EngineLoader = load_planner,
                 build_context: ContextBuilder = patient_context) -> None:
        super().__init__()
        self._db = db
        # 0: every token is offered to the saver (see desktop.core.chat.persist for the trade-off).
        self.save_interval_s = save_interval_s
        self._throttle_s = throttle_s
        self._load_engine = load_engine
        self._load_planner = load_planner
        self._build_context = build_context
        self._jobs: queue.Queue[_Load | _Warm | _Turn | _PlanJob | None] = queue.Queue()
        self._ids = itertools.count(1)
        self._cancels: set[threading.Event] = set()
        self._warm_cancels: set[threading.Event] = set()
        self._cancels_lock = threading.Lock()
        self._engine: Engine | None = None
        # The planner runs its own small-context engine on this thread: its few-shot prompt would otherwise
        # evict the chat's warmed patient context from the KV cache. Loaded at the first question it plans.
        self._planner: Engine | None = None
        self._loaded: _Load | None = None
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
        self.cancel_warming()
        job = _Load(next(self._ids), Path(path), settings)
        self._jobs.put(job)
        return job.job_id

    def warm(self, patient_id: str) -> int:
        """Evaluate this patient's prompt prefix in the background; replaces any warming not yet done."""
        job = _Warm(next(self._ids), patient_id, threading.Event())
        self.cancel_warming()
        with self._cancels_lock:
            self._warm_cancels.add(job.cancel)
        self._jobs.put(job)
        return job.job_id

    def cancel_warming(self) -> None:
        with self._cancels_lock:
            for event in self._warm_cancels:
                event.set()

    def turn(self, *, patient_id: str, action: TurnAction, conversation_id: int | None, model_name: str,
             settings: ChatSettings, stream_saves: bool = True) -> int:
        """Queue one chat turn; warming in progress gives way to it at once."""
        job = _Turn(next(self._ids), patient_id, action, conversation_id, model_name, settings, threading.Event(),
                    stream_saves)
        self.cancel_warming()
        with self._cancels_lock:
            self._cancels.add(job.cancel)
        self._jobs.put(job)
        return job.job_id

    def plan(self, *, question: str, patient_id: str | None, today: date) -> int:
        """Ask the model for the plan of a question the exact parser was unsure of (``planned`` answers)."""
        job = _PlanJob(next(self._ids), question, patient_id, today, threading.Event())
        self.cancel_warming()
        with self._cancels_lock:
            self._cancels.add(job.cancel)
        self._jobs.put(job)
        return job.job_id

    def forget_context(self) -> None:
        """Drop the model's KV cache (the last prompt, patient data included) on its thread: the window locked."""
        self._jobs.put(_FORGET)  # type: ignore[arg-type]

    def stop(self) -> None:
        """Stop the answer being written (and any waiting); it keeps what it has. Safe from any thread."""
        with self._cancels_lock:
            for event in self._cancels | self._warm_cancels:
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
                if job is _FORGET:
                    for engine in (self._engine, self._planner):
                        if engine is not None:
                            engine.forget()
                elif isinstance(job, _Load):
                    self._load(job)
                elif isinstance(job, _Warm):
                    self._warm(job)
                elif isinstance(job, _PlanJob):
                    self._plan(job)
                else:
                    self._turn(job)
            except Exception as exc:  # never lose a worker error: it reaches the GUI as a signal
                log.exception("model job %s failed", job.job_id)
                self.failed.emit(job.job_id, f"{type(exc).__name__}: {exc}")
            finally:
                with self._cancels_lock:
                    if isinstance(job, (_Turn, _PlanJob)):
                        self._cancels.discard(job.cancel)
                    elif isinstance(job, _Warm):
                        self._warm_cancels.discard(job.cancel)
        self._close_planner()
        if self._engine is not None:
            self._engine.close()
            self._engine = None
        self.thread().quit()

    def _load(self, job: _Load) -> None:
        self._close_planner()
        self._loaded = job
        if self._engine is not None:
            self._engine.close()
            self._engine = None
        try:
            self._engine = self._load_engine(job.path, job.settings)
        except ModelFileError as exc:
            self.modelFailed.emit(job.job_id, str(exc))
            return
        self.modelLoaded.emit(job.job_id, LoadedModel(job.path, self._engine.n_ctx, job.settings.n_threads,
                                                      self._engine.load_s))

    def _warm(self, job: _Warm) -> None:
        engine = self._engine
        if engine is None or job.cancel.is_set():
            return
        try:
            n = warm_turn(db=self._db, engine=engine, patient_id=job.patient_id, cancel=job.cancel,
                          build_context=self._build_context)
        except LookupError:
            return  # the patient is not in this workspace (any more): nothing to warm
        except Exception:  # warming only saves time: a failure costs the first question its head start
            log.exception("warming the model for patient %s failed", job.patient_id)
            return
        if not job.cancel.is_set():
            self.warmed.emit(job.job_id, job.patient_id, n)

    def _plan(self, job: _PlanJob) -> None:
        try:
            if self._planner is None:
                if self._engine is None or self._loaded is None:
                    raise ModelFileError("no model is loaded")
                self._planner = self._load_planner(self._loaded.path, self._loaded.settings)
            outcome = plan_with_model(self._planner, question=job.question, patient_id=job.patient_id,
                                      today=job.today, cancel=job.cancel)
        except Exception as exc:  # noqa: BLE001 (the parser's plan still runs, marked: the planner only helps)
            log.warning("the model planner failed: %s", type(exc).__name__)
            outcome = ModelPlanOutcome(None, reason=f"the on-device planner could not run ({type(exc).__name__})")
        self.planned.emit(job.job_id, outcome)

    def _close_planner(self) -> None:
        if self._planner is not None:
            self._planner.close()
            self._planner = None

    def _engine_now(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("No model is loaded.")
        return self._engine

    def _turn(self, job: _Turn) -> None:
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

        def on_started(request: object) -> None:
            self.started.emit(job.job_id, request)

        def on_checked(spans: list[object]) -> None:
            if pending:  # the text a span points into reaches the GUI before the span does
                self.tokens.emit(job.job_id, "".join(pending))
                pending.clear()
            self.checked.emit(job.job_id, spans)

        turn = chat_turn(db=self._db, get_engine=self._engine_now, patient_id=job.patient_id, action=job.action,
                         model_name=job.model_name, settings=job.settings, on_text=on_text,
                         conversation_id=job.conversation_id, cancel=job.cancel,
                         build_context=self._build_context, on_started=on_started,
                         on_plan=lambda plan: self.planReady.emit(job.job_id, plan),
                         stream_saves=job.stream_saves, save_interval_s=self.save_interval_s,
                         on_checked=on_checked)
        if pending:
            self.tokens.emit(job.job_id, "".join(pending))
        self.finished.emit(job.job_id, turn)
