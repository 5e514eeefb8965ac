"""The main window: patient list on the left; patient, observations and cohort views in tabs; the
assistant (chat panel) docked on the right; workspace and import menus; drag and drop to import."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QEvent, QObject, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QWidget,
)

from desktop.core.clinical.display_units import DisplayUnits
from desktop.core.settings import AppSettings
from desktop.ui.importing.qt_import_dialog import QtImportDialog
from desktop.ui.patient.observations import QtObservationsTable
from desktop.ui.patient.overview import QtOverview
from desktop.ui.patient.patient_list import QtPatientList
from desktop.ui.patient.view import QtPatientView
from desktop.ui.plots.qt_cohort_view import QtCohortView
from desktop.ui.qt_settings import load_settings, save_settings
from desktop.ui.security.lock import AVAILABLE_WHEN_LOCKED
from desktop.ui.security.window_security import WindowSecurity
from desktop.ui.workspace.files import WORKSPACE_FILTER, WorkspaceFiles
from desktop.ui.workspace.state import Workspace

DOCK_MIN_WIDTH = 340  # the assistant dock at its narrowest (1366-pixel laptops)


class SqueezeToWidth(QObject):
    """Keeps ``widget``'s minimum width at its layout's minimum or ``limit``, whichever is smaller, as the
    widget's contents change (an explicit minimum would otherwise stay, and stop it folding narrower)."""

    def __init__(self, widget: QWidget, limit: int) -> None:
        super().__init__(widget)
        self.limit = limit
        widget.installEventFilter(self)
        self.fit(widget)

    def fit(self, widget: QWidget) -> None:
        wanted = min(widget.minimumSizeHint().width(), self.limit, widget.maximumWidth())
        if wanted > 0 and widget.minimumWidth() != wanted:
            widget.setMinimumWidth(wanted)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest and isinstance(watched, QWidget):
            self.fit(watched)
        return False


