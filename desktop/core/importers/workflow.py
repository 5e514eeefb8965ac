"""The import workflow, written once: plan what the paths hold, then import them and remember a mapping.

The window's import dialog, ``python -m desktop import`` and ``benchmarks/bench_import.py`` all call
:func:`plan_import` and :func:`run_import`, so a file is checked, imported and its mapping saved the same way
whichever door it came through. Nothing here raises for a bad path: every problem is in the report.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from desktop.core.importers.errors import ImportFailed
from desktop.core.importers.mapping import ColumnMapping, save_mapping
from desktop.core.importers.pipeline import PlannedFile, import_paths, plan
from desktop.core.importers.report import FileReport, ImportReport
from desktop.core.store import Store
from desktop.core.tasks import TaskState


@dataclass
class ImportPlan:
    """What importing the chosen paths would do, before anything is written."""

    #: each path: its files with their detected formats, or why it cannot be imported
    files: dict[Path, list[PlannedFile] | str] = field(default_factory=dict)
    #: sha256 of the planned files this workspace already holds (they will be skipped)
    already_imported: set[str] = field(default_factory=set)

    def unknown_files(self) -> list[PlannedFile]:
        """Files whose layout no format matched: they need a column mapping."""
        return [i for p in self.files.values() if not isinstance(p, str) for i in p if i.format == "unknown"]


def plan_import(store: Store, *, paths: Iterable[Path], mapping: ColumnMapping | None = None) -> ImportPlan:
    """Detect each path's format and which of its files were imported before; writes nothing."""
    result = ImportPlan()
    for path in paths:
        try:
            result.files[path] = plan(store, path, mapping)
        except ImportFailed as exc:
            result.files[path] = str(exc)
    hashes = [i.facts.sha256 for v in result.files.values() if not isinstance(v, str) for i in v]
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
    """Import ``paths`` (CSV files or Synthea export folders), each path in its own transaction.

    ``mapping`` applies to ``mapped_paths`` (all of ``paths`` when not given); the other paths are detected.
    With ``save_mapping_as`` the mapping is remembered under that name for each mapped *file* that went in,
    so the next file with the same header is recognised; a folder cannot carry a mapping and is reported as
    failed rather than raising (a folder's files have different headers). A mapping to be remembered is
    checked against every mapped file first: if one cannot be read, nothing is imported or remembered.

    ``update_existing``: rows the workspace already holds (the same patient or encounter Id, or a reading or
    condition of the same patient, time and code) with other values take the file's values, in the file's
    transaction; without it they are counted and kept as stored.
    """
    paths = list(paths)
    if mapping is None:
        mapped: list[Path] = []
    else:
        mapped = list(paths if mapped_paths is None else mapped_paths)
    plain = [p for p in paths if p not in mapped]
    report = ImportReport()
    folders = [p for p in mapped if p.is_dir()]
    for folder in folders:
        report.files.append(FileReport(
            str(folder), "mapped", "failed",
            message=f"{folder}: a column mapping applies to one CSV file, not a folder; give the file itself",
        ))
    mapped = [p for p in mapped if p not in folders]
    if save_mapping_as and mapping is not None and mapped:
        unusable = _unplannable(store, mapped, mapping)
        if unusable:
            report.files.extend(_refused(plain + mapped, unusable))
            return report
    if plain:
        report.files.extend(import_paths(store, plain, progress=state.set_progress, cancel=state,
                                         update_existing=update_existing).files)
    if mapped:  # also when cancelled: import_paths reports each path as cancelled, so none goes unreported
        assert mapping is not None
        done = import_paths(store, mapped, mapping=mapping, progress=state.set_progress, cancel=state,
                            update_existing=update_existing)
        report.files.extend(done.files)
        if save_mapping_as and not state.cancelled:
            _remember_mapping(store, done, mapping, save_mapping_as)
    return report


def _unplannable(store: Store, paths: list[Path], mapping: ColumnMapping) -> dict[Path, str]:
    problems: dict[Path, str] = {}
    for path in paths:
        try:
            plan(store, path, mapping)
        except ImportFailed as exc:
            problems[path] = str(exc)
    return problems


def _refused(paths: list[Path], problems: dict[Path, str]) -> list[FileReport]:
    """Every path failed: the unusable ones with their own message, the rest saying which one stopped them."""
    first = next(iter(problems))
    return [
        FileReport(str(p), "mapped", "failed", message=problems.get(p) or (
            f"{p.name} was not imported: the mapping is to be remembered for all the files given, and {first.name} "
            f"cannot be imported ({problems[first]}); nothing was imported or remembered"))
        for p in paths
    ]


def _remember_mapping(store: Store, done: ImportReport, mapping: ColumnMapping, name: str) -> None:
    """Save the mapping under the header of each file it imported (or found imported before)."""
    from desktop.core.importers.sniff import check_csv

    for f in done.files:
        if f.status not in ("imported", "already imported"):
            continue
        try:
            header = check_csv(Path(f.file)).header
        except ImportFailed as exc:  # the file went away after its import: its rows are in, the mapping is not
            f.notes.append(f"column mapping not remembered: {exc}")
            continue
        save_mapping(store.con, header, name, mapping)
        f.notes.append(f"column mapping remembered as {name!r} for files with this header")
