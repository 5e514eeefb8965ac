"""Encounters and their observation rows for one synthetic person.

Visit pattern as in primary care: a wellness visit about once a year (children every year), follow-ups
for chronic disease, a diagnosis encounter when a condition starts, and acute encounters for infection
episodes (clinic, urgent care, emergency; the severe ones are admitted and observed every 8 hours while
they recover, which gives NEWS2 a time series). SpO2 and temperature appear at some visits only, as in
real records.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from devtools.synthetic import vocab as V
from devtools.synthetic.cohort import (
    END,
    YEAR,
    Condition,
    Encounter,
    ObsRow,
    Person,
    Physiology,
    iso,
    new_id,
)

#: Share of temperature rows written in degF, and of glucose rows in mmol/L (exercise unit conversion).
DEGF_SHARE = 0.03
MMOL_SHARE = 0.03

SEVERITY = {  # presentation deltas: temp, HR, RR, SpO2, CRP, WBC
    "mild": (1.0, 14, 3, -1.0, 25, 4.0),
    "moderate": (1.9, 30, 7, -4.0, 90, 7.0),
    "severe": (2.8, 48, 13, -10.0, 220, 13.0),
}


class _Rows:
    """Collects one person's observation rows with Synthea's formatting (one decimal, text TYPE)."""

    def __init__(self, rng: random.Random, patient: str) -> None:
        self.rng, self.patient = rng, patient
        self.rows: list[ObsRow] = []

    def num(self, ts: datetime, enc: str, code: str, value: float, unit: str | None = None, fmt: str = ".1f") -> None:
        category, description, canonical = V.OBS[code]
        self.rows.append([iso(ts), self.patient, enc, category, code, description, format(value, fmt),
                          canonical if unit is None else unit, "numeric"])

    def text(self, ts: datetime, enc: str, code: str, value: str) -> None:
        category, description, unit = V.OBS[code]
        self.rows.append([iso(ts), self.patient, enc, category, code, description, value, unit, "text"])

    def noisy(self, mean: float, sd: float, lo: float, hi: float) -> float:
        v = self.rng.gauss(mean, sd)
        return lo if v < lo else min(v, hi)


class _Visit:
    """Writes the measurements of one encounter for one state of the person."""

    def __init__(self, out: _Rows, ph: Physiology, ts: datetime, enc: str) -> None:
        self.o, self.ph, self.ts, self.enc = out, ph, ts, enc

    def body(self) -> None:
        o, ph = self.o, self.ph
        h = o.noisy(ph.height, 0.4, 60, 215)
        w = o.noisy(ph.weight, 0.5 if not ph.child else 0.2, 9, 250)
        o.num(self.ts, self.enc, "8302-2", h)
        o.num(self.ts, self.enc, "29463-7", w)
        o.num(self.ts, self.enc, "39156-5", round(w, 1) / (round(h, 1) / 100) ** 2)

    def bp_hr(self, sbp: float | None = None, hr: float | None = None) -> None:
        o, ph = self.o, self.ph
        s = o.noisy(ph.sbp if sbp is None else sbp, 5, 70, 230)
        d = o.noisy(ph.dbp + (s - ph.sbp) * 0.35, 3.5, 40, 130)
        o.num(self.ts, self.enc, "8462-4", round(d))
        o.num(self.ts, self.enc, "8480-6", round(s))
        o.num(self.ts, self.enc, "8867-4", round(o.noisy(ph.hr if hr is None else hr, 5, 40, 190)))

    def rr(self, rr: float | None = None) -> None:
        self.o.num(self.ts, self.enc, "9279-1", round(self.o.noisy(self.ph.rr if rr is None else rr, 1.3, 8, 45)))

    def temp(self, t: float | None = None) -> None:
        o = self.o
        c = o.noisy(self.ph.temp if t is None else t, 0.2, 34.5, 41.5)
        if o.rng.random() < DEGF_SHARE:
            o.num(self.ts, self.enc, "8310-5", c * 9 / 5 + 32, "[degF]")
        else:
            o.num(self.ts, self.enc, "8310-5", c)

    def spo2(self, s: float | None = None) -> None:
        self.o.num(self.ts, self.enc, "2708-6", round(self.o.noisy(self.ph.spo2 if s is None else s, 0.8, 75, 100)))

    def labs(self, codes: tuple[str, ...], shift: dict[str, float] | None = None) -> None:
        o, base = self.o, self.ph.labs()
        for code, v in (shift or {}).items():
            base[code] = base.get(code, 0.0) + v
        for code in codes:
            v = base[code]
            if code == "2339-0":
                g = o.noisy(v, v * 0.07, 55, 500)
                if o.rng.random() < MMOL_SHARE:
                    o.num(self.ts, self.enc, code, g / 18.016, "mmol/L")
                else:
                    o.num(self.ts, self.enc, code, g)
            elif code == "33914-3":
                o.num(self.ts, self.enc, code, min(v, 120.0) * o.rng.uniform(0.95, 1.05))
            elif code in ("6298-4", "49765-1", "4548-4", "718-7"):
                o.num(self.ts, self.enc, code, o.noisy(v, 0.15 if code != "718-7" else 0.3, 1.5, 20))
            elif code in ("38483-4",):
                o.num(self.ts, self.enc, code, o.noisy(v, v * 0.05, 0.2, 15), fmt=".2f")
            elif code == "1988-5":
                o.num(self.ts, self.enc, code, o.noisy(v, v * 0.15, 0.1, 450))
            else:
                sd = _LAB_SD.get(code, 0.06)
                o.num(self.ts, self.enc, code, o.noisy(v, sd if sd >= 1 else abs(v) * sd, 0.5, 5000))


#: Visit-to-visit spread: absolute (>= 1) or relative (< 1) to the value.
_LAB_SD = {"2947-0": 2.0, "2069-3": 2.0, "20565-8": 1.5, "6299-2": 0.12, "6690-2": 0.1, "777-3": 0.08,
           "4544-3": 0.03, "2093-3": 0.06, "2571-8": 0.12, "18262-6": 0.07, "2085-9": 0.06}

#: An infection kind from the vocabulary: code, description, severity weights, children may get it.
Infection = tuple[str, str, tuple[float, float, float], bool]

METABOLIC = ("2339-0", "6299-2", "38483-4", "33914-3", "49765-1", "2947-0", "6298-4", "2069-3", "20565-8")
CBC = ("718-7", "4544-3", "6690-2", "777-3")
LIPIDS = ("2093-3", "2571-8", "18262-6", "2085-9")
_DIAGNOSIS_LABS = {
    "dm": ("2339-0", "4548-4"), "predm": ("2339-0", "4548-4"), "ckd": ("38483-4", "33914-3", "6298-4"),
    "anaemia": ("718-7", "4544-3"), "hld": LIPIDS,
}


def _at(rng: random.Random, day: datetime) -> datetime:
    """A clinic time on that day (08:00-16:59), to the second."""
    return datetime(day.year, day.month, day.day, rng.randint(8, 16), rng.randint(0, 59), rng.randint(0, 59))


def simulate(p: Person, rng: random.Random, start: datetime) -> list[ObsRow]:
    """Fill ``p.encounters`` and ``p.episode_conditions``; return the observation rows in time order."""
    first = max(start, datetime(p.birth.year + 2, p.birth.month, min(p.birth.day, 28), 9))
    plan: list[tuple[datetime, str, Any]] = []  # the third item depends on the kind of visit
    for key, cond in p.conditions.items():
        plan.append((_at(rng, cond.onset), "diagnosis", key))
    k, t = 0, first + timedelta(days=rng.uniform(5, 120))
    while t < END:
        child = p.age(t) < 18
        if k == 0 or child or rng.random() > 0.12:
            plan.append((_at(rng, t), "wellness", None))
        chronic = any(p.since(c, t) is not None for c in ("htn", "dm", "ckd"))
        if chronic:
            for _ in range(rng.choice((1, 1, 2))):
                f = t + timedelta(days=rng.uniform(60, 300))
                if f < END:
                    plan.append((_at(rng, f), "follow-up", None))
        k += 1
        t = first + YEAR * k + timedelta(days=rng.uniform(-45, 45))
    for onset, kind, severity in p.infections:
        plan.append((_at(rng, onset), "infection", (kind, severity)))
    plan.sort(key=lambda item: item[0])

    out = _Rows(rng, p.id)
    for ts, what, extra in plan:
        if what == "diagnosis":
            _diagnosis(out, p, ts, start, str(extra))
        elif what == "wellness":
            _wellness(out, p, ts, start)
        elif what == "follow-up":
            _follow_up(out, p, ts, start)
        else:
            kind, severity = extra
            _infection(out, p, ts, start, kind, severity)
    return out.rows


def _encounter(p: Person, rng: random.Random, ts: datetime, klass: str, code: tuple[str, str],
               minutes: float, reason: tuple[str, str] | None = None) -> Encounter:
    enc = Encounter(new_id(rng), ts, ts + timedelta(minutes=minutes), klass, code[0], code[1], reason)
    p.encounters.append(enc)
    return enc


def _diagnosis(out: _Rows, p: Person, ts: datetime, start: datetime, key: str) -> None:
    cond = p.conditions[key]
    enc = _encounter(p, out.rng, ts, "ambulatory", V.ENC_PROBLEM, 30, (cond.code, cond.description))
    cond.encounter = enc.id
    v = _Visit(out, Physiology(p, ts, start), ts, enc.id)
    if key == "htn":
        v.bp_hr()
    elif key == "obesity":
        v.body()
    else:
        v.labs(_DIAGNOSIS_LABS[key])


def _wellness(out: _Rows, p: Person, ts: datetime, start: datetime) -> None:
    rng = out.rng
    ph = Physiology(p, ts, start)
    code = V.ENC_WELL_CHILD if ph.child else V.ENC_WELLNESS
    enc = _encounter(p, rng, ts, "wellness", code, 30)
    v = _Visit(out, ph, ts, enc.id)
    v.body()
    if ph.age >= 3:
        v.bp_hr()
    else:
        out.num(ts, enc.id, "8867-4", round(out.noisy(ph.hr, 6, 60, 180)))
    v.rr()
    if rng.random() < (0.4 if ph.child else 0.2):
        v.temp()
    if rng.random() < 0.15:
        v.spo2()
    if ph.child:
        if rng.random() < 0.1:
            v.labs(("718-7",))
        return
    out.num(ts, enc.id, "72514-3", rng.choice((0, 0, 0, 1, 1, 2, 3, 4)), fmt="d")
    out.text(ts, enc.id, "72166-2", p.smoking)
    has = {c for c in p.conditions if p.since(c, ts) is not None}
    labs: list[str] = []
    if rng.random() < 0.55 or has & {"dm", "ckd"}:
        labs += METABOLIC
    if has & {"dm", "predm"} or rng.random() < 0.15:
        labs.append("4548-4")
    if has & {"hld", "dm"} or rng.random() < 0.35:
        labs += LIPIDS
    if has & {"anaemia", "ckd"} or rng.random() < 0.45:
        labs += CBC
    if rng.random() < 0.08:
        labs.append("1988-5")
    v.labs(tuple(labs))


def _follow_up(out: _Rows, p: Person, ts: datetime, start: datetime) -> None:
    rng = out.rng
    has = [c for c in ("htn", "dm", "ckd") if p.since(c, ts) is not None]
    cond = p.conditions[has[0]]
    enc = _encounter(p, rng, ts, "ambulatory", V.ENC_FOLLOW_UP, 20, (cond.code, cond.description))
    v = _Visit(out, Physiology(p, ts, start), ts, enc.id)
    v.body()
    v.bp_hr()
    labs: list[str] = []
    if "dm" in has:
        labs += ("2339-0", "4548-4")
    if "ckd" in has:
        labs += ("38483-4", "33914-3", "6298-4", "6299-2", "718-7")
    elif rng.random() < 0.4:
        labs += ("38483-4", "6298-4")
    v.labs(tuple(labs))


def _infection(out: _Rows, p: Person, ts: datetime, start: datetime, kind: Infection, severity: str) -> None:
    rng = out.rng
    code, description = kind[0], kind[1]
    ph = Physiology(p, ts, start)
    dt, dhr, drr, dspo2, crp, dwbc = SEVERITY[severity]
    if severity == "mild":
        klass, enc_code, minutes = rng.choice((("ambulatory", V.ENC_SYMPTOM, 30), ("urgentcare", V.ENC_URGENT, 60)))
    elif severity == "moderate":
        klass, enc_code, minutes = rng.choice((("urgentcare", V.ENC_URGENT, 90), ("emergency", V.ENC_EMERGENCY, 240)))
    else:
        klass, enc_code, minutes = "emergency", V.ENC_EMERGENCY, 300
    enc = _encounter(p, rng, ts, klass, enc_code, minutes, (code, description))
    days = {"mild": (5, 10), "moderate": (8, 16), "severe": (14, 28)}[severity]
    p.episode_conditions.append(
        Condition(code, description, ts, ts + timedelta(days=rng.uniform(*days)), enc.id)
    )

    def observe(when: datetime, enc_id: str, i: float, labs: bool, acute_care: bool) -> None:
        """One set of observations at intensity ``i`` (1 at presentation, 0 recovered)."""
        v = _Visit(out, ph, when, enc_id)
        sbp = ph.sbp if severity != "severe" else ph.sbp * (1 - i) + 91 * i
        v.bp_hr(sbp=sbp - (6 * i if severity == "moderate" else 0), hr=ph.hr + dhr * i)
        v.rr(ph.rr + drr * i)
        v.temp(ph.temp + dt * i)
        if severity != "mild" or rng.random() < 0.5:
            v.spo2(min(99.0, ph.spo2 + dspo2 * i))
        if acute_care:
            confused = severity == "severe" and i > 0.6 and p.age(when) > 65
            out.text(when, enc_id, "80288-4", "Confusion" if confused else "Alert")
            out.text(when, enc_id, "supplemental-o2", "Yes" if severity == "severe" and i > 0.3 else "No")
        if labs:
            v.labs(("1988-5", "6690-2", "718-7", "777-3", "38483-4", "2947-0", "6298-4", "2339-0"),
                   shift={"1988-5": crp * i, "6690-2": dwbc * i, "777-3": -60 * i if severity == "severe" else 0,
                          "38483-4": 0.5 * i if severity == "severe" else 0, "2339-0": 25 * i})

    observe(ts, enc.id, 1.0, severity != "mild" or rng.random() < 0.3, klass == "emergency")
    if severity != "severe":
        return
    admit = enc.stop
    stay = rng.uniform(2.5, 4.0)
    adm = _encounter(p, rng, admit, "inpatient", V.ENC_INPATIENT, stay * 24 * 60, (code, description))
    n = int(stay * 3)
    for j in range(1, n + 1):
        when = admit + timedelta(hours=8 * j, minutes=rng.randint(-20, 20))
        observe(when, adm.id, max(0.0, 1 - j / (n * 0.8)), j % 3 == 0, True)
