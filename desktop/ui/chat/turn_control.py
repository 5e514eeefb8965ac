"""A turn seen from the GUI thread: a thin adapter from the model thread's signals to the panel's. A
question is one :func:`desktop.core.chat.ask_turn.ask_turn` on the model owner thread (parse, plan when the
parser is unsure, compute, or stream the model's answer); regenerate and edit-and-resend are one
:func:`desktop.core.chat.turn.chat_turn` there. Holds the id and the text of the answer being written."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot

from desktop.core.assistant.answer import Answer
from desktop.core.assistant.verify import Span
from desktop.core.chat.session import TurnRequest
from desktop.core.chat.turn import ChatTurn, EditResend, Regenerate, TurnAction
from desktop.core.llm.prompt import PromptPlan
from desktop.ui.chat.conversations import Conversations
from desktop.ui.chat.model_control import ChatModel
from desktop.ui.chat.model_worker import ModelWorker


class TurnControl(QObject):
    streamStarted = Signal(int)           # assistant message id
    streamText = Signal(str)              # text to append to it
    streamChecked = Signal(list)          # [Span] of the answer so far that is not verified: mark it now
    streamFinished = Signal(object)       # TurnResult, saved and checked against the record
    busyChanged = Signal(bool)
    contextChanged = Signal(int, int, int)  # tokens used, context size, earlier messages left out
    statsChanged = Signal(str)            # "… tokens/s · first token … s" after each answer
    answerComputed = Signal(object)       # Answer: figures DuckDB computed, with how (plan, SQL, rows)
    errorRaised = Signal(str)

    def __init__(self, *, worker: ModelWorker, conversations: Conversations, model: ChatModel) -> None:
        super().__init__()
        self._worker = worker
        self._conversations = conversations
        self._model = model
        self.streaming_message_id: int | None = None
        self.streaming_text = ""   # the answer being written, as far as it has come
        self.streaming_marks: list[Span] = []  # what the record does not support in it, judged while it streams
        self._waiting = False      # between the click and the answer's first save (computing or queued)
        self._job = 0
        worker.computed.connect(self._on_computed)
        worker.notAnswered.connect(self._on_not_answered)
        worker.started.connect(self._on_started)
        worker.planReady.connect(self._on_plan)
        worker.tokens.connect(self._on_tokens)
        worker.checked.connect(self._on_checked)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)

    @property
    def busy(self) -> bool:
        return self.streaming_message_id is not None or self._waiting

    def _set_waiting(self, waiting: bool) -> None:
        self._waiting = waiting
        self.busyChanged.emit(self.busy)

    def _error(self, message: str) -> None:
        if self.streaming_message_id is None:
            self._set_waiting(False)
        self.errorRaised.emit(message)

    def send(self, text: str) -> None:
        """Ask a question: the model thread runs :func:`~desktop.core.chat.ask_turn.ask_turn` (the question is
        audited there, once for every caller); a computed answer, the model's stream or the reason nothing
        answers comes back by signal."""
        text = text.strip()
        if not text or self.busy:
            return
        pid, cid = self._conversations.patient_id, self._conversations.conversation_id
        self._set_waiting(True)
        self._job = self._worker.ask(question=text, patient_id=pid, conversation_id=cid,
                                     model_name=self._model.model_path.name, settings=self._model.settings)

    @Slot(int, object, int)
    def _on_computed(self, job: int, answer: Answer, conversation_id: int) -> None:
        if job != self._job:
            return
        self._set_waiting(False)
        self._conversations.follow(conversation_id)
        self.answerComputed.emit(answer)

    @Slot(int, object)
    def _on_not_answered(self, job: int, answer: Answer) -> None:
        if job == self._job:
            self._set_waiting(False)
            self.errorRaised.emit(answer.text or "The model is not loaded yet.")

    def regenerate(self) -> None:
        self._model_turn(Regenerate())

    def edit_and_resend(self, message_id: int, text: str) -> None:
        text = text.strip()
        if text:
            self._model_turn(EditResend(message_id, text))

    def _model_turn(self, action: TurnAction) -> None:
        pid, cid = self._conversations.patient_id, self._conversations.conversation_id
        if pid is None:
            self.errorRaised.emit("Select a patient first.")
            return
        if self.busy or cid is None:
            return
        if not self._model.ready:
            self.errorRaised.emit("The model is not loaded yet.")
            return
        self._job = self._worker.turn(patient_id=pid, action=action, conversation_id=cid,
                                      model_name=self._model.model_path.name, settings=self._model.settings)
        self._set_waiting(True)

    def stop(self) -> None:
        self._worker.stop()

    @Slot(int, object)
    def _on_started(self, job: int, request: TurnRequest) -> None:
        if job != self._job:
            return
        self.streaming_message_id = request.message_id
        self.streaming_text = ""
        self.streaming_marks = []
        self._waiting = False
        self._conversations.follow(request.conversation_id,
                                   then=lambda: self.streamStarted.emit(request.message_id))

    @Slot(int, object)
    def _on_plan(self, job: int, plan: PromptPlan) -> None:
        if job == self._job:
            self.contextChanged.emit(plan.prompt_tokens, plan.n_ctx, plan.dropped_messages)

    @Slot(int, str)
    def _on_tokens(self, job: int, text: str) -> None:
        if job == self._job:
            self.streaming_text += text
            self.streamText.emit(text)

    @Slot(int, object)
    def _on_checked(self, job: int, spans: list[Span]) -> None:
        marks = [s for s in spans if s.status != "verified"]
        if job == self._job and marks:
            self.streaming_marks += marks
            self.streamChecked.emit(self.streaming_marks)

    @Slot(int, object)
    def _on_finished(self, job: int, turn: ChatTurn) -> None:
        if job != self._job:
            return
        result = turn.result
        self.streaming_message_id = None
        self._waiting = False
        if result.error:
            self.errorRaised.emit(result.error)
        s = result.stats
        if s is not None:
            reused = f" · {s.reused_prompt_tokens} prompt tokens cached" if s.reused_prompt_tokens else ""
            self.statsChanged.emit(f"{s.completion_tokens} tokens · {s.tokens_per_s:.1f} tokens/s · first token "
                                   f"{s.ttft_s:.2f} s{reused}" + (" · stopped" if result.status == "stopped" else ""))
            if result.plan is not None:
                self.contextChanged.emit(s.prompt_tokens + s.completion_tokens, result.plan.n_ctx,
                                         result.plan.dropped_messages)
        self.streamFinished.emit(result)
        self.busyChanged.emit(False)
        # The verdict is already saved with the message: the redraw marks what is unverified or contradicted.
        self._conversations.reload()

    @Slot(int, str)
    def _on_failed(self, job: int, message: str) -> None:
        if job == self._job:
            self.streaming_message_id = None
            self._set_waiting(False)
        self.errorRaised.emit(message)
