"""The synthetic cohort generator: determinism, layouts, fast writers, the committed sample, and that
its data goes through the importer with exactly the deliberately implausible rows rejected."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from desktop.core.importers.pipeline import import_paths
from desktop.core.resources import resource_path
from desktop.core.workspace.store import Store
from devtools.synthetic import (
    EXTRA_SYNTHEA_FILES,
    HEADERS,
    HISTORY_HEADERS,
    SAMPLE,
    SNAPSHOT_HEADER,
    SPREADSHEET_VARIANTS,
    generate_cohort,
    write_long_file,
    write_synthea_observations,
)
from devtools.synthetic.__main__ import main as synthetic_main
from devtools.synthetic.vocab import WIDE_HEADER

FILES = ("synthea/patients.csv", "synthea/encounters.csv", "synthea/conditions.csv", "synthea/observations.csv",
         "admissions_wide.csv", "synthea/medications.csv", "synthea/allergies.csv", "synthea/procedures.csv",
         "synthea/immunizations.csv")
SMALL = {"patients": 14, "years": 3, "wide_rows": 40}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _header(path: Path) -> str:
    with path.open(encoding="utf-8") as f:
        return f.readline().rstrip("\n")


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    a = generate_cohort(tmp_path / "a", seed=7, **SMALL)
    b = generate_cohort(tmp_path / "b", seed=7, **SMALL)
    generate_cohort(tmp_path / "c", seed=8, **SMALL)
    assert a == b
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / FILES[3]).read_bytes() != (tmp_path / "c" / FILES[3]).read_bytes()


@pytest.mark.parametrize("version", ["current", "old"])
def test_synthea_headers_follow_the_version(tmp_path: Path, version: str) -> None:
    result = generate_cohort(tmp_path, seed=3, synthea_version=version, **SMALL)
    for name in ("patients", "encounters", "conditions", "observations"):
        path = tmp_path / "synthea" / f"{name}.csv"
        assert _header(path) == HEADERS[version][name]
        width = len(HEADERS[version][name].split(","))
        with path.open(encoding="utf-8", newline="") as f:
            assert all(len(r) == width for r in csv.reader(f)), name
    obs = _header(tmp_path / "synthea" / "observations.csv").split(",")
    assert ("CATEGORY" in obs) == (version == "current")
    assert ("SYSTEM" in _header(tmp_path / "synthea" / "conditions.csv").split(",")) == (version == "current")
    patients = _header(tmp_path / "synthea" / "patients.csv").split(",")
    assert {"MIDDLE", "FIPS", "INCOME"} <= set(patients) if version == "current" else not {"MIDDLE", "FIPS", "INCOME"} & set(patients)
    assert result["patients"] == SMALL["patients"] == len(_rows(tmp_path / "synthea" / "patients.csv"))
    assert result["observations"] == len(_rows(tmp_path / "synthea" / "observations.csv"))


def test_counts_implausible_rows_and_synthea_quirks(tmp_path: Path) -> None:
    result = generate_cohort(tmp_path, seed=11, patients=40, years=5, wide_rows=10)
    obs_path = tmp_path / "synthea" / "observations.csv"
    lines = obs_path.read_text(encoding="utf-8").splitlines()
    assert result["observations"] == len(lines) - 1
    bad = result["implausible_rows"]
    assert isinstance(bad, list) and len(bad) == result["implausible"] >= 5
    assert result["implausible"] <= max(5, result["observations"] // 500)  # rare: about 0.1 %
    for line, patient, code, value in bad:
        fields = next(csv.reader([lines[line - 1]]))
        assert (fields[1], fields[4], fields[6]) == (patient, code, value)
    assert {code for _, _, code, _ in bad} == {"8867-4", "8310-5", "29463-7", "8480-6", "2708-6"}

    rows = _rows(obs_path)
    assert any(r["CODE"] == "8310-5" and r["UNITS"] == "[degF]" for r in rows)
    assert any(r["CODE"] == "2339-0" and r["UNITS"] == "mmol/L" for r in rows)
    assert any(r["TYPE"] == "text" and r["CODE"] == "72166-2" for r in rows)
    assert all(r["DATE"].endswith("Z") and r["DATE"][10] == "T" for r in rows)
    people = _rows(tmp_path / "synthea" / "patients.csv")
    assert all(p["FIRST"][-1].isdigit() and p["LAST"][-1].isdigit() for p in people)


def _series(rows: list[dict[str, str]], patient: str, code: str) -> list[float]:
    return [float(r["VALUE"]) for r in rows if r["PATIENT"] == patient and r["CODE"] == code and r["UNITS"] != "[degF]"]


def test_values_follow_conditions_in_the_archetypes(tmp_path: Path) -> None:
    generate_cohort(tmp_path, seed=5, patients=4, years=5, wide_rows=0)
    people = _rows(tmp_path / "synthea" / "patients.csv")
    rows = _rows(tmp_path / "synthea" / "observations.csv")
    woman, ckd_man, child, septic = (p["Id"] for p in people)
    sbp = _series(rows, woman, "8480-6")
    assert sum(sbp[-3:]) / 3 > sum(sbp[:3]) / 3 + 10 and max(sbp) >= 140  # hypertension, rising
    assert max(_series(rows, woman, "4548-4")) >= 6.5
    assert min(_series(rows, ckd_man, "33914-3")) < 45 and max(_series(rows, ckd_man, "38483-4")) > 1.5
    assert min(_series(rows, child, "8867-4")) > 80 and max(_series(rows, child, "8302-2")) < 150
    assert max(_series(rows, septic, "8310-5")) >= 39 and min(_series(rows, septic, "2708-6")) <= 91
    assert max(_series(rows, septic, "9279-1")) >= 25


def test_wide_file_layout(tmp_path: Path) -> None:
    generate_cohort(tmp_path, seed=2, patients=0, years=1, wide_rows=120)
    path = tmp_path / "admissions_wide.csv"
    assert _header(path) == ",".join(WIDE_HEADER)
    rows = _rows(path)
    assert len(rows) == 120
    assert any("," in r["Hospital"] for r in rows)
    assert '"' in path.read_text(encoding="utf-8")  # the commas are quoted
    assert any(r["Name"] not in (r["Name"].title(), r["Name"].lower()) for r in rows)  # random case
    assert all(3000 <= int(r["WBC Count"]) < 50000 for r in rows)  # cells/uL, as SanAssist writes it


@pytest.mark.parametrize("rows", [0, 1, 11, 12345])
def test_fast_writers_write_exactly_the_rows_asked(tmp_path: Path, rows: int) -> None:
    long_path, obs_path = tmp_path / "long.csv", tmp_path / "observations.csv"
    assert write_long_file(long_path, rows, 1) == rows
    assert write_synthea_observations(obs_path, rows, 1) == rows
    assert _header(long_path) == "patient,time,measurement,value,unit"
    assert _header(obs_path) == HEADERS["current"]["observations"]
    assert len(_rows(long_path)) == rows and len(_rows(obs_path)) == rows
    write_long_file(tmp_path / "again.csv", rows, 1)
    assert (tmp_path / "again.csv").read_bytes() == long_path.read_bytes()


def test_committed_sample_is_what_the_generator_writes(tmp_path: Path) -> None:
    generate_cohort(tmp_path, **SAMPLE)
    sample = resource_path("sample")
    for name in FILES:
        assert (sample / name).read_bytes() == (tmp_path / name).read_bytes(), (
            f"resources/sample/{name} is stale: run python -m devtools.synthetic --sample --out resources/sample"
        )
    total = sum((sample / name).stat().st_size for name in FILES)
    assert total <= 2_000_000


def test_generated_files_import_with_only_the_planted_rows_rejected(tmp_path: Path, store: Store) -> None:
    result = generate_cohort(tmp_path / "data", seed=4, patients=30, years=4, wide_rows=60)
    report = import_paths(store, [tmp_path / "data" / "synthea", tmp_path / "data" / "admissions_wide.csv"])
    by_file = {Path(f.file).name: f for f in report.files}
    read = ("patients.csv", "encounters.csv", "conditions.csv", "observations.csv", "admissions_wide.csv")
    assert all(by_file[name].status == "imported" for name in read)
    # Read since issue 14 item 6 (they were skipped before): every row stored, none rejected.
    assert {name: by_file[name].status for name in EXTRA_SYNTHEA_FILES} == dict.fromkeys(EXTRA_SYNTHEA_FILES, "imported")
    assert all(by_file[name].rows_rejected == 0 and by_file[name].rows_accepted > 0 for name in EXTRA_SYNTHEA_FILES)
    obs = by_file["observations.csv"]
    assert obs.rows_rejected == result["implausible"]
    assert sorted(r["line"] for r in obs.rejections) == [line for line, *_ in result["implausible_rows"]]
    assert obs.rows_accepted + obs.rows_rejected == result["observations"]
    assert by_file["admissions_wide.csv"].rows_rejected == 0
    assert all(by_file[n].rows_rejected == 0 for n in ("patients.csv", "encounters.csv", "conditions.csv"))



@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    out = tmp_path_factory.mktemp("messy")
    return out, generate_cohort(out, seed=21, patients=60, years=5, wide_rows=30,
                                spreadsheet_variants=SPREADSHEET_VARIANTS)


def test_observations_are_as_messy_as_a_real_export(messy: tuple[Path, dict[str, object]]) -> None:
    out, _ = messy
    rows = _rows(out / "synthea" / "observations.csv")
    assert len({r["CODE"] for r in rows}) >= 100
    assert {"survey", "laboratory", "vital-signs", "", "social-history"} <= {r["CATEGORY"] for r in rows}
    assert {r["TYPE"] for r in rows} == {"numeric", "text"}
    survey_text = [r for r in rows if r["CATEGORY"] == "survey" and r["TYPE"] == "text"]
    assert any(r["VALUE"].startswith("I choose not to answer") for r in survey_text)
    assert max(len(r["DESCRIPTION"]) for r in survey_text) > 100  # long questions
    qaly = [r for r in rows if r["CODE"] in ("QALY", "DALY", "QOLS")]
    assert qaly and all(r["CATEGORY"] == "" and r["ENCOUNTER"] == "" for r in qaly)
    assert {r["UNITS"] for r in qaly} == {"a", "{score}"}
    units = {r["UNITS"] for r in rows}
    assert {"{score}", "mL/min/{1.73_m2}", "10*3/uL", "mm[Hg]", "a", "/a", "{#}"} <= units
    by_time: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        by_time.setdefault((r["PATIENT"], r["DATE"]), []).append(r["CODE"])
    assert max(len(codes) for codes in by_time.values()) >= 10  # a visit's panel shares one timestamp
    assert any(len(codes) != len(set(codes)) for codes in by_time.values())  # the same code twice at once


def test_deaths_children_pregnancies_and_findings(messy: tuple[Path, dict[str, object]]) -> None:
    out, result = messy
    people = _rows(out / "synthea" / "patients.csv")
    rows = _rows(out / "synthea" / "observations.csv")
    dead = {p["Id"]: p["DEATHDATE"] for p in people if p["DEATHDATE"]}
    assert len(dead) == result["deaths"] >= 3
    causes = {r["PATIENT"]: r for r in rows if r["CODE"] == "69453-9"}
    assert set(causes) == set(dead)
    for pid, day in dead.items():
        assert causes[pid]["TYPE"] == "text" and causes[pid]["VALUE"] and causes[pid]["DATE"][:10] == day
        assert max(r["DATE"] for r in rows if r["PATIENT"] == pid) == causes[pid]["DATE"]  # nothing after death
    assert sum(p["BIRTHDATE"] > "2007-06-30" for p in people) >= 3  # children (under 18 at the cohort's end)
    conditions = _rows(out / "synthea" / "conditions.csv")
    assert any(c["DESCRIPTION"] == "Normal pregnancy" and c["STOP"] for c in conditions)
    findings = [c for c in conditions if c["DESCRIPTION"].endswith("(finding)")]
    assert len(findings) > len(conditions) / 3  # social history outnumbers diagnoses, as in real exports
    assert any(c["DESCRIPTION"] == "Hypertension" for c in conditions)  # some disorders have no suffix


@pytest.mark.parametrize("version", ["current", "old"])
def test_the_other_synthea_files_follow_the_version(tmp_path: Path, version: str) -> None:
    generate_cohort(tmp_path, seed=9, synthea_version=version, **SMALL)
    for name in ("medications", "allergies", "procedures", "immunizations"):
        path = tmp_path / "synthea" / f"{name}.csv"
        assert _header(path) == HISTORY_HEADERS[version][name]
        width = len(HISTORY_HEADERS[version][name].split(","))
        with path.open(encoding="utf-8", newline="") as f:
            assert all(len(r) == width for r in csv.reader(f)), name
    meds = _rows(tmp_path / "synthea" / "medications.csv")
    assert any(m["STOP"] for m in meds) and any(not m["STOP"] for m in meds)
    assert any(m["REASONDESCRIPTION"] for m in meds)


def test_the_sample_holds_only_what_the_importer_reads(tmp_path: Path) -> None:
    result = generate_cohort(tmp_path, **SAMPLE)
    assert sorted(result["files"]) == sorted(FILES)
    assert not (tmp_path / "snapshot.csv").exists()
    assert all((tmp_path / "synthea" / name).exists() for name in EXTRA_SYNTHEA_FILES)


def test_the_sample_history_files_are_as_messy_as_real_ones() -> None:
    sample = resource_path("sample") / "synthea"
    meds = _rows(sample / "medications.csv")
    assert any(not m["STOP"] for m in meds) and any(m["STOP"] for m in meds)  # taken still, and stopped
    allergies = _rows(sample / "allergies.csv")
    assert any(not a["DESCRIPTION1"] for a in allergies) and any(a["DESCRIPTION1"] for a in allergies)
    assert {a["TYPE"] for a in allergies} == {"allergy", "intolerance"}
    assert len({r["PATIENT"] for r in _rows(sample / "immunizations.csv")}) >= 20


def test_kaggle_style_snapshot(messy: tuple[Path, dict[str, object]]) -> None:
    out, result = messy
    path = out / "snapshot.csv"
    assert _header(path) == ",".join(SNAPSHOT_HEADER)
    rows = _rows(path)
    assert len(rows) == result["patients"] and len({r["Patient_ID"] for r in rows}) == len(rows)
    assert {r["Diabetes"] for r in rows} == {"0", "1"} and {r["Heart_Disease"] for r in rows} <= {"0", "1"}
    assert {r["Smoking_Status"] for r in rows} <= {"Never", "Former", "Current"}
    assert all(r["Blood_Pressure"].isdigit() and 70 <= int(r["Blood_Pressure"]) <= 260 for r in rows)
    text = path.read_text(encoding="utf-8")
    assert "-" not in text.replace("Patient_ID", "") and "mm" not in text  # no dates, no units


def test_spreadsheet_variants_hold_the_same_rows(messy: tuple[Path, dict[str, object]]) -> None:
    out, _ = messy
    original = list(csv.reader((out / "admissions_wide.csv").read_text(encoding="utf-8").splitlines()))
    cp1252 = (out / "admissions_wide.cp1252.csv").read_bytes()
    assert "müller" in cp1252.decode("cp1252").lower() and b"\r\n" in cp1252
    with pytest.raises(UnicodeDecodeError):
        cp1252.decode("utf-8")
    assert list(csv.reader(cp1252.decode("cp1252").splitlines())) == original
    utf16 = (out / "admissions_wide.utf16-tab.csv").read_bytes()
    assert utf16[:2] in (b"\xff\xfe", b"\xfe\xff")
    assert list(csv.reader(utf16.decode("utf-16").splitlines(), delimiter="\t")) == original
    semi = list(csv.reader((out / "admissions_wide.semicolon.csv").read_bytes().decode("cp1252").splitlines(),
                           delimiter=";"))
    bmi = original[0].index("BMI")
    assert all(s[bmi] == o[bmi].replace(".", ",") for s, o in zip(semi[1:], original[1:], strict=True))
    assert "," in semi[1][bmi]


def test_the_command_line_writes_a_cohort(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert synthetic_main(["--out", str(tmp_path), "--patients", "5", "--years", "2", "--seed", "3",
                           "--wide-rows", "4", "--spreadsheet", "utf16-tab"]) == 0
    assert '"patients": 5' in capsys.readouterr().out
    assert (tmp_path / "synthea" / "medications.csv").is_file()
    assert (tmp_path / "admissions_wide.utf16-tab.csv").is_file()
