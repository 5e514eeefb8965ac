"""Drive the real window through each view and capture the screen (run under Xvfb).

    xvfb-run -s "-screen 0 1600x1000x24" python scripts/ui_screenshots.py WORKSPACE OUT_DIR [PATIENT_ID]

An encrypted WORKSPACE is unlocked with VITALSIGHT_PASSPHRASE, as ``python -m desktop gui`` does.
``VITALSIGHT_SHOTS_QUESTION`` and ``VITALSIGHT_SHOTS_PRESCRIPTION`` replace the diagnosis and prescription questions asked of
the selected patient. ``VITALSIGHT_SHOTS=views`` takes only the window's views (overview, patient, observations, cohort), without
asking the assistant or opening dialogs: the quick loop while laying the window out.

A long record to look at: ``python -m devtools.synthetic.long_record /tmp/long.duckdb`` prints its id.

Each step waits for the view's own signal, then captures the whole X screen with ImageMagick's
``import -window root`` so the PNG shows exactly what a clinician would see.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QPointF, QTimer
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QApplication

from desktop.cli_security import PASSPHRASE_ENV
from desktop.core.settings import AppSettings
from desktop.core.workspace.crypto import unlock_workspace
from desktop.core.workspace.keyslot import is_encrypted_workspace
from desktop.ui.app import attach_assistant, create_app
from desktop.ui.qt_main_window import QtMainWindow


def main() -> int:
    workspace, out = sys.argv[1], Path(sys.argv[2])
    patient = sys.argv[3] if len(sys.argv) > 3 else None
    out.mkdir(parents=True, exist_ok=True)
    app = create_app()
    window = QtMainWindow(settings=AppSettings())
    # The whole X screen: run under xvfb-run -s "-screen 0 1366x768x24" for a common clinic laptop.
    window.setGeometry(app.primaryScreen().availableGeometry())
    assistant = attach_assistant(window)
    # Park the X pointer off the plots: hover follows the real pointer and would hide the staged read-out.
    screen = app.primaryScreen().geometry()
    QCursor.setPos(screen.width() - 10, screen.height() - 5)
    window.show()

    def shot(name: str) -> None:
        QApplication.processEvents()
        subprocess.run(["import", "-window", "root", str(out / f"{name}.png")], check=True)
        print("saved", out / f"{name}.png", flush=True)

    steps: list[Callable[[], None]] = []

    def next_step() -> None:
        if steps:
            QTimer.singleShot(1200, steps.pop(0))
        else:
            QTimer.singleShot(200, app.quit)

    def pick_patient() -> None:
        if patient:
            window.workspace.select_patient(patient)
        else:
            window.patient_list.select_row(0)

    def patient_shown(_pid: str) -> None:
        window.patient_view.loaded.disconnect(patient_shown)
        QTimer.singleShot(800, hover_and_shoot)

    def hover_and_shoot() -> None:
        # Show the hover read-out on the first plot's latest reading, as a mouse over it would.
        plots = window.patient_view.plots
        if plots.shown:
            panel = plots.panel(plots.shown[0])
            panel.hover(panel.plot.vb.mapViewToScene(QPointF(float(panel.times[-1]), float(panel.values[-1]))))
        QTimer.singleShot(500, lambda: (shot("patient"), ask_assistant()))

    views_only = os.environ.get("VITALSIGHT_SHOTS") == "views"

    def ask_assistant() -> None:
        # A computed answer about this patient, then one about the workspace with its table.
        if assistant is None or views_only:
            next_step()
            return

        def patient_answered(_answer: object) -> None:
            assistant.turns.answerComputed.disconnect(patient_answered)
            QTimer.singleShot(800, lambda: (shot("assistant"), ask_prescription()))

        def ask_prescription() -> None:
            assistant.turns.answerComputed.connect(prescription_answered)
            assistant.turns.send(os.environ.get("VITALSIGHT_SHOTS_PRESCRIPTION",
                                                "When was she first prescribed metformin?"))

        def prescription_answered(_answer: object) -> None:
            assistant.turns.answerComputed.disconnect(prescription_answered)
            QTimer.singleShot(800, lambda: (shot("assistant-prescription"), ask_cohort()))

        def ask_cohort() -> None:
            assistant.turns.answerComputed.connect(cohort_answered)
            assistant.turns.send("What is the average systolic blood pressure of patients with diabetes?")

        def cohort_answered(_answer: object) -> None:
            assistant.turns.answerComputed.disconnect(cohort_answered)
            QTimer.singleShot(800, lambda: (shot("assistant-cohort"), ask_planned()))

        def ask_planned() -> None:
            # Words the exact parser does not read: the on-device planner (with the shipped adapter) plans it.
            assistant.turns.answerComputed.connect(planned_answered)
            assistant.turns.send("How high has her systolic ever gone?")

        def planned_answered(_answer: object) -> None:
            assistant.turns.answerComputed.disconnect(planned_answered)
            QTimer.singleShot(800, lambda: (shot("assistant-planned"), fold()))

        def fold() -> None:
            # The dock folded to its strip, as on a small screen; opened again after (the state is saved).
            assistant.panel.collapse.set_collapsed(True)
            QTimer.singleShot(800, lambda: (shot("assistant-folded"), assistant.panel.collapse.set_collapsed(False),
                                            next_step()))

        assistant.turns.answerComputed.connect(patient_answered)
        assistant.turns.send(os.environ.get("VITALSIGHT_SHOTS_QUESTION", "Has she been diagnosed with diabetes?"))

    window.patient_view.loaded.connect(patient_shown)
    steps += [
        lambda: (window.tabs.setCurrentWidget(window.observations), QTimer.singleShot(1200, lambda: (shot("observations"), next_step()))),
        lambda: (window.tabs.setCurrentWidget(window.cohort), QTimer.singleShot(2500, lambda: (shot("cohort"), next_step()))),
        lambda: (window.open_import_dialog([Path(p) for p in sys.argv[4:]] or None),
                 QTimer.singleShot(1500, lambda: (shot("import"), next_step()))),
        lambda: import_and_shoot(),
        lambda: new_workspace_dialog(),
        lambda: models_dialog(),
        lambda: (window.security.lock.lock(reason="Locked on request."),
                 QTimer.singleShot(800, lambda: (shot("lock"), next_step()))),
    ]

    if views_only:
        del steps[2:]

    def models_dialog() -> None:
        # Models…: the model files, and what the shipped adapter is used for and measured.
        if assistant is None:
            next_step()
            return
        from desktop.ui.chat.qt_model_manager import QtModelManager

        dialog = QtModelManager(assistant.model, window)
        dialog.show()
        QTimer.singleShot(4000, lambda: (shot("models"), dialog.close(), next_step()))

    def new_workspace_dialog() -> None:
        # The passphrase dialog of File > New workspace, with a weak passphrase typed: the hint says so.
        from desktop.ui.importing.qt_import_dialog import QtImportDialog

        for importer in window.findChildren(QtImportDialog):
            importer.close()
        dialog = window.files.new_workspace_at(str(out / "new-clinic-workspace.duckdb"))
        if dialog is None:
            next_step()
            return
        dialog.first.setText("password1")
        dialog.second.setText("password1")

        def shoot_and_close() -> None:
            shot("new-workspace")
            dialog.reject()
            next_step()

        QTimer.singleShot(800, shoot_and_close)

    def import_and_shoot() -> None:
        from desktop.ui.importing.qt_import_dialog import QtImportDialog

        dialogs = window.findChildren(QtImportDialog)
        if not dialogs or not sys.argv[4:]:
            next_step()
            return
        dialogs[0].finished_import.connect(lambda _r: QTimer.singleShot(500, lambda: (shot("import-report"), next_step())))
        dialogs[0].start_import()
    window.workspace.opened.connect(lambda _p: QTimer.singleShot(2500, lambda: (shot("overview"), pick_patient())))
    if os.environ.get(PASSPHRASE_ENV) and is_encrypted_workspace(workspace):
        unlock_workspace(workspace, os.environ[PASSPHRASE_ENV])  # as `python -m desktop gui` does
    window.open_workspace(workspace)
    if assistant is not None:
        app.aboutToQuit.connect(assistant.shutdown)
    app.aboutToQuit.connect(window.shutdown)
    code = app.exec()
    from desktop.ui.teardown import dispose

    dispose(window)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
