"""The evaluation's expected side for the whole record: the Synthea CSV files read with pandas, by this
module's own rules, sharing no code with ``desktop.core.assistant`` or ``desktop.core.queries``.

Every event table becomes one frame with the same columns: ``patient``, ``start`` (YYYY-MM-DD),
``stop`` (YYYY-MM-DD or ""), ``code``, ``description`` (as written), ``name`` (lower case, the SNOMED
semantic tag such as "(disorder)" removed), ``reason`` (lower case) and ``klass`` (encounters only).
Names are matched the way a clinician reads them: the words asked for must start a word of the name
("diabetes" is not "prediabetes"); a few adjectives map to their condition ("hypertensive").

Cohort figures count the living by default (contracts.md section 1): a patient with no DEATHDATE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

_TAG = re.compile(r"\s*\((disorder|finding|situation|procedure|substance|regime/therapy|person|event|"
                  r"morphologic abnormality|observable entity|qualifier value)\)\s*$", re.IGNORECASE)
# Adjectives clinicians use for a group of patients, mapped to the words of the condition's name.
ADJECTIVES = {"hypertensive": "hypertension", "diabetic": "diabetes", "asthmatic": "asthma", "obese": "obesity",
              "anaemic": "anemia", "anemic": "anemia", "prediabetic": "prediabetes"}
ENTITIES = ("conditions", "medications", "encounters", "procedures", "immunizations", "allergies")


# Social-history findings and administrative situations Synthea writes into conditions.csv ("Full-time
# employment (finding)", "Medication review due (situation)"): they stay in the record and in every expected
# figure, but nobody asks "was she diagnosed with full-time employment?", so questions do not name them.
_NOT_ASKED = re.compile(r"employ|labor force|education|certificate|criminal|housing|transportation|social|"
                        r"violence|abuse|misuses|risk activity|stress|isolation|refugee|incarcerat|review due|"
                        r"served in armed forces|dependent drug abuse", re.IGNORECASE)


def askable(name: str) -> bool:
    return _NOT_ASKED.search(name) is None


def clean_name(description: str) -> str:
    """"Essential hypertension (disorder)" -> "essential hypertension"; spaces squeezed."""
    return " ".join(_TAG.sub("", description).lower().split())


def name_matches(name: str, words: str) -> bool:
    """The words start a word of the name and end one (case and extra spaces ignored)."""
    words = " ".join(ADJECTIVES.get(words.lower(), words).lower().split())
    return re.search(r"(?:^|[^a-z0-9])" + re.escape(words) + r"(?:$|[^a-z0-9])", name) is not None


def _day(series: pd.Series) -> pd.Series:
    return series.fillna("").astype(str).str[:10]


def _events(folder: Path, file: str, *, start: str, stop: str | None, klass: str | None = None) -> pd.DataFrame:
    path = folder / file
    columns = ["patient", "start", "stop", "code", "description", "name", "reason", "klass"]
    if not path.exists():
        return pd.DataFrame(columns=columns)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    if start not in raw.columns:   # older layouts: procedures have DATE instead of START/STOP
        start, stop = "DATE", None
    frame = pd.DataFrame({
        "patient": raw["PATIENT"], "start": _day(raw[start]),
        "stop": _day(raw[stop]) if stop and stop in raw.columns else "",
        "code": raw["CODE"], "description": raw["DESCRIPTION"],
        "name": raw["DESCRIPTION"].map(clean_name),
        "reason": raw["REASONDESCRIPTION"].map(clean_name) if "REASONDESCRIPTION" in raw.columns else "",
        "klass": raw[klass].str.lower() if klass else "",
    })
    return frame[frame["start"] != ""].reset_index(drop=True)


@dataclass
class RecordFiles:
    """Patients and the six event tables of one Synthea folder."""

    patients: pd.DataFrame    # patient, sex (M/F), birth, death (YYYY-MM-DD or ""), first, last
    tables: dict[str, pd.DataFrame]

    @classmethod
    def read(cls, folder: Path) -> RecordFiles:
        p = pd.read_csv(folder / "patients.csv", dtype=str, keep_default_na=False)
        patients = pd.DataFrame({"patient": p["Id"], "sex": p["GENDER"].str.upper().str[:1],
                                 "birth": _day(p["BIRTHDATE"]), "death": _day(p["DEATHDATE"]),
                                 "first": p.get("FIRST", ""), "last": p.get("LAST", "")})
        tables = {
            "conditions": _events(folder, "conditions.csv", start="START", stop="STOP"),
            "medications": _events(folder, "medications.csv", start="START", stop="STOP"),
            "encounters": _events(folder, "encounters.csv", start="START", stop="STOP", klass="ENCOUNTERCLASS"),
            "procedures": _events(folder, "procedures.csv", start="START", stop="STOP"),
            "immunizations": _events(folder, "immunizations.csv", start="DATE", stop=None),
            "allergies": _events(folder, "allergies.csv", start="START", stop="STOP"),
        }
        return cls(patients, tables)

    # ------------------------------------------------------------------ one patient
    def events(self, entity: str, patient: str, words: str | None = None, *, year: int | None = None,
               since: int | None = None, klass: str | None = None, active: bool = False) -> pd.DataFrame:
        """The patient's rows, oldest first, filtered by name words, window, encounter class, open STOP."""
        t = self.tables[entity]
        t = t[t["patient"] == patient]
        if words is not None:
            t = t[t["name"].map(lambda n: name_matches(n, words))]
        if year is not None:
            t = t[t["start"].str.startswith(str(year))]
        if since is not None:
            t = t[t["start"] >= f"{since}-01-01"]
        if klass is not None:
            t = t[t["klass"] == klass]
        if active:
            t = t[t["stop"] == ""]
        return t.sort_values(["start", "name"], kind="stable")

    def person(self, patient: str) -> pd.Series:
        return self.patients[self.patients["patient"] == patient].iloc[0]

    def age_on(self, patient: str, day: str) -> int:
        birth = date.fromisoformat(self.person(patient)["birth"])
        d = date.fromisoformat(day[:10])
        return d.year - birth.year - ((d.month, d.day) < (birth.month, birth.day))

    def newest_day(self) -> str:
        """The record's own today: its newest event or death (windows count back from the data, not the clock)."""
        days = [t["start"].max() for t in self.tables.values() if len(t)]
        days += [d for d in self.patients["death"] if d]
        return max(days)

    # ------------------------------------------------------------------ the workspace
    def living(self) -> set[str]:
        return set(self.patients.loc[self.patients["death"] == "", "patient"])

    def everyone(self) -> set[str]:
        return set(self.patients["patient"])

    def who(self, entity: str, words: str | None = None, *, year: int | None = None, since: int | None = None,
            klass: str | None = None, active: bool = False, living: bool = True) -> set[str]:
        """Patients with a matching row (the living only unless ``living`` is False)."""
        t = self.tables[entity]
        if words is not None:
            t = t[t["name"].map(lambda n: name_matches(n, words))]
        if year is not None:
            t = t[t["start"].str.startswith(str(year))]
        if since is not None:
            t = t[t["start"] >= f"{since}-01-01"]
        if klass is not None:
            t = t[t["klass"] == klass]
        if active:
            t = t[t["stop"] == ""]
        ids = set(t["patient"])
        return ids & self.living() if living else ids

    def top_names(self, entity: str, k: int, *, living: bool = False) -> list[str] | None:
        """The k most frequent names (rows), or None when a tie at the k-th place makes the list ambiguous."""
        t = self.tables[entity]
        if living:
            t = t[t["patient"].isin(self.living())]
        counts = t["name"].value_counts()
        if len(counts) <= k or counts.iloc[k - 1] == counts.iloc[k]:
            return None
        return list(counts.index[:k])

    def ages(self, on: str, *, living: bool = True) -> dict[str, int]:
        ids = self.living() if living else self.everyone()
        return {p: self.age_on(p, on) for p in ids}


