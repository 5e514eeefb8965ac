"""Drive the real window through a short script: ``vitalsight gui --workspace W --script smoke.json``.

This is how the installer's smoke test (tests/packaging) checks a frozen build end to end, headless: the
app starts exactly as a clinician starts it (``run_app``: the same window, workspace, chat panel and
shutdown); this module only presses the buttons a person would press, waits for the signals a person
would wait for, and writes what happened to a JSON report. It is imported only when ``--script`` is given.

The script (every key optional)::

    {"import": ["export-folder", "admissions.csv"],   # through the Import dialog: plan, Import, report
     "patient": "first",                                 # or a patient id; waits for the patient view
     "ask": "Summarise the latest vitals.",              # through the chat panel: Send, stream, finish
     "min_stream_chunks": 2,
     "screenshot": "window.png",                         # the window as drawn (works offscreen too)
     "linger_s": 0,                                      # stay open this long at the end (X screenshots)
     "report": "smoke-report.json",
     "timeout_s": 240}

The report has ``ok``, the error if any, and seconds since the process started for each milestone
(``window_painted_s`` is the cold-start figure). Exit status: 0 when every step passed, 1 otherwise. The
window is closed the ordinary way (File > Quit does the same), so settings are saved and the database
and model threads are drained as in real use.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget


def process_start_time() -> float | None:
    """The process's start as a ``time.time()`` value, read from the kernel (Linux); else None.

    Measuring from here rather than from this module's import counts the interpreter's own start-up and
    every import before the window, which is what a clinician waits through.
    """
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[19])  # field 22 of stat(5), counted after the ")" that ends the command name
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class SmokeDriver(QObject):
    def __init__(self, script: dict[str, Any], app: QApplication) -> None:
        super().__init__(app)
        self.script = script
        self.app = app
        self.started = process_start_time() or time.time()
        self.report: dict[str, Any] = {"ok": False, "error": None, "script": script}
        self.window: QMainWindow | None = None
        self.patient_id: str | None = None
        self._chunks = 0
        self._done = False
        # Every paint in the app passes here until the main window's first one.
        app.installEventFilter(self)
        self._watchdog = QTimer(self, singleShot=True)
        self._watchdog.timeout.connect(lambda: self.fail(f"timed out after {self._timeout_s():.0f} s"))

    # -- bookkeeping -----------------------------------------------------------------------------------
    def _timeout_s(self) -> float:
        return float(self.script.get("timeout_s", 240))

    def mark(self, name: str) -> None:
        self.report[f"{name}_s"] = round(time.time() - self.started, 3)
        print(f"vitalsight-smoke: {name} at {self.report[f'{name}_s']:.2f} s", flush=True)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.Paint
            and isinstance(obj, QWidget)
            and isinstance(obj.window(), QMainWindow)
        ):
            self.app.removeEventFilter(self)
            self.mark("window_painted")
        return False

    def guard(self, fn: Callable[..., None]) -> Callable[..., None]:
        """A slot that turns any exception into a failed run instead of a traceback Qt swallows."""

        def wrapped(*args: Any) -> None:
            if self._done:
                return
            try:
                fn(*args)
            except Exception as exc:  # noqa: BLE001 - reported in the smoke report
                self.fail(f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=6)}")

        return wrapped

    def fail(self, message: str) -> None:
        if self._done:
            return
        self.report["error"] = message
        print(f"vitalsight-smoke: FAILED: {message}", file=sys.stderr, flush=True)
        self._finish(1)

    def _finish(self, code: int) -> None:
        self._done = True
        self._watchdog.stop()
        self.report["ok"] = code == 0
        self.mark("finished")
        target = self.script.get("report")
        if target:
            Path(target).write_text(json.dumps(self.report, indent=2, default=str) + "\n", encoding="utf-8")
        if code == 0 and self.window is not None:
            self.window.close()  # the ordinary way out: settings saved, threads drained, exit status 0
            QTimer.singleShot(5000, lambda: self.app.exit(0))  # in case another top-level window lingers
        else:
            self.app.exit(code)

    # -- steps -----------------------------------------------------------------------------------------
    def start(self) -> None:
        self._watchdog.start(int(self._timeout_s() * 1000))
        windows = [w for w in self.app.topLevelWidgets() if isinstance(w, QMainWindow)]
        if not windows:
            self.fail("no main window after start")
            return
        self.window = windows[0]
        self.mark("event_loop_started")
        workspace = self.window.workspace  # type: ignore[attr-defined]
        if workspace.is_open:
            self.guard(self.workspace_opened)()
        else:
            workspace.opened.connect(self.guard(self.workspace_opened))

    def workspace_opened(self, *_: object) -> None:
        if self.report.get("workspace_opened_s") is not None:
            return
        self.mark("workspace_opened")
        if self.script.get("import"):
            self.do_import([Path(p).resolve() for p in self.script["import"]])
        else:
            self.pick_patient()

    def do_import(self, paths: list[Path]) -> None:
        dialog = self.window.open_import_dialog(paths)  # type: ignore[union-attr]
        if dialog is None:
            raise RuntimeError("the import dialog did not open (no workspace?)")

        def planned() -> None:
            if not dialog.next.isEnabled():
                raise RuntimeError(f"nothing importable: {dialog.plan_note.text()}")
            dialog.next.click()  # "Import"

        def imported(report: Any) -> None:
            files = [asdict(f) for f in report.files]
            self.report["import"] = [
                {k: f.get(k) for k in ("file", "format", "status", "rows_accepted", "rows_rejected")}
                for f in files
            ]
            if not any(f.get("status") == "imported" for f in files):
                raise RuntimeError(f"nothing was imported: {self.report['import']}")
            self.mark("imported")
            dialog.next.click()  # on the report page: "Close"
            self.pick_patient()

        dialog.planned.connect(self.guard(planned))
        dialog.finished_import.connect(self.guard(imported))

    def pick_patient(self) -> None:
        wanted = self.script.get("patient")
        if not wanted:
            self.ask()
            return
        window = self.window
        window.patient_view.loaded.connect(self.guard(self.patient_shown))  # type: ignore[union-attr]
        if wanted != "first":
            window.workspace.select_patient(str(wanted))  # type: ignore[union-attr]
            return
        patients = window.patient_list  # type: ignore[union-attr]

        def select_first(*_: object) -> None:
            if patients.model.rowCount() > 0 and self.patient_id is None:
                patients.select_row(0)  # as a click on the first row would

        patients.model.counted.connect(self.guard(select_first))
        select_first()

    def patient_shown(self, patient_id: str) -> None:
        if self.patient_id is not None or not patient_id:
            return
        self.patient_id = patient_id
        self.report["patient"] = patient_id
        self.mark("patient_shown")
        self.ask()

    def ask(self) -> None:
        question = self.script.get("ask")
        if not question:
            self.finish_ok()
            return
        from desktop.ui.chat.qt_chat_panel import QtChatPanel

        panel = self.window.findChild(QtChatPanel)  # type: ignore[union-attr]
        if panel is None:
            raise RuntimeError("the window has no chat panel")
        conversations, turns, model = panel.conversations, panel.turns, panel.model
        for part in (conversations, turns, model):
            part.errorRaised.connect(self.guard(lambda message: self.fail(f"chat error: {message}")))

        def chunk(_text: str) -> None:
            if self._chunks == 0:
                self.mark("first_token")
            self._chunks += 1

        def finished(result: Any) -> None:
            self.report["answer"] = {
                "status": result.status,
                "chunks": self._chunks,
                "text": result.text[:400],
                "tokens": getattr(result.stats, "completion_tokens", None),
            }
            self.mark("answered")
            if result.status != "complete" and not (result.status == "stopped" and result.text):
                raise RuntimeError(f"the answer ended {result.status}: {result.error}")
            if self._chunks < int(self.script.get("min_stream_chunks", 2)) or not result.text.strip():
                raise RuntimeError(f"the answer did not stream ({self._chunks} chunks)")
            self.finish_ok()

        def send_when_ready(*_: object) -> None:
            ready = model.ready and not turns.busy
            if self.patient_id is not None and conversations.patient_id != self.patient_id:
                ready = False  # the panel has not followed the selected patient yet
            if not ready or self.report.get("asked_s") is not None:
                if not ready:
                    QTimer.singleShot(100, self.guard(send_when_ready))
                return
            self.mark("model_ready")
            panel.input.setPlainText(str(question))
            if not panel.send_button.isEnabled():
                raise RuntimeError("the Send button is disabled with the model loaded")
            panel.send_button.click()
            self.mark("asked")

        turns.streamText.connect(self.guard(chunk))
        turns.streamFinished.connect(self.guard(finished))
        send_when_ready()

    def finish_ok(self) -> None:
        shot = self.script.get("screenshot")
        if shot:
            # Let pending repaints land so the picture shows the final state.
            QApplication.processEvents()
            self.window.grab().save(str(shot))  # type: ignore[union-attr]
        linger = float(self.script.get("linger_s", 0))
        if linger > 0:
            # Stay up for a look or an X screenshot (`import -window root` under xvfb-run) before quitting.
            self._watchdog.stop()
            QTimer.singleShot(int(linger * 1000), lambda: self._quit_when_idle(0))
            return
        self._quit_when_idle(0)

    def _quit_when_idle(self, code: int, waited_s: float = 0.0) -> None:
        """Quit once the views' queued database work has drained, as a person would after the window has
        loaded. (Closing mid-load is a separate case; it is not what this test is about.)"""
        executor = getattr(getattr(self.window, "workspace", None), "executor", None)
        if executor is not None and not executor.idle and waited_s < 10.0:
            QTimer.singleShot(50, lambda: self._quit_when_idle(code, waited_s + 0.05))
            return
        self._finish(code)


def install(script_path: str | Path) -> SmokeDriver:
    """Create the QApplication (``run_app`` reuses it) and queue the driver to start with the event loop."""
    from desktop.ui.app import create_app

    script = json.loads(Path(script_path).read_text(encoding="utf-8"))
    driver = SmokeDriver(script, create_app())
    # A zero timer fires once app.exec() runs, i.e. after run_app has built and shown the window.
    QTimer.singleShot(0, driver.guard(driver.start))
    return driver
