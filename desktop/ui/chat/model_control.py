"""The chat's model, on the GUI thread: which GGUF is loaded with which settings, the model files, and
warming the KV cache for the selected patient (issue 9: the first question then evaluates only itself).
The model itself lives on the :class:`ModelWorker` thread; this object holds what the window shows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from desktop.core.chat.session import ChatSettings
from desktop.core.llm.model_files import ModelEntry, import_model, scan_models
from desktop.ui.chat.calls import Calls
from desktop.ui.chat.model_worker import LoadedModel, ModelWorker


class ChatModel(QObject):
    modelChanged = Signal(str)            # a line describing the loaded model (and the warmed patient)
    readyChanged = Signal(bool)
    settingsChanged = Signal(object)      # ChatSettings; desktop/ui/app.py persists it in AppSettings
    errorRaised = Signal(str)

    def __init__(self, *, worker: ModelWorker, calls: Calls, model_path: Path,
                 settings: ChatSettings | None = None) -> None:
        super().__init__()
        self._worker = worker
        self._calls = calls
        self.settings = settings or ChatSettings()
        self.model_path = Path(model_path)
        self.ready = False
        self.warm_patient: str | None = None  # the patient to keep warm once a model is loaded
        self._line = "No model loaded"
        self._load_job = 0
        worker.modelLoaded.connect(self._on_loaded)
        worker.modelFailed.connect(self._on_failed)
        worker.warmed.connect(self._on_warmed)

    def load(self, path: Path | None = None) -> None:
        if path is not None:
            self.model_path = Path(path)
        self._set_ready(False)
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
            self.load()

    def warm_for(self, patient_id: str | None) -> None:
        """Selecting a patient warms the cache for them; none (or a lock) cancels warming in progress."""
        self.warm_patient = patient_id or None  # the workspace says "" when no patient is selected
        if self.ready:
            self.modelChanged.emit(self._line)  # "patient context ready" was about the previous patient
        if self.warm_patient is None:
            self._worker.cancel_warming()
        elif self.ready:
            self._worker.warm(self.warm_patient)

    def forget_context(self) -> None:
        """Drop the model's KV cache (it holds the last patient's prompt): the window locked."""
        self._worker.forget_context()

    def _set_ready(self, ready: bool) -> None:
        self.ready = ready
        self.readyChanged.emit(ready)

    @Slot(int, object)
    def _on_loaded(self, job: int, info: LoadedModel) -> None:
        if job != self._load_job:
            return
        threads = f"{info.n_threads} thread{'s' if info.n_threads != 1 else ''}"
        self._line = f"{info.path.name} · context {info.n_ctx} · {threads} · loaded in {info.load_s:.2f} s"
        self.modelChanged.emit(self._line)
        self._set_ready(True)
        if self.warm_patient is not None:
            self._worker.warm(self.warm_patient)

    @Slot(int, str)
    def _on_failed(self, job: int, message: str) -> None:
        if job == self._load_job:
            self._line = "No model loaded"
            self.modelChanged.emit(self._line)
            self._set_ready(False)
            self.errorRaised.emit(message)

    @Slot(int, str, int)
    def _on_warmed(self, _job: int, patient_id: str, n_tokens: int) -> None:
        if self.ready and patient_id == self.warm_patient and n_tokens:
            self.modelChanged.emit(f"{self._line} · patient context ready ({n_tokens} tokens cached)")

    # -- model files -----------------------------------------------------------------------------------
    def list_models(self, on_done: Callable[[list[ModelEntry]], None]) -> None:
        """Scan the model folders off the GUI thread (a header parse takes ~2 s for a 49k vocabulary)."""
        self._calls.background(scan_models, on_done)

    def import_model(self, path: Path, on_done: Callable[[ModelEntry], None],
                     on_error: Callable[[str], None] | None = None) -> None:
        """Check (header, trial load in a child process) and copy a GGUF into the user's model folder."""
        self._calls.background(lambda: import_model(Path(path)), on_done, on_error)
