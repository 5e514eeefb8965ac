"""The model owner thread: one QObject, moved to one QThread, owns the :class:`Engine` and runs jobs from a
queue: load a model, warm the KV cache for a patient, answer a question, regenerate or edit an answer. A
question is :func:`desktop.core.chat.ask_turn.ask_turn`, the same function the CLI, the evaluations and the
benchmark run (parse, plan when the parser is unsure, compute or stream); a regenerate or an edit is
:func:`desktop.core.chat.turn.chat_turn`. Both block on ``db.call(...).result()`` for their database steps,
which run on the one DuckDB thread; their events leave as signals.

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
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

from desktop.core.assistant.verify import Span
from desktop.core.chat import ask_turn as asking
from desktop.core.chat.db import DbCalls
from desktop.core.chat.persist import SAVE_INTERVAL_S
from desktop.core.chat.session import ChatSettings
from desktop.core.chat.turn import ContextBuilder, TurnAction, chat_turn, warm_turn
from desktop.core.llm.engine import Engine
from desktop.core.llm.gguf_info import ModelFileError
from desktop.core.llm.load import load_engine
from desktop.core.llm.manifest import CHAT_ROLE, PLANNER_ROLE
from desktop.core.trained import patient_context

log = logging.getLogger(__name__)

EngineLoader = Callable[[Path, str, ChatSettings], Engine]  # load_engine(path, role, settings)


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
class _Ask:
    job_id: int
    question: str
    patient_id: str | None
    conversation_id: int | None
    model_name: str
    settings: ChatSettings
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
    computed = Signal(int, object, int)   # job id, Answer computed by DuckDB, conversation id (both saved)
    notAnswered = Signal(int, object)     # job id, Answer whose text says why nothing answers it

    def __init__(self, *, db: DbCalls, throttle_s: float = 1 / 30, save_interval_s: float = SAVE_INTERVAL_S,
                 load_engine: EngineLoader = load_engine, build_context: ContextBuilder = patient_context) -> None:
        super().__init__()
        self._db = db
        # the streaming text is written at most this often (desktop.core.chat.persist: the trade-off)
        self.save_interval_s = save_interval_s
        self._throttle_s = throttle_s
        self._load_engine = load_engine
        self._build_context = build_context
        self._jobs: queue.Queue[_Load | _Warm | _Turn | _Ask | None] = queue.Queue()
        self._ids = itertools.count(1)
        self._cancels: set[threading.Event] = set()
        self._warm_cancels: set[threading.Event] = set()
        self._cancels_lock = threading.Lock()
        self._engine: Engine | None = None
        # The planner runs its own small-context engine on this thread: its few-shot prompt would otherwise
        # evict the chat's warmed patient context from the KV cache. Loaded at the first question it plans.
        self._planner: Engine | None = None
        self._loaded: _Load | None = None
        self._loading: Path | None = None  # the file being loaded now (for the log, if quitting waits on it)
        self._thread: QThread | None = None

    # -- called from the GUI thread --------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return  # already running
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

    def ask(self, *, question: str, patient_id: str | None, conversation_id: int | None, model_name: str,
            settings: ChatSettings) -> int:
        """Queue one question (:func:`~desktop.core.chat.ask_turn.ask_turn`); warming gives way to it."""
        job = _Ask(next(self._ids), question, patient_id, conversation_id, model_name, settings, threading.Event())
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

    def shutdown(self, warn_after_ms: int = 10000) -> bool:
        """Stop, drain, join: returns once the thread has ended (True), however long that takes.

        An answer or a warm-up stops between tokens, and waiting jobs are dropped, but a model load cannot be
        cut short (llama.cpp reads the file in one call): quitting during one waits for it, saying so in the
        log after ``warn_after_ms``. Never giving up matters: a QThread destroyed while it runs aborts the
        whole process ("QThread: Destroyed while thread is still running")."""
        self.stop()
        self._drop_waiting_jobs()
        self._jobs.put(None)
        thread = self._thread
        if thread is None:
            return True
        thread.quit()
        if not thread.wait(warn_after_ms):
            log.warning("quitting waits for the model thread (%s)",
                        f"loading {self._loading.name}" if self._loading else "its current job")
            thread.wait()
        self._thread = None
        return not thread.isRunning()

    def _drop_waiting_jobs(self) -> None:
        """Jobs queued but not started will never be wanted: the app is quitting."""
        while True:
            try:
                self._jobs.get_nowait()
            except queue.Empty:
                return

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
                elif isinstance(job, _Ask):
                    self._ask(job)
                else:
                    self._turn(job)
            except Exception as exc:  # never lose a worker error: it reaches the GUI as a signal
                log.exception("model job %s failed", job.job_id)
                self.failed.emit(job.job_id, f"{type(exc).__name__}: {exc}")
            finally:
                with self._cancels_lock:
                    if isinstance(job, (_Turn, _Ask)):
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
        self._loading = job.path
        try:
            self._engine = self._load_engine(job.path, CHAT_ROLE, job.settings)
        except ModelFileError as exc:
            self.modelFailed.emit(job.job_id, str(exc))
            return
        finally:
            self._loading = None
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

    def _planner_now(self) -> Engine:
        """The planner's own small-context engine over the loaded file, loaded at the first plan."""
        if self._planner is None:
            if self._engine is None or self._loaded is None:
                raise ModelFileError("no model is loaded")
            self._planner = self._load_engine(self._loaded.path, PLANNER_ROLE, self._loaded.settings)
        return self._planner

    def _close_planner(self) -> None:
        if self._planner is not None:
            self._planner.close()
            self._planner = None

    def _engine_now(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("No model is loaded.")
        return self._engine

    def _stream(self, job_id: int) -> tuple[Callable[[str], None], Callable[[list[Span]], None], Callable[[], None]]:
        """(on_text, on_checked, flush): tokens leave batched, at most ``1 / throttle_s`` signals a second."""
        pending: list[str] = []
        last = 0.0

        def on_text(text: str) -> None:
            nonlocal last
            pending.append(text)
            now = time.perf_counter()
            if now - last >= self._throttle_s:
                last = now
                flush()

        def flush() -> None:
            if pending:
                self.tokens.emit(job_id, "".join(pending))
                pending.clear()

        def on_checked(spans: list[Span]) -> None:
            flush()  # the text a span points into reaches the GUI before the span does
            self.checked.emit(job_id, spans)

        return on_text, on_checked, flush

    def _ask(self, job: _Ask) -> None:
        on_text, on_checked, flush = self._stream(job.job_id)
        engine_loaded = self._engine is not None

        def on_event(event: asking.TurnEvent) -> None:
            if isinstance(event, asking.Streamed):
                on_text(event.text)
            elif isinstance(event, asking.Checked):
                on_checked(list(event.spans))
            elif isinstance(event, asking.Started):
                self.started.emit(job.job_id, event.request)
            elif isinstance(event, asking.PromptReady):
                self.planReady.emit(job.job_id, event.plan)
            elif isinstance(event, asking.Planned):
                self.planned.emit(job.job_id, event.outcome)
            elif isinstance(event, asking.Computed):
                self.computed.emit(job.job_id, event.answer, event.conversation_id)
            elif isinstance(event, asking.NotAnswered):
                self.notAnswered.emit(job.job_id, event.answer)
            elif isinstance(event, asking.Saved):
                flush()
                self.finished.emit(job.job_id, event.turn)

        asking.ask_turn(db=self._db, question=job.question, patient_id=job.patient_id, settings=job.settings,
                        model_name=job.model_name, chat_engine=self._engine_now if engine_loaded else None,
                        planner=self._planner_now if engine_loaded else None,
                        conversation_id=job.conversation_id, on_event=on_event, cancel=job.cancel,
                        build_context=self._build_context, save_interval_s=self.save_interval_s)

    def _turn(self, job: _Turn) -> None:
        on_text, on_checked, flush = self._stream(job.job_id)
        turn = chat_turn(db=self._db, get_engine=self._engine_now, patient_id=job.patient_id, action=job.action,
                         model_name=job.model_name, settings=job.settings, on_text=on_text,
                         conversation_id=job.conversation_id, cancel=job.cancel,
                         build_context=self._build_context,
                         on_started=lambda request: self.started.emit(job.job_id, request),
                         on_plan=lambda plan: self.planReady.emit(job.job_id, plan),
                         stream_saves=job.stream_saves, save_interval_s=self.save_interval_s,
                         on_checked=on_checked)
        flush()
        self.finished.emit(job.job_id, turn)
