"""Build a whole cohort on disk: Synthea folder, wide admissions file, and the deliberate bad rows."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from devtools.synthetic.changes import add_history_changes
from devtools.synthetic.cohort import END, YEAR, ObsRow, Person, make_person
from devtools.synthetic.exports import SPREADSHEET_VARIANTS, write_snapshot, write_spreadsheet_variant
from devtools.synthetic.history import add_history
from devtools.synthetic.visits import simulate
from devtools.synthetic.writers import (
    VERSIONS,
    write_conditions,
    write_encounters,
    write_observations,
    write_patients,
    write_wide,
)
from devtools.synthetic.writers_history import write_history_files

#: The first patients of every cohort are these, so a sample always shows each case the app must handle.
ARCHETYPES = ("htn-dm-woman", "ckd-man", "child", "sepsis-man")

#: The committed sample (resources/sample) is exactly this; tests regenerate it and compare bytes. It holds
#: the Synthea files the importer reads, medications, allergies, procedures and immunizations included, but
#: no snapshot file (``snapshot`` False), and stays under 2 MB.
SAMPLE: dict[str, Any] = {"patients": 45, "years": 4, "seed": 20250630, "wide_rows": 150, "extra_files": True,
                          "snapshot": False}

#: Synthea files written beside patients, encounters, conditions and observations (with ``extra_files``).
EXTRA_SYNTHEA_FILES = ("medications.csv", "allergies.csv", "procedures.csv", "immunizations.csv")

#: Share of observation rows made implausible on purpose (at least one of each kind below).
IMPLAUSIBLE_SHARE = 0.001


def _implausible(kind: int, row: ObsRow) -> None:
    """Typos of the kinds real files hold; each one must be rejected by the importer's plausibility gate."""
    value = float(row[6])
    if kind == 0:  # heart rate 400 /min
        row[6] = "400.0"
    elif kind == 1:  # a Fahrenheit reading labelled Cel (98.6 Cel)
        row[6], row[7] = f"{value * 9 / 5 + 32:.1f}" if row[7] == "Cel" else f"{value:.1f}", "Cel"
    elif kind == 2:  # negative weight
        row[6] = f"{-value:.1f}"
    elif kind == 3:  # systolic BP with an extra digit
        row[6] = f"{value * 10:.1f}"
    else:  # SpO2 over 100 %
        row[6] = "150.0"


_KIND_CODES = ("8867-4", "8310-5", "29463-7", "8480-6", "2708-6")


def inject_implausible(rows: list[ObsRow], rng: random.Random) -> list[tuple[int, str, str, str]]:
    """Corrupt about 0.1 % of rows (at least one per kind), chosen by ``rng``; returns what was done.

    Each entry is (index in ``rows``, patient, code, value written); index + 2 is the file line.
    """
    by_code: dict[str, list[int]] = {c: [] for c in _KIND_CODES}
    for i, r in enumerate(rows):
        if r[4] in by_code and r[8] == "numeric":
            by_code[r[4]].append(i)
    wanted = max(len(_KIND_CODES), round(len(rows) * IMPLAUSIBLE_SHARE))
    done: list[tuple[int, str, str, str]] = []
    taken: set[int] = set()
    for n in range(wanted):
        kind = n % len(_KIND_CODES)
        candidates = [i for i in by_code[_KIND_CODES[kind]] if i not in taken]
        if not candidates:
            continue
        i = rng.choice(candidates)
        taken.add(i)
        _implausible(kind, rows[i])
        done.append((i, rows[i][1], rows[i][4], rows[i][6]))
    return sorted(done)


