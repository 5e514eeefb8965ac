"""The evaluation's expected side: answers computed from the Synthea CSV files with pandas, sharing no code
with the app's queries (its own code mapping, unit conversions, plausibility gates and a small table of adult
limits from the shared clinical reference). ``benchmarks/eval_assistant.py`` asks the questions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

# ------------------------------------------------------------------ the expected side: its own small tables
# LOINC codes for the same quantity (SpO2 by oximetry / arterial; glucose in blood / serum or plasma).
CODE_MAP = {"2708-6": "59408-5", "2713-6": "59408-5", "2345-7": "2339-0", "41653-7": "2339-0"}
_F_TO_C = (5 / 9, -32 * 5 / 9)
UNITS: dict[str, dict[str, tuple[float, float]]] = {   # unit as written (lower case, no spaces) -> to canonical
    "8480-6": {"mm[hg]": (1, 0), "mmhg": (1, 0), "": (1, 0)},
    "8462-4": {"mm[hg]": (1, 0), "mmhg": (1, 0), "": (1, 0)},
    "8867-4": {"/min": (1, 0), "bpm": (1, 0), "beats/min": (1, 0), "{beats}/min": (1, 0), "1/min": (1, 0), "": (1, 0)},
    "9279-1": {"/min": (1, 0), "breaths/min": (1, 0), "{breaths}/min": (1, 0), "1/min": (1, 0), "": (1, 0)},
    "8310-5": {"cel": (1, 0), "°c": (1, 0), "c": (1, 0), "degc": (1, 0), "[degf]": _F_TO_C, "°f": _F_TO_C,
               "degf": _F_TO_C, "f": _F_TO_C},
    "59408-5": {"%": (1, 0), "": (1, 0)},
    "29463-7": {"kg": (1, 0), "[lb_av]": (0.45359237, 0), "lb": (0.45359237, 0), "lbs": (0.45359237, 0)},
    "39156-5": {"kg/m2": (1, 0)},
    "2339-0": {"mg/dl": (1, 0), "mmol/l": (18.016, 0)},   # glucose: 180.16 g/mol
    "4548-4": {"%": (1, 0)},
}
PLAUSIBLE = {"8480-6": (20, 400), "8462-4": (10, 300), "8867-4": (1, 300), "9279-1": (1, 70), "8310-5": (25, 45),
             "59408-5": (20, 100), "29463-7": (0.2, 700), "39156-5": (5, 150), "2339-0": (5, 3000),
             "4548-4": (2, 25)}
# Adult limits (clinical reference 1.2 and NEWS2 chart 1): (low, low inclusive, high, high inclusive).
ADULT_NORMAL = {"8867-4": (60, True, 100, True), "9279-1": (12, True, 20, True), "8310-5": (36.1, True, 38.0, False),
                "59408-5": (96, True, None, True)}
ADULT_AGE = 18

@dataclass
class Record:
    """The CSV files, read and cleaned by this script's own rules."""

    observations: pd.DataFrame      # patient, at (str ISO), code, value (canonical float)
    patients: pd.DataFrame          # patient, sex, birth, death
    conditions: pd.DataFrame        # patient, description, active

    @classmethod
    def read(cls, synthea: Path) -> Record:
        o = pd.read_csv(synthea / "observations.csv", dtype=str, keep_default_na=False)
        o["code"] = o["CODE"].map(lambda c: CODE_MAP.get(c, c))
        o = o[o["code"].isin(UNITS) & (o.get("TYPE", "numeric") != "text")].copy()
        o["number"] = pd.to_numeric(o["VALUE"], errors="coerce")
        unit = o["UNITS"].str.lower().str.replace(" ", "", regex=False).str.replace("µ", "u", regex=False)
        conv = [UNITS[c].get(u) for c, u in zip(o["code"], unit, strict=True)]
        o["value"] = [n * f[0] + f[1] if f is not None else float("nan") for n, f in zip(o["number"], conv, strict=True)]
        low = o["code"].map(lambda c: PLAUSIBLE[c][0])
        high = o["code"].map(lambda c: PLAUSIBLE[c][1])
        o = o[o["value"].notna() & (o["value"] >= low) & (o["value"] <= high)]
        o = o.assign(patient=o["PATIENT"], at=o["DATE"].str.replace("Z", "", regex=False))[
            ["patient", "at", "code", "value"]]
        p = pd.read_csv(synthea / "patients.csv", dtype=str, keep_default_na=False)
        patients = pd.DataFrame({"patient": p["Id"], "sex": p["GENDER"].str.upper().str[:1],
                                 "birth": p["BIRTHDATE"], "death": p["DEATHDATE"]})
        c = pd.read_csv(synthea / "conditions.csv", dtype=str, keep_default_na=False)
        conditions = pd.DataFrame({"patient": c["PATIENT"], "description": c["DESCRIPTION"], "active": c["STOP"] == ""})
        return cls(o, patients, conditions)

    def readings(self, patient: str, code: str) -> pd.DataFrame:
        """Newest first; at the same time the higher value first (the documented tie-break for "latest")."""
        r = self.observations[(self.observations["patient"] == patient) & (self.observations["code"] == code)]
        return r.sort_values(["at", "value"], ascending=[False, False])

    def age_at(self, patient: str, day: str) -> float | None:
        birth = self.patients.loc[self.patients["patient"] == patient, "birth"].iloc[0]
        if not birth:
            return None
        b, d = date.fromisoformat(birth[:10]), date.fromisoformat(day[:10])
        return d.year - b.year - ((d.month, d.day) < (b.month, b.day))

    def ages_now(self) -> dict[str, int | None]:
        """Completed years today, or at death."""
        today = date.today().isoformat()
        return {p: (self.age_at(p, d or today) if b else None)
                for p, b, d in zip(self.patients["patient"], self.patients["birth"], self.patients["death"], strict=True)}

    def with_condition(self, words: str, sex: str | None = None) -> set[str]:
        c = self.conditions
        # "patients with diabetes" does not mean prediabetes: the words must start a word of the description.
        starts_word = c["description"].str.lower().str.contains(r"(?:^|[^a-z0-9])" + re.escape(words), regex=True)
        ids = set(c.loc[c["active"] & starts_word, "patient"])
        if sex:
            ids &= set(self.patients.loc[self.patients["sex"] == sex, "patient"])
        return ids

    def latest_by_patient(self, code: str, among: set[str] | None = None) -> dict[str, float]:
        r = self.observations[self.observations["code"] == code].sort_values(["at", "value"], ascending=[False, False])
        first = r.drop_duplicates("patient")
        out = dict(zip(first["patient"], first["value"], strict=True))
        return {p: v for p, v in out.items() if among is None or p in among}


def expected_flag_normal(value: float, code: str) -> bool:
    low, low_inclusive, high, high_inclusive = ADULT_NORMAL[code]
    ok_low = low is None or (value >= low if low_inclusive else value > low)
    ok_high = high is None or (value <= high if high_inclusive else value < high)
    return ok_low and ok_high


# ------------------------------------------------------------------------------- questions and checks
