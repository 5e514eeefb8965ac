"""Issue 20: who needs attention first. On a generated Synthea export holding each case (imported by the
app's importer), and on single patients written into a real workspace; each test failed on the code before."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from desktop.core.importers.pipeline import import_paths
from desktop.core.queries.attention import AttentionFinding, AttentionRow, rank_for_attention
from desktop.core.workspace.store import Store, open_store
from devtools.synthetic.clinical_cases import EXPECTED_ORDER, write_clinical_cases
from tests.core.test_clinical_findings import add_patient, observe

SBP, DBP, HR, RR, SPO2 = "8480-6", "8462-4", "8867-4", "9279-1", "59408-5"


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    folder = tmp_path_factory.mktemp("clinical-cases")
    store = open_store(folder / "cases.duckdb")
    report = import_paths(store, [write_clinical_cases(folder / "synthea")])
    assert all(f.status == "imported" and not f.rows_rejected for f in report.files), report.files
    yield store
    store.close()


def by_id(rows: list[AttentionRow]) -> dict[str, AttentionRow]:
    return {r.patient_id: r for r in rows}


def test_the_first_rows_are_the_most_severe_recent_findings(cohort: Store) -> None:
    rows = rank_for_attention(cohort, limit=50)
    assert tuple(r.patient_id for r in rows[:len(EXPECTED_ORDER)]) == EXPECTED_ORDER
    assert [r.band for r in rows[:4]] == [3, 3, 3, 2]
    bands = [r.band for r in rows]
    assert bands == sorted(bands, reverse=True)  # no lower band above a higher one
    crisis = by_id(rows)["crisis-195"]
    assert crisis.summary.startswith("Systolic blood pressure 195 mmHg HH critically high · 2 d ago")
    assert crisis.band_label == "red: critical" and crisis.recent and crisis.data_at is not None


def test_a_critical_flag_outranks_every_partial_news2_of_one(cohort: Store) -> None:
    rows = rank_for_attention(cohort, limit=50)
    position = {r.patient_id: i for i, r in enumerate(rows)}
    partial_ones = [pid for pid in position if pid.startswith("partial-one-")]
    assert len(partial_ones) == 14
    assert all(position["crisis-195"] < position[pid] for pid in partial_ones)
    assert all(by_id(rows)[pid].band == 1 for pid in partial_ones)


def test_old_findings_are_shown_as_old_never_ranked_current(cohort: Store) -> None:
    rows = rank_for_attention(cohort, limit=50)
    old = by_id(rows)["old-spo2"]
    assert old.band == 0 and old.band_label == "nothing current"
    assert old.summary.startswith("nothing current; old: Oxygen saturation 85 % LL critically low · 22 mo ago")
    assert old.findings[0].age_days > 600
    assert all(r.band > 0 for r in rows[:rows.index(old)])  # every current finding first
    everything = by_id(rank_for_attention(cohort, limit=50, recent_days=None))
    assert everything["old-spo2"].band == 3  # with no window, the same finding ranks


def test_the_newest_row_decides_even_when_it_is_text(cohort: Store) -> None:
    row = by_id(rank_for_attention(cohort, limit=50))["refused-newest"]
    assert not any("Systolic" in f.text for f in row.findings)  # the 182 was followed by "Patient refused"
    assert row.band == 0


def test_the_dead_are_left_out(cohort: Store) -> None:
    assert "died-critical" not in by_id(rank_for_attention(cohort, limit=100, recent_days=None))


def test_same_time_readings_the_most_abnormal_decides(cohort: Store) -> None:
    row = by_id(rank_for_attention(cohort, limit=50))["spo2-same-time"]
    assert row.findings[0].text == "Oxygen saturation 88 % LL critically low"
    assert row.news2 == 3 and row.band == 3  # SpO2 88 scores 3 alone (the 97 beside it would score 0)


def test_every_row_says_how_old_its_data_is(cohort: Store) -> None:
    for row in rank_for_attention(cohort, limit=50):
        assert row.data_at is not None and (" ago" in row.summary or "same day" in row.summary)
        for finding in row.findings:
            assert isinstance(finding, AttentionFinding) and finding.rule and finding.age_days >= 0


def test_ties_by_severity_then_recency_never_by_id(store: Store) -> None:
    # Two patients with the same critical flag: the more recent comes first, although its id sorts last.
    for pid, when in (("a-older", "2024-05-01 08:00"), ("z-newer", "2024-05-20 08:00")):
        add_patient(store, pid, birth=date(1960, 1, 1))
        observe(store, pid, when, SBP, 190)
        observe(store, pid, when, DBP, 90)
    # Severity before recency: a third with two critical findings, older still, comes first.
    add_patient(store, "m-two-critical", birth=date(1960, 1, 1))
    observe(store, "m-two-critical", "2024-04-25 08:00", SBP, 190)
    observe(store, "m-two-critical", "2024-04-25 08:00", DBP, 125)
    rows = rank_for_attention(store, limit=5, recent_days=60)
    assert [r.patient_id for r in rows] == ["m-two-critical", "z-newer", "a-older"]


def test_news2_bands_complete_partial_and_red(store: Store) -> None:
    add_patient(store, "red-only", birth=date(1960, 1, 1))
    observe(store, "red-only", "2024-05-01 08:00", RR, 26)  # partial, a single 3: band 3 with criticals
    add_patient(store, "five", birth=date(1960, 1, 1))
    for code, value in ((RR, 22), (HR, 112), ("8310-5", 38.5)):
        observe(store, "five", "2024-05-01 08:00", code, value)
    add_patient(store, "one", birth=date(1960, 1, 1))
    observe(store, "one", "2024-05-01 08:00", HR, 95)
    rows = by_id(rank_for_attention(store, recent_days=30))
    assert (rows["red-only"].band, rows["five"].band, rows["one"].band) == (3, 2, 1)
    assert any("3 alone: respiratory rate" in f.text for f in rows["red-only"].findings)


def test_nothing_abnormal_is_not_listed_and_never_above_a_critical_flag(store: Store) -> None:
    add_patient(store, "well", birth=date(1960, 1, 1))
    observe(store, "well", "2024-05-01 08:00", HR, 72)
    add_patient(store, "k-critical", birth=date(1960, 1, 1))
    observe(store, "k-critical", "2024-05-01 08:00", "6298-4", 6.8)  # potassium HH, no NEWS2 at all
    rows = rank_for_attention(store)
    assert [r.patient_id for r in rows] == ["k-critical"] and rows[0].band == 3


def test_rows_serialise_for_the_assistant_and_the_cli(cohort: Store) -> None:
    data = rank_for_attention(cohort, limit=1)[0].to_dict()
    assert {"band", "band_label", "summary", "findings", "data_at", "recent"} <= set(data)
    assert data["findings"][0]["observed_at"]


def test_the_cohorts_edge_cases_read_right_in_the_summary(cohort: Store) -> None:
    from desktop.core.queries.summary import patient_summary

    def item(summary: dict, code: str) -> dict:
        return next(i for i in summary["latest"] if i["code"] == code)

    tubal = patient_summary(cohort, "tubal-1987")
    assert tubal["bp_category"] == "Hypertension stage 1" and not tubal["patient"]["pregnant"]
    pregnant = patient_summary(cohort, "pregnant-20w")
    assert pregnant["news2"]["score"] is None and "42 weeks" in pregnant["news2"]["note"]
    assert item(pregnant, SBP)["flag"] == "N" and item(pregnant, SBP)["reference"]["population"] == "pregnancy"
    precision = patient_summary(cohort, "precision")
    assert (item(precision, RR)["flag"], precision["news2"]["components"]["respiratory rate"]) == ("H", 2)
    assert item(precision, "6299-2")["flag"] == "L" and item(precision, "2339-0")["flag"] == "H"  # capillary 150
    child = patient_summary(cohort, "child-3y-bp")
    assert item(child, SBP)["flag"] == "H" and "girls aged 3" in item(child, SBP)["rule"]
    assert "CDC obese" in item(child, "59576-9")["rule"]
    infant = patient_summary(cohort, "infant-5m")
    assert item(infant, SBP)["flag"] is None and "start at age 1" in item(infant, SBP)["rule"]
    assert patient_summary(cohort, "pregnancy-2020")["patient"]["pregnant"] is False