def window_is_ambiguous(rows: pd.DataFrame, *, year: int | None = None, since: int | None = None) -> bool:
    """Whether "prescribed X in 2020" / "since 2020" would get a different yes/no when read as "started in the
    window" and as "on it during the window" (a drug started before and still running): such cases are not
    asked."""
    low = f"{year if year is not None else since}-01-01"
    high = f"{year}-12-31" if year is not None else "9999-12-31"
    started = ((rows["start"] >= low) & (rows["start"] <= high)).any()
    running = ((rows["start"] <= high) & ((rows["stop"] == "") | (rows["stop"] >= low))).any()
    return bool(started) != bool(running)


def distinct_names(files: RecordFiles, entity: str, words: str) -> set[str]:
    """The distinct names the words match in the whole workspace (1: the words name one thing)."""
    names = files.tables[entity]["name"].drop_duplicates()
    return {n for n in names if name_matches(n, words)}


def short_name(files: RecordFiles, entity: str, name: str) -> str:
    """The name as a clinician would say it. A drug or a vaccine by its first word, a plain word (the ingredient:
    "simvastatin", "influenza") when that alone names exactly this one in the workspace; anything else, and a
    drug whose ingredient comes in several strengths, by its whole name without the semantic tag."""
    first = name.split()[0] if name.split() else ""
    if entity in ("medications", "immunizations") and len(first) >= 5 and first.isalpha() \
            and distinct_names(files, entity, first) == {name}:
        return first
    return name
