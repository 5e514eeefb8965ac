"""Import: pick files or a folder, see the detected format, map unknown columns, watch progress, read
the report. Everything that touches the workspace runs on the database executor; Cancel interrupts it
and the workspace is left exactly as it was."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from html import escape
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.core.importers import (
    ColumnMapping,
    ImportPlan,
    ImportReport,
    plan_import,
    run_plan,
)
from desktop.core.importers.column_guess import sample_values
from desktop.core.importers.pipeline import PlannedFile
from desktop.core.tasks import TaskState
from desktop.core.workspace.store import Store
from desktop.ui.executor import op
from desktop.ui.importing.qt_column_mapping import QtColumnMapping, format_name
from desktop.ui.workspace import Workspace

PICK, PLAN, MAP, RUN, REPORT = range(5)


class QtImportDialog(QDialog):
    planned = Signal()
    finished_import = Signal(object)  # the ImportReport

    def __init__(self, workspace: Workspace, parent: QWidget | None = None, *, paths: list[Path] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import into the workspace")
        self.setSizeGripEnabled(True)  # resizable: the mapping step scrolls to every column at any size
        self.resize(*_fitting_size(self, 900, 640))
        self.workspace = workspace
        self.paths: list[Path] = []
        self.plans: dict[Path, list[PlannedFile] | str] = {}
        #: what the table shows and what Import runs, as planned (files read and hashed once, never re-planned)
        self.plan: ImportPlan | None = None
        self._detected: ImportPlan | None = None  # the plan before a mapping was applied
        self.mapping: ColumnMapping | None = None
        self.token: TaskState | None = None
        self.report: ImportReport | None = None
        self._seen: set[str] = set()  # content hashes already imported into this workspace

        self.pages = QStackedWidget()
        self.pages.addWidget(self._pick_page())
        self.pages.addWidget(self._plan_page())
        self.mapper = QtColumnMapping()
        self.pages.addWidget(self.mapper)
        self.pages.addWidget(self._run_page())
        self.report_view = QTextBrowser()
        self.pages.addWidget(self.report_view)

        self.back = QPushButton("Back")
        self.next = QPushButton("Import")
        self.cancel_button = QPushButton("Cancel")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.back, self.next, self.cancel_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages, 1)
        layout.addLayout(buttons)
        self.back.clicked.connect(lambda: self._go(PICK))
        self.next.clicked.connect(self._on_next)
        self.cancel_button.clicked.connect(self._on_cancel)
        self._go(PICK)
        if paths:
            self.choose_paths(paths)

    # Pages
    def _pick_page(self) -> QWidget:
        page = QWidget()
        files = QPushButton("Choose CSV files…")
        folder = QPushButton("Choose a Synthea export folder…")
        files.clicked.connect(self._ask_files)
        folder.clicked.connect(self._ask_folder)
        text = QLabel("Import CSV files (Synthea exports, admission files, long reading files, or any CSV whose "
                      "columns you map once). You can also drop files or folders onto the main window.")
        text.setWordWrap(True)
        layout = QVBoxLayout(page)
        layout.addWidget(text)
        layout.addWidget(files)
        layout.addWidget(folder)
        layout.addStretch(1)
        return page

    def _plan_page(self) -> QWidget:
        page = QWidget()
        self.plan_table = QTableWidget(0, 4)
        self.plan_table.setHorizontalHeaderLabels(["File", "Detected format", "Size", "In this workspace"])
        self.plan_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.plan_table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.plan_table.verticalHeader().setVisible(False)
        self.plan_note = QLabel()
        self.plan_note.setWordWrap(True)
        # Off by default: a corrected export replaces stored values only when the user says so (issue 14).
        self.update_existing = QCheckBox("Update rows already in the workspace (same patient, encounter or "
                                         "reading) with this file's values")
        layout = QVBoxLayout(page)
        layout.addWidget(QLabel("<b>What will be imported</b> (detected from each file's columns):"))
        layout.addWidget(self.plan_table, 1)
        layout.addWidget(self.plan_note)
        layout.addWidget(self.update_existing)
        return page

    def _run_page(self) -> QWidget:
        page = QWidget()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress_label = QLabel("Starting…")
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.progress)
        layout.addWidget(QLabel("You can keep working in the window; Cancel stops the import and stores nothing "
                                "of the file in progress."))
        layout.addStretch(1)
        return page

    def _go(self, page: int) -> None:
        self.pages.setCurrentIndex(page)
        self.back.setVisible(page in (PLAN, MAP))
        self.next.setVisible(page in (PLAN, MAP, REPORT))
        self.next.setText({PLAN: "Import", MAP: "Use this mapping", REPORT: "Close"}.get(page, "Next"))
        self.cancel_button.setVisible(page != REPORT)
        self.cancel_button.setText("Cancel import" if page == RUN else "Cancel")

    # Choosing and planning
    def _ask_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "CSV files to import", "", "CSV files (*.csv);;All files (*)")
        if files:
            self.choose_paths([Path(f) for f in files])

    def _ask_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Synthea CSV export folder")
        if folder:
            self.choose_paths([Path(folder)])

    def choose_paths(self, paths: list[Path]) -> None:
        """Show what each path holds, as detected (runs ``plan`` on the database thread)."""
        self.paths = list(paths)
        self.mapping = None
        mapping = self.mapping

        def plan_all(store: Store) -> ImportPlan:
            return plan_import(store, paths=paths, mapping=mapping)

        self.plan_note.setText("Reading the files…")
        self._go(PLAN)
        self.next.setEnabled(False)
        op(plan_all).success(self._on_plan).run(self.workspace.executor)

    def _on_plan(self, planned: ImportPlan) -> None:
        self._detected = planned
        self.plan = planned
        self._on_planned(planned.files, planned.already_imported)

    def _on_planned(self, plans: dict[Path, list[PlannedFile] | str], seen: set[str] | None = None) -> None:
        self.plans = plans
        if seen is not None:
            self._seen = seen
        rows: list[tuple[str, str, str, str]] = []
        for path, planned in plans.items():
            if isinstance(planned, str):
                rows.append((path.name, f"Cannot import: {planned}", "", ""))
                continue
            for item in planned:
                fmt = item.format
                seen = "already imported: will be skipped" if item.facts.sha256 in self._seen else "new"
                rows.append((str(item.facts.path.name), format_name(fmt), _size(item.facts.size_bytes), seen))
        self.plan_table.setRowCount(len(rows))
        for r, cells in enumerate(rows):
            for c, text in enumerate(cells):
                self.plan_table.setItem(r, c, QTableWidgetItem(text))
        unknown = self.unknown_files()
        if unknown and self.mapping is None:
            self.plan_note.setText(f"{unknown[0].facts.path.name} is not a layout Vitalsight knows. "
                                   "Click “Map columns” to say what its columns hold.")
            self.next.setText("Map columns…")
        else:
            self.plan_note.setText("Rows that fail a check (unknown unit, implausible value, bad date) are "
                                   "reported with their line; the rest of the file is kept.")
        if self.plan is not None and self.plan.skipped:
            rows += [(Path(f.file).name, f"Skipped: {f.message}", "", "") for f in self.plan.skipped]
            self.plan_table.setRowCount(len(rows))
            for r in range(len(rows) - len(self.plan.skipped), len(rows)):
                for c, text in enumerate(rows[r]):
                    self.plan_table.setItem(r, c, QTableWidgetItem(text))
        self.next.setEnabled(any(not isinstance(p, str) for p in plans.values()))
        self.planned.emit()

    def unknown_files(self) -> list[PlannedFile]:
        source = self._detected.files if self._detected is not None else self.plans
        return [i for p in source.values() if not isinstance(p, str) for i in p if i.format == "unknown"]

    def _on_next(self) -> None:
        page = self.pages.currentIndex()
        if page == PLAN and self.unknown_files() and self.mapping is None:
            item = self.unknown_files()[0]
            self.mapper.set_header(item.facts.path.name, item.facts.header, _modified_on(item.facts.path),
                                   sample_values(item.facts))
            self._go(MAP)
        elif page == MAP:
            self.use_mapping(self.mapper.mapping())
        elif page == PLAN:
            self.start_import()
        elif page == REPORT:
            self.accept()

    def use_mapping(self, mapping: ColumnMapping) -> None:
        problems = self.mapper.problems() or mapping.problems(self.mapper.header)
        if problems:
            self.mapper.intro.setText("<b>The mapping is not complete:</b><br>" + "<br>".join(problems))
            return
        self.mapping = mapping
        if self._detected is not None:  # the planned files, read through the mapping: nothing is read again
            self.plan = self._detected.with_mapping(mapping, [i.facts.path for i in self.unknown_files()])
            self._on_planned(self.plan.files)
        self._go(PLAN)

    # Importing
    def start_import(self) -> None:
        # Progress reaches the GUI thread through the task manager's one relay.
        token = self.token = TaskState(on_progress=self.workspace.executor.tasks.progress(self._on_progress))
        remember, name = self.mapping is not None and self.mapper.remember.isChecked(), self.mapper.mapping_name()
        update = self.update_existing.isChecked()
        planned = self.plan
        assert planned is not None
        # Units that cannot be imported were shown as such and are left out; the rest runs as shown.
        runnable = replace(planned, units=[u for u in planned.units if u.problem is None])

        def run(store: Store) -> ImportReport:
            return run_plan(store, runnable, save_mapping_as=name if remember else None, update_existing=update,
                            state=token)

        self.progress.setRange(0, 0)  # busy until the first file is done: one large file has no steps
        self._go(RUN)
        op(run).success(self._on_imported).run(self.workspace.executor)

    def _on_progress(self, fraction: float, message: str) -> None:
        if fraction > 0 and self.progress.maximum() == 0:
            self.progress.setRange(0, 1000)  # from "busy" to a real fraction once there is one
        self.progress.setValue(int(fraction * 1000))
        self.progress_label.setText(message)

    def _on_cancel(self) -> None:
        if self.pages.currentIndex() == RUN and self.token is not None:
            self.progress_label.setText("Cancelling…")
            self.token.cancel()
        else:
            self.reject()

    def _on_imported(self, report: ImportReport) -> None:
        self.report = report
        self.token = None
        self.report_view.setHtml(report_html(report))
        self._go(REPORT)
        if any(f.status == "imported" for f in report.files):
            self.workspace.notify_changed()
        self.finished_import.emit(report)

    def reject(self) -> None:
        if self.token is not None:  # closing the window mid-import cancels it
            self.token.cancel()
        super().reject()


def report_html(report: ImportReport, max_reasons: int = 50) -> str:
    accepted = sum(f.rows_accepted for f in report.files)
    rejected = sum(f.rows_rejected for f in report.files)
    parts = [f"<h3>{'Imported' if report.ok else 'Import finished with problems'}</h3>",
             f"<p><b>{accepted:,}</b> rows accepted, <b>{rejected:,}</b> rows rejected.</p><ul>"]
    for f in report.files:
        line = (f"<li><b>{escape(Path(f.file).name)}</b> ({escape(format_name(f.format) if f.format else '—')}): "
                f"{escape(f.status)}, {f.rows_accepted:,} accepted, {f.rows_rejected:,} rejected")
        if f.rows_already_present:
            line += f", {f.rows_already_present:,} already present"
        if f.encoding and f.encoding != "utf-8":
            line += f" (text encoding {escape(f.encoding)})"
        if f.message:
            line += f"<br><i>{escape(f.message)}</i>"
        for note in f.notes:
            line += f"<br>{escape(note)}"
        if f.rejections:
            reasons = "".join(
                f"<li>{_where(r)}: {escape(str(r['reason']))}</li>"
                for r in f.rejections[:max_reasons]
            )
            more = f"<li>… and {len(f.rejections) - max_reasons:,} more</li>" if len(f.rejections) > max_reasons else ""
            line += f"<ul>{reasons}{more}</ul>"
        parts.append(line + "</li>")
    parts.append("</ul>")
    return "".join(parts)


def _fitting_size(widget: QWidget, width: int, height: int) -> tuple[int, int]:
    """``width`` x ``height``, or less where the screen is smaller (a 1366x768 laptop with a task bar)."""
    screen = widget.screen()
    if screen is None:
        return width, height
    room = screen.availableGeometry()
    return min(width, room.width() - 40), min(height, room.height() - 60)


def _where(rejection: dict[str, object]) -> str:
    """'line 12', or 'lines 12-13' for a record a quoted value spread over several lines."""
    line, last = rejection.get("line"), rejection.get("last_line")
    if line is None:
        return "line ?"
    return f"lines {line}-{last}" if last else f"line {line}"


def _modified_on(path: Path) -> date | None:
    """The day the file was last saved: the default date of a file without a time column."""
    try:
        return datetime.fromtimestamp(path.stat().st_mtime).date()
    except OSError:
        return None


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


if __name__ == "__main__":
    import sys
    import tempfile

    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv)
    ws = Workspace()
    ws.create(str(Path(tempfile.mkdtemp()) / "preview.duckdb"), passphrase=None)  # an empty workspace to import into
    dialog = QtImportDialog(ws)
    dialog.show()
    import os

    if os.environ.get("VITALSIGHT_PREVIEW_QUIT_MS"):
        from PySide6.QtCore import QTimer

        QTimer.singleShot(int(os.environ["VITALSIGHT_PREVIEW_QUIT_MS"]), app.quit)
    app.aboutToQuit.connect(ws.shutdown)
    code = app.exec()
    from desktop.ui.teardown import dispose

    dispose(dialog)
    raise SystemExit(code)