def generate_cohort(
    out_dir: Path, *, patients: int, years: int, seed: int, wide_rows: int, synthea_version: str = "current",
    extra_files: bool = True, snapshot: bool = True, spreadsheet_variants: Sequence[str] = (),
    history_changes: bool = False,
) -> dict[str, Any]:
    """Write ``out_dir/synthea/{patients,encounters,conditions,observations}.csv`` and
    ``out_dir/admissions_wide.csv``; the same arguments always give the same bytes.

    With ``extra_files`` (the default) also ``synthea/{medications,allergies,procedures,immunizations}.csv``
    and, unless ``snapshot`` is False, ``snapshot.csv`` (Kaggle-style, one row per patient). Each name in ``spreadsheet_variants``
    (:data:`SPREADSHEET_VARIANTS`) adds ``admissions_wide.<variant>.csv`` and ``snapshot.<variant>.csv``
    (the same rows as Excel would save them). ``history_changes`` adds chronic drugs re-issued yearly and
    switched, drugs with no reason and outpatient / virtual / home visits (``changes.py``), from a stream of
    its own: without it the files are unchanged.

    Returns counts: patients, encounters, conditions, observations (rows in observations.csv),
    implausible (rows corrupted on purpose), wide_rows, deaths, plus ``implausible_rows``: a list of
    (line in observations.csv, patient, code, value) for the corrupted rows, and ``files``: every file
    written, relative to ``out_dir``.
    """
    if synthea_version not in VERSIONS:
        raise ValueError(f"synthea_version must be one of {', '.join(VERSIONS)}, not {synthea_version!r}")
    unknown = [v for v in spreadsheet_variants if v not in SPREADSHEET_VARIANTS]
    if unknown:
        raise ValueError(f"spreadsheet variants must be among {', '.join(SPREADSHEET_VARIANTS)}, not {unknown}")
    if patients < 0 or years < 1 or wide_rows < 0:
        raise ValueError("patients and wide_rows must be >= 0 and years >= 1")
    out_dir = Path(out_dir)
    master = random.Random(seed)
    start = END - YEAR * years
    people: list[Person] = []
    rows: list[ObsRow] = []
    for n in range(patients):
        # One stream per person: adding patients never changes the earlier ones.
        prng = random.Random(master.getrandbits(64))
        archetype = ARCHETYPES[n] if n < len(ARCHETYPES) else None
        p = make_person(prng, start, archetype)
        # The archetypes stay alive: tests read their whole course.
        rows.extend(add_history(p, prng, start, simulate(p, prng, start), may_die=archetype is None))
        people.append(p)
    bad = inject_implausible(rows, random.Random(master.getrandbits(64)))
    if history_changes:
        add_history_changes(people, random.Random(f"history-changes-{seed}"))

    synthea = out_dir / "synthea"
    demo_rng = random.Random(master.getrandbits(64))
    write_patients(synthea / "patients.csv", people, demo_rng, synthea_version)
    encounters = write_encounters(synthea / "encounters.csv", people, demo_rng, synthea_version)
    conditions = write_conditions(synthea / "conditions.csv", people, synthea_version)
    observations = write_observations(synthea / "observations.csv", rows, synthea_version)
    wide = write_wide(out_dir / "admissions_wide.csv", wide_rows, random.Random(master.getrandbits(64)))
    files = [f"synthea/{name}.csv" for name in ("patients", "encounters", "conditions", "observations")]
    files.append("admissions_wide.csv")
    # Drawn after everything above, so the files the sample holds do not change with these options.
    extra_rng = random.Random(master.getrandbits(64))
    if extra_files:
        write_history_files(synthea, people, extra_rng, synthea_version)
        files += [f"synthea/{name}" for name in EXTRA_SYNTHEA_FILES]
        if snapshot:  # drawn last: leaving it out changes no other file
            write_snapshot(out_dir / "snapshot.csv", people, extra_rng, start)
            files.append("snapshot.csv")
    for variant in spreadsheet_variants:
        for name in ("admissions_wide", "snapshot"):
            if (out_dir / f"{name}.csv").is_file() and f"{name}.csv" in files:
                write_spreadsheet_variant(out_dir / f"{name}.csv", out_dir / f"{name}.{variant}.csv", variant)
                files.append(f"{name}.{variant}.csv")
    return {
        "patients": len(people), "encounters": encounters, "conditions": conditions, "observations": observations,
        "implausible": len(bad), "wide_rows": wide, "deaths": sum(p.death is not None for p in people),
        "implausible_rows": [(i + 2, patient, code, value) for i, patient, code, value in bad],
        "files": files,
    }
