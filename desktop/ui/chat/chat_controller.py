"""The chat panel's model: which patient and conversation are shown, and the traffic between the GUI, the
DuckDB executor and the model owner thread. It holds ids and the text being streamed, nothing else: every
message lives in the workspace, and the view asks for it again after each change.

Everything here runs on the GUI thread. Workspace calls go to the one DuckDB thread through ``db.call``;
their results come back through a queued signal (``_Relay``), so no callback touches a widget from
another thread.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from desktop.core.assistant.answer import Answer
from desktop.core.assistant.ask import answer_question
from desktop.core.chat import history as h
from desktop.core.chat.db import DbCalls
from desktop.core.chat.export import conversation_markdown
from desktop.core.chat.patient_context import patient_context
from desktop.core.chat.session import (
    ChatSettings,
    TurnRequest,
    TurnResult,
    prepare_edit,
    prepare_regenerate,
    prepare_send,
)
from desktop.core.chat.turn import WORKSPACE_SUBJECT, computed_turn, verify_answer
from desktop.core.llm.model_files import ModelEntry, import_model, scan_models
from desktop.core.llm.prompt import PromptPlan
from desktop.core.store import Store
from desktop.ui.chat.model_worker import LoadedModel, ModelWorker
from desktop.ui.taskman import TaskManager


class ChatController(QObject):
    conversationsChanged = Signal(list)   # [Conversation]
    conversationSelected = Signal(object) # conversation id or None
    messagesChanged = Signal(list)        # [Message], the active conversation
    streamStarted = Signal(int)           # assistant message id
    streamText = Signal(str)              # text to append to it
    streamFinished = Signal(object)       # TurnResult
    busyChanged = Signal(bool)
    contextChanged = Signal(int, int, int)  # tokens used, context size, earlier messages left out
    statsChanged = Signal(str)            # "… tokens/s · first token … s" after each answer
    modelChanged = Signal(str)            # a line describing the loaded model
    settingsChanged = Signal(object)      # ChatSettings; desktop/ui/app.py persists it in AppSettings
    errorRaised = Signal(str)
    answerComputed = Signal(object)       # Answer: figures DuckDB computed, with how (plan, SQL, rows)
    answerVerified = Signal(object)       # Verdict on the model's last answer, saved with it

    def __init__(self, *, worker: ModelWorker, db: DbCalls, model_path: Path, settings: ChatSettings | None = None,
                 context_provider: Callable[[Store, str], str] = patient_context,
                 tasks: TaskManager | None = None) -> None:
        super().__init__()
        self._worker = worker
        self._dbcalls = db
        self._context_provider = context_provider
        self.settings = settings or ChatSettings()
        self.model_path = Path(model_path)
        self.patient_id: str | None = None
        self.conversation_id: int | None = None
        self.streaming_message_id: int | None = None
        self.streaming_text = ""              # the answer being written, as far as it has come
        self.messages: list[h.Message] = []   # the active conversation as last read from the workspace
        self.model_ready = False
        self._preparing = False  # between Send and the worker taking the job
        self._load_job = 0
        self._gen_job = 0
        # The window's task manager (its one relay and background pool); a controller on its own owns one.
        self._owns_tasks = tasks is None
        self._tasks = tasks or TaskManager(parent=self)
        worker.modelLoaded.connect(self._on_model_loaded)
        worker.modelFailed.connect(self._on_model_failed)
        worker.planReady.connect(self._on_plan)
        worker.tokens.connect(self._on_tokens)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        self._db(h.recover_interrupted)
        self.load_model()

    # -- plumbing --------------------------------------------------------------------------------------
    def _db(self, fn: Callable[[Store], Any], on_ok: Callable[[Any], None] | None = None) -> None:
        self._tasks.watch(self._dbcalls.call(fn), lambda f: self._on_done(f, on_ok, None))

    def _on_done(self, fut: Future[Any], on_ok: Callable[[Any], None] | None,
                 on_error: Callable[[str], None] | None) -> None:
        if fut.cancelled():
            return  # the workspace closed (app quitting) before this ran: nothing to show
        exc = fut.exception()
        if exc is not None:
            message = str(exc) or type(exc).__name__
            if on_error is not None:
                on_error(message)
                return
            if self.streaming_message_id is None:
                self._set_busy(False)
            self.errorRaised.emit(message)
        elif on_ok is not None:
            on_ok(fut.result())

    @property
    def busy(self) -> bool:
        return self.streaming_message_id is not None or self._preparing

    def _set_busy(self, preparing: bool) -> None:
        self._preparing = preparing
        self.busyChanged.emit(self.busy)

    # -- model -----------------------------------------------------------------------------------------
    def load_model(self, path: Path | None = None) -> None:
        if path is not None:
            self.model_path = Path(path)
        self.model_ready = False
        self.busyChanged.emit(self.busy)  # the buttons follow model_ready too
        self.modelChanged.emit(f"Loading {self.model_path.name}…")
        self._load_job = self._worker.load_model(self.model_path, self.settings)

    def apply_settings(self, settings: ChatSettings) -> None:
        problems = settings.problems()
        if problems:
            self.errorRaised.emit("; ".join(problems))
            return
        reload = ((settings.n_ctx, settings.n_threads, settings.use_adapter)
                  != (self.settings.n_ctx, self.settings.n_threads, self.settings.use_adapter))
        self.settings = settings
        self.settingsChanged.emit(settings)
        if reload:
            self.load_model()

    @Slot(int, object)
    def _on_model_loaded(self, job: int, info: LoadedModel) -> None:
        if job != self._load_job:
            return
        self.model_ready = True
        self.modelChanged.emit(f"{info.path.name} · context {info.n_ctx} · {info.n_threads} thread{'s' if info.n_threads != 1 else ''} · "
                               f"loaded in {info.load_s:.2f} s")
        self.busyChanged.emit(self.busy)

    @Slot(int, str)
    def _on_model_failed(self, job: int, message: str) -> None:
        if job == self._load_job:
            self.modelChanged.emit("No model loaded")
            self.busyChanged.emit(self.busy)
            self.errorRaised.emit(message)

    # -- patient and conversations ---------------------------------------------------------------------
    def set_patient(self, patient_id: str | None) -> None:
        if self.busy:
            self.stop()
        self.patient_id = patient_id
        self.conversation_id = None
        self.conversationSelected.emit(None)
        self.messages = []
        self.messagesChanged.emit([])
        self.refresh_conversations(select_first=True)

    def refresh_conversations(self, *, select_first: bool = False) -> None:
        pid = self.patient_id or WORKSPACE_SUBJECT  # no patient selected: the conversations about the workspace

        def shown(convs: list[h.Conversation]) -> None:
            self.conversationsChanged.emit(convs)
            if select_first and convs and self.conversation_id is None:
                self.select_conversation(convs[0].conversation_id)

        self._db(lambda store: h.list_conversations(store, patient_id=pid), shown)

    def new_conversation(self) -> None:
        pid = self.patient_id or WORKSPACE_SUBJECT

        def created(conv: h.Conversation) -> None:
            self.refresh_conversations()
            self.select_conversation(conv.conversation_id)

        self._db(lambda store: h.create_conversation(store, patient_id=pid), created)

    def select_conversation(self, conversation_id: int | None) -> None:
        self.conversation_id = conversation_id
        self.conversationSelected.emit(conversation_id)
        self.reload_messages()

    def reload_messages(self) -> None:
        cid = self.conversation_id
        if cid is None:
            self.messages = []
            self.messagesChanged.emit([])
            return
        self._db(lambda store: h.active_messages(store, conversation_id=cid), lambda msgs: self._show(cid, msgs))

    def _show(self, cid: int, msgs: list[h.Message]) -> None:
        if cid == self.conversation_id:
            self.messages = msgs
            self.messagesChanged.emit(msgs)

    def last_user_message(self) -> h.Message | None:
        return next((m for m in reversed(self.messages) if m.role == "user"), None)

    # -- turns -----------------------------------------------------------------------------------------
    def send(self, text: str) -> None:
        """A question about the data is answered from the workspace (DuckDB computes every figure); only the
        rest goes to the model."""
        text = text.strip()
        if not text or self.busy:
            return
        pid, cid = self.patient_id, self.conversation_id

        def on_db(store: Store) -> tuple[int | None, Answer]:
            answer = answer_question(store, question=text, patient_id=pid)
            if not answer.computed:
                return None, answer
            return computed_turn(store, patient_id=pid, question=text, answer=answer, conversation_id=cid), answer

        self._db(on_db, lambda result: self._on_computed(text, result))

    def _on_computed(self, text: str, result: tuple[int | None, Answer]) -> None:
        conv, answer = result
        if conv is None:
            if self.patient_id is None:
                self.errorRaised.emit(answer.text)
            else:
                self._model_send(text)
            return
        if conv != self.conversation_id:
            self.conversation_id = conv
            self.conversationSelected.emit(conv)
        self.refresh_conversations()
        self.reload_messages()
        self.answerComputed.emit(answer)

    def _model_send(self, text: str) -> None:
        self._turn(lambda store, cid, ctx: prepare_send(store, conversation_id=cid, user_text=text,
                                                        model_name=self.model_path.name, context_text=ctx,
                                                        settings=self.settings))

    def regenerate(self) -> None:
        self._turn(lambda store, cid, ctx: prepare_regenerate(store, conversation_id=cid,
                                                              model_name=self.model_path.name, context_text=ctx,
                                                              settings=self.settings), need_conversation=True)

    def edit_and_resend(self, message_id: int, text: str) -> None:
        text = text.strip()
        if not text:
            return
        self._turn(lambda store, cid, ctx: prepare_edit(store, conversation_id=cid, message_id=message_id,
                                                        new_text=text, model_name=self.model_path.name,
                                                        context_text=ctx, settings=self.settings),
                   need_conversation=True)

    def _turn(self, prepare: Callable[[Store, int, str], TurnRequest], *, need_conversation: bool = False) -> None:
        pid = self.patient_id
        if pid is None:
            self.errorRaised.emit("Select a patient first.")
            return
        if self.busy:
            return
        if not self.model_ready:
            self.errorRaised.emit("The model is not loaded yet.")
            return
        if need_conversation and self.conversation_id is None:
            return
        cid = self.conversation_id
        self._set_busy(True)

        def on_db(store: Store) -> tuple[int, TurnRequest]:
            conv = cid if cid is not None else h.create_conversation(store, patient_id=pid).conversation_id
            return conv, prepare(store, conv, self._context_provider(store, pid))

        self._db(on_db, self._start_stream)

    def _start_stream(self, prepared: tuple[int, TurnRequest]) -> None:
        conv, request = prepared
        new = conv != self.conversation_id
        self.conversation_id = conv
        if new:
            self.conversationSelected.emit(conv)
        self.refresh_conversations()
        self.streaming_message_id = request.message_id
        self.streaming_text = ""
        self._preparing = False
        self._gen_job = self._worker.generate(request)
        self.busyChanged.emit(True)

        def shown(msgs: list[h.Message]) -> None:
            self._show(conv, msgs)
            self.streamStarted.emit(request.message_id)

        self._db(lambda store: h.active_messages(store, conversation_id=conv), shown)

    def stop(self) -> None:
        self._worker.stop()

    @Slot(int, object)
    def _on_plan(self, job: int, plan: PromptPlan) -> None:
        if job == self._gen_job:
            self.contextChanged.emit(plan.prompt_tokens, plan.n_ctx, plan.dropped_messages)

    @Slot(int, str)
    def _on_tokens(self, job: int, text: str) -> None:
        if job == self._gen_job:
            self.streaming_text += text
            self.streamText.emit(text)

    @Slot(int, object)
    def _on_finished(self, job: int, result: TurnResult) -> None:
        if job != self._gen_job:
            return
        self.streaming_message_id = None
        self._preparing = False
        if result.error:
            self.errorRaised.emit(result.error)
        s = result.stats
        if s is not None:
            self.statsChanged.emit(f"{s.completion_tokens} tokens · {s.tokens_per_s:.1f} tokens/s · "
                                   f"first token {s.ttft_s:.2f} s" + (" · stopped" if result.status == "stopped" else ""))
            if result.plan is not None:
                self.contextChanged.emit(s.prompt_tokens + s.completion_tokens, result.plan.n_ctx,
                                         result.plan.dropped_messages)
        self.streamFinished.emit(result)
        self.busyChanged.emit(False)
        self.reload_messages()
        if result.status != "failed" and result.text:
            # Every figure the model wrote is checked against the record; the verdict is saved with the
            # message and the panel redraws it with what is unverified or contradicted marked.
            pid, message_id = self.patient_id, result.message_id
            self._db(lambda store: verify_answer(store, message_id=message_id, patient_id=pid),
                     lambda verdict: (self.answerVerified.emit(verdict), self.reload_messages()))

    @Slot(int, str)
    def _on_failed(self, job: int, message: str) -> None:
        if job == self._gen_job:
            self.streaming_message_id = None
            self._preparing = False
            self.busyChanged.emit(False)
        self.errorRaised.emit(message)

    # -- model manager ---------------------------------------------------------------------------------
    def list_models(self, on_done: Callable[[list[ModelEntry]], None]) -> None:
        """Scan the model folders off the GUI thread (a header parse takes ~2 s for a 49k vocabulary)."""
        self._files(scan_models, on_done, None)

    def import_model(self, path: Path, on_done: Callable[[ModelEntry], None],
                     on_error: Callable[[str], None] | None = None) -> None:
        """Check (header, trial load in a child process) and copy a GGUF into the user's model folder."""
        self._files(lambda: import_model(Path(path)), on_done, on_error)

    def _files(self, fn: Callable[[], Any], on_ok: Callable[[Any], None],
               on_error: Callable[[str], None] | None) -> None:
        # Model files are not the workspace: their slow checks must not hold up DuckDB or the model thread.
        self._tasks.run_in_background(fn, lambda f: self._on_done(f, on_ok, on_error))

    def close(self) -> None:
        if self._owns_tasks:
            self._tasks.shutdown()

    # -- export ----------------------------------------------------------------------------------------
    def export_markdown(self, path: Path, on_saved: Callable[[Path], None] | None = None) -> None:
        cid = self.conversation_id
        if cid is None:
            self.errorRaised.emit("No conversation to export.")
            return

        def write(store: Store) -> Path:
            text = conversation_markdown(store, conversation_id=cid)
            Path(path).write_text(text, encoding="utf-8")
            return Path(path)

        self._db(write, on_saved)