class QtMainWindow(QMainWindow):
    #: the patient the clinician is looking at ("" for none); the chat panel follows it

    def __init__(self, workspace: Workspace | None = None, settings: AppSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Vitalsight")
        self.setAcceptDrops(True)
        self.settings = settings if settings is not None else load_settings()
        self.workspace = workspace or Workspace(parent=self)
        self.workspace.set_display_units(DisplayUnits(self.settings.temperature_unit, self.settings.weight_unit))

        self.patient_list = QtPatientList(self.workspace)
        self.patient_view = QtPatientView(self.workspace)
        self.observations = QtObservationsTable(self.workspace)
        self.cohort = QtCohortView(self.workspace)
        self.overview = QtOverview(self.workspace)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.overview, "Overview")
        self.tabs.addTab(self.patient_view, "Patient")
        self.tabs.addTab(self.observations, "Observations")
        self.tabs.addTab(self.cohort, "Cohort trends")
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.patient_list)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([430, 1100])
        self._splitter = splitter
        # Page 0 the views, page 1 the lock screen (desktop/ui/security/lock.py): locking hides every patient.
        self.central_stack = QStackedWidget()
        self.central_stack.addWidget(splitter)
        self.setCentralWidget(self.central_stack)

        # The chat panel's place: a right-hand dock, empty until set_assistant_widget is called.
        self.assistant_dock = QDockWidget("Assistant", self)
        self.assistant_dock.setObjectName("assistant_dock")
        self.assistant_dock.setAllowedAreas(Qt.DockWidgetArea.RightDockWidgetArea | Qt.DockWidgetArea.LeftDockWidgetArea)
        placeholder = QLabel("The assistant is not installed in this build.")
        placeholder.setWordWrap(True)
        placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.assistant_dock.setWidget(placeholder)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.assistant_dock)
        self.assistant_dock.hide()

        self.busy_label = QLabel()
        self.statusBar().addPermanentWidget(self.busy_label)
        self.security = WindowSecurity(self, self.central_stack, workspace=self.workspace, settings=self.settings,
                                       dock=self.assistant_dock, exports=self.observations)
        self.files = WorkspaceFiles(self, self.workspace, observations=self.observations,
                                    choose_workspace=self.choose_workspace,
                                    show_status=lambda text: self.statusBar().showMessage(text))
        self._build_menus()

        self.workspace.opened.connect(self._on_opened)
        self.workspace.patient_selected.connect(self._show_patient_tab)
        self.workspace.busy.connect(self.show_busy)
        if self.settings.geometry:
            self.restoreGeometry(QByteArray.fromBase64(self.settings.geometry.encode()))
        else:
            self.resize(1500, 920)
        if self.settings.window_state:
            self.restoreState(QByteArray.fromBase64(self.settings.window_state.encode()))
        self.statusBar().showMessage("Open or create a workspace (File menu), then import CSV files or drop them here.")

    # The chat panel's API
    def showEvent(self, event: QShowEvent) -> None:
        # First show on a narrow screen: the patient list gives up width to the views (it elides names).
        if not self.settings.window_state and self.width() < 1500:
            total = sum(self._splitter.sizes()) or self.width()
            # Name, sex and age fit in 270 px (desktop/ui/patient/patient_list.py); the rest go to the views.
            self._splitter.setSizes([min(270, total // 3), max(total - 270, total * 2 // 3)])
        super().showEvent(event)

    def set_assistant_widget(self, widget: QWidget) -> None:
        """Put the chat panel in the right-hand dock. The workspace owns the current patient: the
        panel follows ``self.workspace.patient_selected`` and reads ``self.workspace.patient_id``."""
        # The panel may be squeezed to DOCK_MIN_WIDTH whatever its own minimum says (a line that does not
        # wrap held the dock at 517 px and left the clinical tabs 529 px at 1366); its own layout must then
        # wrap. Narrower still when it folds to its strip: the limit follows the panel's own minimum.
        self._dock_limit = SqueezeToWidth(widget, DOCK_MIN_WIDTH)
        self.assistant_dock.setWidget(widget)
        self.assistant_dock.show()
        self.view_menu.addActions(widget.actions())  # the panel's own (fold the dock to a strip)
        if not self.settings.window_state:
            # First run: the plots keep most of the width; the chat gets a readable column. Docks take
            # their size once the window is laid out, hence after the event loop has shown it.
            # On a 1366-pixel laptop a quarter of the width, so values and flags stay in view beside it.
            width = min(470, max(DOCK_MIN_WIDTH, self.width() // 4))
            QTimer.singleShot(0, lambda: self.resizeDocks([self.assistant_dock], [width], Qt.Orientation.Horizontal))

    # Menus
    def _build_menus(self) -> None:
        file = self.menuBar().addMenu("&File")
        self._action(file, "&New workspace…", self.new_workspace, QKeySequence.StandardKey.New)
        self._action(file, "&Open workspace…", self.choose_workspace, QKeySequence.StandardKey.Open)
        self.recent_menu = file.addMenu("Open &recent")
        self._fill_recent()
        file.addSeparator()
        self.import_action = self._action(file, "&Import files or folder…", self.open_import_dialog, "Ctrl+I")
        self.export_csv_action = self._action(file, "Export observations as &CSV…",
                                              self.files.export_observations, "Ctrl+E")
        self._action(file, "Export &plot as PNG…", self.export_plot_png, "Ctrl+Shift+P")
        file.addSeparator()
        self.security.add_file_actions(file)
        file.addSeparator()
        quit_action = self._action(file, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        quit_action.setProperty(AVAILABLE_WHEN_LOCKED, True)

        view = self.view_menu = self.menuBar().addMenu("&View")
        self.unit_actions: dict[str, QAction] = {}
        for title, field, options in (("Temperature", "temperature", (("°C", "C"), ("°F", "F"))),
                                      ("Weight", "weight", (("kg", "kg"), ("lb", "lb")))):
            sub = view.addMenu(title)
            group = QActionGroup(self)
            for label, value in options:
                action = sub.addAction(label)
                action.setCheckable(True)
                action.setChecked(getattr(self.workspace.display_units, field) == value)
                action.triggered.connect(lambda _=False, f=field, v=value: self.set_display_unit(f, v))
                group.addAction(action)
                self.unit_actions[f"{field}:{value}"] = action
        view.addSeparator()
        view.addAction(self.assistant_dock.toggleViewAction())
        for action in (self.import_action, self.export_csv_action):
            action.setEnabled(False)

    def _action(self, menu: object, text: str, slot: object, shortcut: object = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)  # type: ignore[arg-type]
        action.triggered.connect(slot)  # type: ignore[arg-type]
        menu.addAction(action)  # type: ignore[attr-defined]
        return action

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.recent_workspaces:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path: self.open_recent(p))
        self.recent_menu.setEnabled(bool(self.settings.recent_workspaces))

    # Workspaces
    def new_workspace(self) -> None:
        """Encrypted by default: the passphrase dialog follows the file dialog (desktop/ui/workspace/files.py)."""
        self.files.new_workspace()

    def choose_workspace(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open workspace", self.settings.last_workspace, WORKSPACE_FILTER)
        if path:
            self.open_workspace(path)

    def open_recent(self, path: str) -> None:
        if not Path(path).exists():
            self.settings.recent_workspaces = [p for p in self.settings.recent_workspaces if p != path]
            save_settings(self.settings)
            self._fill_recent()
            self.statusBar().showMessage(f"{path} no longer exists (moved or deleted); removed from the list.", 10000)
            return
        self.open_workspace(path)

    def open_workspace(self, path: str) -> None:
        """Open ``path``; an encrypted workspace asks for its passphrase first."""
        self.files.open_workspace(path)

    def _on_opened(self, path: str) -> None:
        self.settings.add_recent(path)
        self._fill_recent()
        save_settings(self.settings)
        self.setWindowTitle(f"Vitalsight — {Path(path).name}")
        self.statusBar().showMessage(f"Opened {Path(path).name} ({Path(path).parent})", 8000)
        for action in (self.import_action, self.export_csv_action):
            action.setEnabled(True)
        # Every open starts on the Overview: who needs attention first, before any patient is chosen.
        self.tabs.setCurrentWidget(self.overview)

    def _show_patient_tab(self, patient_id: str) -> None:
        # Picking a patient from the Overview or while looking at cohort trends means "show me this patient".
        if patient_id and self.tabs.currentWidget() in (self.cohort, self.overview):
            self.tabs.setCurrentWidget(self.patient_view)

    def show_busy(self, message: str | None) -> None:
        self.busy_label.setText(message or "")

    # Import
    def open_import_dialog(self, paths: list[Path] | None = None) -> QtImportDialog | None:
        if not self.workspace.is_open:
            self.statusBar().showMessage("Open or create a workspace first (File > New workspace).", 8000)
            return None
        dialog = QtImportDialog(self.workspace, self, paths=paths or None)
        # Deleted once nothing can call back into it: closed with no import running, or its import
        # finished after it was closed (Cancel on a running import closes it before the op returns).
        dialog.finished.connect(lambda _result: dialog.token is None and dialog.deleteLater())
        dialog.finished_import.connect(lambda _report: dialog.isVisible() or dialog.deleteLater())
        dialog.finished_import.connect(self.security.record_import)
        # Not modal: the clinician keeps reading patients while a large import runs in the background.
        dialog.setModal(False)
        dialog.show()
        return dialog

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self.security.lock.is_locked:  # nothing is imported into a locked window
            return
        if event.mimeData().hasUrls() and _importable(event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = _importable(event.mimeData().urls())
        if paths and not self.security.lock.is_locked:
            event.acceptProposedAction()
            self.open_import_dialog(paths)

    # Display units
    def set_display_unit(self, field: str, value: str) -> None:
        setattr(self.settings, f"{field}_unit", value)
        save_settings(self.settings)
        self.security.record_setting(f"{field} unit", value)
        self.workspace.set_display_units(DisplayUnits(self.settings.temperature_unit, self.settings.weight_unit))

    def export_plot_png(self) -> None:
        current = self.tabs.currentWidget()
        target = self.cohort if current is self.cohort else self.patient_view
        path, _ = QFileDialog.getSaveFileName(self, "Export plot as PNG", str(Path.home() / "plot.png"), "PNG (*.png)")
        if path:
            if target is self.cohort:
                self.cohort.export_png(path)
            else:
                self.patient_view.plots.export_png(path)
            self.statusBar().showMessage(f"Saved {path}", 8000)

    # Shutdown
    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.geometry = bytes(self.saveGeometry().toBase64().data()).decode()
        self.settings.window_state = bytes(self.saveState().toBase64().data()).decode()
        save_settings(self.settings)
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Cancel running work, drain the database thread, close the workspace, forget its key."""
        self.security.shutdown()
        self.cohort.cancel()
        for dialog in self.findChildren(QtImportDialog):
            if dialog.token is not None:  # an import in progress: stop it rather than wait for it
                dialog.token.cancel()
        self.workspace.shutdown()


def _importable(urls: list[object]) -> list[Path]:
    paths = [Path(u.toLocalFile()) for u in urls if u.isLocalFile()]  # type: ignore[attr-defined]
    return [p for p in paths if p.is_dir() or p.suffix.lower() == ".csv"]
