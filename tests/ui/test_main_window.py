"""The main window: opens a workspace, remembers it, follows the selected patient, hosts the assistant,
and previews of each panel start and quit on their own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QLabel

from desktop.core.settings import AppSettings
from desktop.core.workspace.store import open_store
from desktop.ui.importing.qt_import_dialog import QtImportDialog
from desktop.ui.qt_main_window import QtMainWindow
from desktop.ui.qt_settings import load_settings
from desktop.ui.workspace import Workspace
from devtools.synthetic.workspaces import fill_demo
from tests.ui.conftest import wait_idle


@pytest.fixture
def window(qtbot, make_workspace) -> QtMainWindow:
    ws: Workspace = make_workspace(None)
    win = QtMainWindow(ws, AppSettings())
    qtbot.addWidget(win)
    return win


def test_open_workspace_remembers_it_and_follows_the_patient(qtbot, window: QtMainWindow, workspace_file: Path) -> None:
    with qtbot.waitSignal(window.workspace.opened, timeout=10000):
        window.open_workspace(str(workspace_file))
    assert window.import_action.isEnabled()
    saved = load_settings()
    assert saved.last_workspace == str(workspace_file)
    assert saved.recent_workspaces == [str(workspace_file)]
    assert [a.text() for a in window.recent_menu.actions()] == [str(workspace_file)]
    wait_idle(qtbot, window.workspace)
    qtbot.waitUntil(lambda: window.patient_list.model.rowCount() == 3)
    with qtbot.waitSignal(window.workspace.patient_selected) as chosen, qtbot.waitSignal(window.patient_view.loaded):
        window.patient_list.select_row(0)
    assert chosen.args == ["p-alice"]
    assert window.patient_view.summary.flag_text("Creatinine") == "H high"


def test_assistant_dock_takes_the_chat_panel(qtbot, window: QtMainWindow) -> None:
    window.show()
    panel = QLabel("chat")
    window.set_assistant_widget(panel)
    assert window.assistant_dock.widget() is panel
    assert window.assistant_dock.isVisible()


def test_display_units_are_kept_in_settings(qtbot, window: QtMainWindow) -> None:
    window.unit_actions["temperature:F"].trigger()
    assert window.workspace.display_units.temperature == "F"
    assert load_settings().temperature_unit == "F"


def test_dropping_a_folder_opens_the_import_dialog(qtbot, window: QtMainWindow, synthea_folder: Path,
                                                    tmp_path: Path) -> None:
    with qtbot.waitSignal(window.workspace.opened, timeout=10000):
        window.workspace.create(str(tmp_path / "drop.duckdb"), passphrase=None)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(synthea_folder))])
    event = QDropEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    dialogs = window.findChildren(QtImportDialog)
    assert len(dialogs) == 1
    qtbot.waitUntil(lambda: dialogs[0].plan_table.rowCount() == 3, timeout=10000)
    dialogs[0].reject()
    wait_idle(qtbot, window.workspace)


PREVIEWS = [["desktop.ui.dev.preview", name] for name in
            ("patient_list", "patient_view", "observations", "overview", "cohort", "main_window")]
PREVIEWS.append(["desktop.ui.importing.qt_import_dialog"])


@pytest.mark.slow
@pytest.mark.parametrize("module", PREVIEWS, ids=lambda m: m[-1])
def test_preview_runs_and_quits(module: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "VITALSIGHT_PREVIEW_QUIT_MS": "1500",
           "XDG_CONFIG_HOME": str(tmp_path), "HOME": str(tmp_path)}
    workspace = tmp_path / "preview.duckdb"  # never the sample workspace: the app may have it open
    with open_store(workspace) as store:
        fill_demo(store, patients=30, readings_per_series=10)
    result = subprocess.run([sys.executable, "-m", *module, str(workspace)], env=env, capture_output=True,
                            text=True, timeout=120, check=False, cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-2000:]


def test_a_recent_workspace_that_was_deleted_is_dropped_not_recreated(qtbot, window: QtMainWindow,
                                                                      tmp_path: Path) -> None:
    gone = str(tmp_path / "gone.duckdb")
    window.settings.add_recent(gone)
    window._fill_recent()
    window.recent_menu.actions()[0].trigger()
    assert not Path(gone).exists()
    assert window.settings.recent_workspaces == []
    assert not window.workspace.is_open
