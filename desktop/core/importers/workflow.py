"""The import workflow, written once: plan what the paths hold, then import exactly that plan.

The window's import dialog, ``python -m desktop import`` and ``benchmarks/bench_import.py`` all call
:func:`plan_import` and :func:`run_plan` (or :func:`run_import`, both in one), so a file is checked, imported
and its mapping saved the same way whichever door it came through. Planning reads and hashes each file once;
the import runs the plan it is given (the one the dialog showed), never planning again. Nothing here raises
for a bad path: every problem is in the report.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb

from desktop.core.importers.errors import ImportFailed
from desktop.core.importers.mapping import ColumnMapping, save_mapping
from desktop.core.importers.pipeline import PlannedFile, PlannedUnit, map_planned, plan_path, run_units
from desktop.core.importers.report import FileReport, ImportReport
from desktop.core.tasks import TaskState
from desktop.core.workspace.store import Store


@dataclass
class ImportPlan:
    """What importing the chosen paths would do, before anything is written."""

    #: each unit (a file, or the CSV files directly inside one folder) in the order it will go in
    units: list[PlannedUnit] = field(default_factory=list)
    #: files and folders a folder walk passed over, each with its reason (reported as "skipped")
    skipped: list[FileReport] = field(default_factory=list)
    #: sha256 of the planned files this workspace already holds (they will be skipped)
    already_imported: set[str] = field(default_factory=set)

    @property
    def files(self) -> dict[Path, list[PlannedFile] | str]:
        """Each unit's path: its files with their detected formats, or why it cannot be imported."""
        return {u.path: (u.problem if u.problem is not None else u.files) for u in self.units}

    def unknown_files(self) -> list[PlannedFile]:
        """Files whose layout no format matched: they need a column mapping."""
        return [f for u in self.units for f in u.files if f.format == "unknown"]

    def with_mapping(self, mapping: ColumnMapping, paths: Iterable[Path] | None = None) -> ImportPlan:
        """The same plan with ``mapping`` applied to ``paths`` (default: every file no format matched):
        no file is read again. A file the mapping does not fit, or a folder, becomes a unit's problem."""
        chosen = None if paths is None else set(paths)
        units = []
        for unit in self.units:
            if chosen is None:
                wanted = unit.problem is None and any(f.format == "unknown" for f in unit.files)
            else:
                wanted = unit.path in chosen or unit.given in chosen
            if not wanted:
                units.append(unit)
            elif unit.problem is not None:
                units.append(replace(unit, mapped=True))
            elif unit.given is not None and unit.given.is_dir():
                units.append(PlannedUnit(unit.path, problem=(
                    f"{unit.given}: a column mapping applies to one CSV file, not a folder; give the file itself"),
                    given=unit.given, mapped=True))
            else:
                try:
                    units.append(replace(unit, files=[map_planned(f, mapping) for f in unit.files], mapped=True))
                except ImportFailed as exc:
                    units.append(PlannedUnit(unit.path, problem=str(exc), given=unit.given, mapped=True))
        return replace(self, units=units)


def plan_import(
    store: Store, *, paths: Iterable[Path], mapping: ColumnMapping | None = None,
    mapped_paths: Iterable[Path] | None = None,
) -> ImportPlan:
    """Detect each path's format (walking folders) and which files were imported before; writes nothing.
    ``mapping`` applies to ``mapped_paths`` (all of ``paths`` when not given)."""
    paths = list(paths)
    mapped = set() if mapping is None else set(paths if mapped_paths is None else mapped_paths)
    result = ImportPlan()
    for path in paths:
        units, skipped = plan_path(store, path)
        result.units += units
        result.skipped += skipped
    if mapping is not None and mapped:
        result = result.with_mapping(mapping, mapped)
    hashes = [f.facts.sha256 for u in result.units for f in u.files]
    if hashes:
        rows = store.con.execute(
            "SELECT sha256 FROM imports WHERE sha256 IN (SELECT unnest(?))", [hashes]
        ).fetchall()
        result.already_imported = {r[0] for r in rows}
    return result


def run_import(
    store: Store,
    *,
    paths: Iterable[Path],
    mapping: ColumnMapping | None = None,
    mapped_paths: Iterable[Path] | None = None,
    save_mapping_as: str | None = None,
    update_existing: bool = False,
    state: TaskState,
) -> ImportReport:
    """Plan ``paths`` (CSV files or folders) and import the plan: see :func:`plan_import` and :func:`run_plan`."""
    planned = plan_import(store, paths=paths, mapping=mapping, mapped_paths=mapped_paths)
    return run_plan(store, planned, save_mapping_as=save_mapping_as, update_existing=update_existing, state=state)


def run_plan(
    store: Store,
    planned: ImportPlan,
    *,
    save_mapping_as: str | None = None,
    update_existing: bool = False,
    state: TaskState,
) -> ImportReport:
    """Import ``planned`` as it stands, each unit in its own transaction.

    With ``save_mapping_as`` the mapping of the mapped files is remembered under that name for each mapped
    file that went in, so the next file with the same header is recognised. A mapping to be remembered must
    fit every file it was given for: if one cannot be imported, nothing is imported or remembered.

    ``update_existing``: rows the workspace already holds (the same patient or encounter Id, or a reading or
    condition of the same patient, time and code) with other values take the file's values, in the file's
    transaction; without it they are counted and kept as stored.
    """
    mapped = [u for u in planned.units if u.mapped and u.problem is None]
    unusable = [u for u in planned.units if u.mapped and u.problem is not None]
    if save_mapping_as and unusable:
        return _refused(planned, unusable[0])
    report = run_units(store, planned.units, progress=state.set_progress, cancel=state,
                       update_existing=update_existing)
    report.files += planned.skipped
    if save_mapping_as and mapped and not state.cancelled:
        _remember_mapping(store, report, mapped, save_mapping_as)
    return report


def _refused(planned: ImportPlan, first: PlannedUnit) -> ImportReport:
    """Every unit failed: the unusable ones with their own message, the rest saying which one stopped them."""
    reason = first.problem
    report = ImportReport()
    for u in planned.units:
        names = [str(f.facts.path) for f in u.files] or [str(u.path)]
        report.files += [FileReport(name, "mapped" if u.files else "", "failed", message=u.problem or (
            f"{Path(name).name} was not imported: the mapping is to be remembered for all the files given, and "
            f"{first.path.name} cannot be imported ({reason}); nothing was imported or remembered"))
            for name in names]
    return report


def _remember_mapping(store: Store, report: ImportReport, units: list[PlannedUnit], name: str) -> None:
    """Save the mapping under the header of each file it imported (or found imported before): the header
    read when the file was planned, so the file is not read again."""
    by_file = {str(f.facts.path): f for u in units for f in u.files if f.mapping is not None}
    for entry in report.files:
        item = by_file.get(entry.file)
        if item is None or entry.status not in ("imported", "already imported"):
            continue
        assert item.mapping is not None
        try:
            save_mapping(store.con, item.facts.header, name, item.mapping)
        except duckdb.Error as exc:  # the rows are in (committed); only the remembering failed
            entry.notes.append(f"column mapping not remembered: {str(exc).splitlines()[0]}")
            continue
        entry.notes.append(f"column mapping remembered as {name!r} for files with this header")
