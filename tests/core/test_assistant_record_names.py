"""Names as the record spells them (punctuation, strengths, a word of another entity or a measurement inside
them), visit classes by their everyday names, dated windows, counts of none and age bands, on a workspace
imported from a generated cohort. Expected answers are computed here from the CSV files with pandas."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from desktop.core.assistant.ask import answer_question, parse_question
from desktop.core.importers import import_paths
from desktop.core.workspace.store import Store, open_store
from devtools.synthetic import generate_cohort

TABLES = ("patients", "conditions", "medications", "encounters", "immunizations", "procedures", "allergies")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, dict[str, pd.DataFrame]]:
    folder = tmp_path_factory.mktemp("names")
    generate_cohort(folder, patients=14, years=6, seed=3, wide_rows=0, extra_files=True, snapshot=False,
                    history_changes=True)
    store = open_store(folder / "ws.duckdb")
    import_paths(store, [folder / "synthea"])
    frames = {t: pd.read_csv(folder / "synthea" / f"{t}.csv", dtype=str, keep_default_na=False) for t in TABLES}
    yield store, frames
    store.close()


def _ask(store: Store, question: str, pid: str | None):  # type: ignore[no-untyped-def]
    answer = answer_question(store, question=question, patient_id=pid)
    assert answer.computed and not answer.declined, (question, answer.text)
    return answer


def _count(answer) -> int:  # type: ignore[no-untyped-def]
    return int(next(f.value for f in answer.facts if f.label.startswith("number of")))


def _pick(frame: pd.DataFrame, test) -> str:  # type: ignore[no-untyped-def]
    """A description of the frame that passes ``test`` and is held by at least one patient."""
    names = [d for d in frame["DESCRIPTION"].unique() if test(d)]
    assert names, "the generated cohort holds no such name"
    return sorted(names, key=len)[-1]


def test_a_name_spelt_whole_with_punctuation_and_strengths_is_read(world) -> None:  # type: ignore[no-untyped-def]
    store, f = world
    patients = sorted(f["patients"]["Id"])
    vaccine = _pick(f["immunizations"], lambda d: re.search(r"[()/]", d) is not None)
    said = " ".join(vaccine.lower().split())   # as typed: single spaces, lower case
    for pid in patients[:6]:
        n = int(((f["immunizations"]["PATIENT"] == pid) & (f["immunizations"]["DESCRIPTION"] == vaccine)).sum())
        answer = _ask(store, f"how many {said} immunizations has the patient had?", pid)
        assert _count(answer) == n and str(n) in answer.text, answer.text
    drug = _pick(f["medications"], lambda d: re.search(r"\d+(\.\d+)? MG", d) is not None)
    holder = f["medications"].loc[f["medications"]["DESCRIPTION"] == drug, "PATIENT"].iloc[0]
    answer = _ask(store, f"has this patient ever taken {' '.join(drug.lower().split())}?", holder)
    assert answer.text.startswith("Yes"), answer.text


def test_a_procedure_named_with_another_entitys_word_or_a_measurements_word(world) -> None:  # type: ignore[no-untyped-def]
    store, f = world
    procedures = f["procedures"]
    for pattern in (r"^medication\b", r"\boxygen\b|\bchest\b|\bblood pressure\b"):
        matching = [d for d in procedures["DESCRIPTION"].unique() if re.search(pattern, d.lower())]
        if not matching:
            continue
        name = re.sub(r"\s*\((procedure|regime/therapy)\)$", "", sorted(matching)[0])
        rows = procedures[procedures["DESCRIPTION"].str.lower().str.startswith(name.lower())]
        pid = rows["PATIENT"].value_counts().index[0]
        answer = _ask(store, f"how many times did the patient receive {name.lower()}?", pid)
        assert answer.plan.entity == "procedure" and _count(answer) == int((rows["PATIENT"] == pid).sum()), answer.text
        last = rows.loc[rows["PATIENT"] == pid, "START"].max()[:10]
        assert last in _ask(store, f"when did the patient last have {name.lower()}?", pid).text


def test_visit_classes_by_everyday_names_counts_of_none_and_dated_windows(world) -> None:  # type: ignore[no-untyped-def]
    store, f = world
    enc = f["encounters"]
    for pid in sorted(f["patients"]["Id"])[:5]:
        mine = enc[enc["PATIENT"] == pid]
        inpatient = int((mine["ENCOUNTERCLASS"] == "inpatient").sum())
        answer = _ask(store, "count the hospital admissions of this patient", pid)
        assert _count(answer) == inpatient and re.match(rf"{inpatient}\b", answer.text), answer.text
        emergency = mine[mine["ENCOUNTERCLASS"] == "emergency"]
        year = int(mine["START"].min()[:4])
        expected = "Yes" if (emergency["START"].str[:4] == str(year)).any() else "No"
        assert _ask(store, f"has the patient been to A&E in {year}?", pid).text.startswith(expected)
        inside = mine[(mine["START"].str[:10] >= f"{year}-03-01") & (mine["START"].str[:10] <= f"{year + 2}-10-31")]
        answer = _ask(store, f"count the encounters of this patient from {year}-03-01 to {year + 2}-10-31", pid)
        assert _count(answer) == len(inside), answer.text


def test_a_no_about_a_name_never_held_says_looked_for_not_matched(world) -> None:  # type: ignore[no-untyped-def]
    store, f = world
    condition = _pick(f["conditions"], lambda d: "(disorder)" in d)
    name = re.sub(r"\s*\(disorder\)$", "", condition)
    pid = next(p for p in sorted(f["patients"]["Id"]) if not ((f["conditions"]["PATIENT"] == p)
                                                              & (f["conditions"]["DESCRIPTION"] == condition)).any())
    answer = _ask(store, f"has the patient been diagnosed with {name.lower()}?", pid)
    assert answer.text.startswith("No") and "looked for:" in answer.text and "matched:" not in answer.text


def test_urine_passed_is_declined(world) -> None:  # type: ignore[no-untyped-def]
    store, f = world
    answer = answer_question(store, question="how much urine did this patient pass yesterday?",
                             patient_id=sorted(f["patients"]["Id"])[0])
    assert answer.declined and "intake or output" in answer.text


def test_an_age_band_said_with_between(world) -> None:  # type: ignore[no-untyped-def]
    store, _ = world
    for question, band in (("number of patients between 30 and 39 years old", (30, 39)),
                           ("how many patients are between the ages of 20 and 29?", (20, 29))):
        plan = parse_question(store, question=question, patient_id=None).plan
        assert (plan.cohort.age_min, plan.cohort.age_max) == band, question
        answer = _ask(store, question, None)
        same = _ask(store, f"how many patients are aged {band[0]} to {band[1]}?", None)
        assert _count(answer) == _count(same) and f"aged {band[0]} to {band[1]}" in answer.text
        assert answer.planner != "parser_unsure", answer.text


def test_a_top_k_tied_at_its_last_place_shows_every_tied_name_and_the_other_count(world) -> None:  # type: ignore[no-untyped-def]
    store, f = world
    living = set(f["patients"].loc[f["patients"]["DEATHDATE"] == "", "Id"])
    meds = f["medications"][f["medications"]["PATIENT"].isin(living)]
    patients = meds.groupby("DESCRIPTION")["PATIENT"].nunique().sort_values(ascending=False)
    prescriptions = meds.groupby("DESCRIPTION").size()
    tied_k = next((k for k in range(2, 8) if len(patients) > k and patients.iloc[k - 1] == patients.iloc[k]), None)
    assert tied_k is not None, "seed 3's cohort has a tie in its drug ranking"
    answer = _ask(store, f"top {tied_k} medications prescribed", None)
    as_common = set(patients[patients >= patients.iloc[tied_k - 1]].index)
    assert {r[0] for r in answer.rows} == as_common and "share the last place" in answer.text
    by_count = prescriptions.sort_values(ascending=False)
    for name in by_count[by_count >= by_count.iloc[tied_k - 1]].index:
        assert f"{' '.join(name.split())}: {by_count[name]} prescriptions" in answer.text



def test_onset_ventilator_settings_and_workspace_counts_of_a_long_name(world) -> None:  # type: ignore[no-untyped-def]
    store, f = world
    conditions = f["conditions"]
    pid, name = next((r["PATIENT"], r["DESCRIPTION"]) for _, r in conditions.iterrows() if "(disorder)" in r["DESCRIPTION"])
    plain = re.sub(r"\s*\(disorder\)$", "", name).lower()
    onset = conditions.loc[(conditions["PATIENT"] == pid) & (conditions["DESCRIPTION"] == name), "START"].min()[:10]
    assert onset in _ask(store, f"onset date of {plain} for the patient?", pid).text
    answer = answer_question(store, question="what ventilator mode is this patient on?", patient_id=pid)
    assert answer.declined and "ventilator" in answer.text
    # A diagnosis or drug named whole with a measurement's words inside ("body mass index", "hr") counts patients.
    for table, word in (("conditions", "diagnosed with"), ("medications", "prescribed")):
        frame = f[table]
        long = sorted({d for d in frame["DESCRIPTION"] if re.search(r"\bbody mass index\b|\bhr\b", d.lower())})
        if not long:
            continue
        spelt = re.sub(r"\s*\((finding|disorder)\)$", "", long[0]).lower()
        everyone = frame.loc[frame["DESCRIPTION"] == long[0], "PATIENT"].nunique()
        answer = _ask(store, f"how many patients, living or dead, were {word} {spelt}?", None)
        assert answer.plan.subject == "workspace" and _count(answer) == everyone, answer.text
