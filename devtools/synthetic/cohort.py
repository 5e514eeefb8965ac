"""A synthetic cohort whose measurements follow its conditions, written as Synthea-shaped rows.

Why a model and not random numbers: the app's flags, trends and scores are only tested meaningfully when
the data behaves like patients do. A person here has fixed traits (sex, adult height, baseline BP, kidney
function...) and conditions with onset dates; every value at a visit is computed from those plus noise,
so hypertension raises BP and keeps raising it, diabetes lifts glucose and HbA1c, CKD lifts creatinine and
lowers eGFR (CKD-EPI 2021), anaemia lowers haemoglobin by sex, and infections bring fever, CRP, WBC,
tachycardia and sometimes low SpO2. Children get age-appropriate vitals and growth.

Everything is drawn from ``random.Random`` instances seeded from the caller's seed, and the calendar is
fixed (:data:`END`), so a seed always gives the same bytes.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from devtools.synthetic import vocab as V
from devtools.synthetic.vocab_history import HYPERTENSION_PLAIN

#: The cohort's "today": fixed, so output does not depend on when it is generated.
END = datetime(2025, 6, 30, 12, 0, 0)
YEAR = timedelta(days=365.25)

#: An observation row: DATE, PATIENT, ENCOUNTER, CATEGORY, CODE, DESCRIPTION, VALUE, UNITS, TYPE.
ObsRow = list[str]


def iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id(rng: random.Random) -> str:
    """A UUID drawn from ``rng`` (uuid4 would use the OS entropy and break determinism)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def years_between(a: datetime | date, b: datetime | date) -> float:
    return (datetime(b.year, b.month, b.day) - datetime(a.year, a.month, a.day)).days / 365.25


@dataclass
class Condition:
    code: str
    description: str
    onset: datetime
    stop: datetime | None = None
    encounter: str = ""


@dataclass
class Encounter:
    id: str
    start: datetime
    stop: datetime
    klass: str
    code: str
    description: str
    reason: tuple[str, str] | None = None


@dataclass
class Record:
    """A row of medications, procedures, immunizations or allergies (``extra``: allergy-only columns)."""

    start: datetime
    stop: datetime | None
    encounter: str
    code: str
    description: str
    reason: tuple[str, str] | None = None
    extra: tuple[str, ...] = ()


@dataclass
class Person:
    """Fixed traits plus the conditions and episodes that shape every measurement."""

    id: str
    sex: str  # "F" or "M"
    birth: date
    first: str
    middle: str
    last: str
    adult_height: float
    bmi0: float  # BMI at the window start (adults)
    bmi_slope: float
    sbp0: float
    dbp_offset: float
    hr0: float
    creat0: float
    hb0: float
    wbc0: float
    plt0: float
    crp0: float
    chol0: float
    hdl0: float
    tg0: float
    smoking: str
    htn_slope: float = 2.5
    build: float = 1.0  # children's BMI relative to the median curve
    conditions: dict[str, Condition] = field(default_factory=dict)
    infections: list[tuple[datetime, tuple[str, str, tuple[float, float, float], bool], str]] = field(
        default_factory=list
    )
    encounters: list[Encounter] = field(default_factory=list)
    episode_conditions: list[Condition] = field(default_factory=list)
    death: datetime | None = None
    prefix: str | None = None  # None: the writer picks one as Synthea does (Mr./Mrs./Ms. for adults)
    medications: list[Record] = field(default_factory=list)
    procedures: list[Record] = field(default_factory=list)
    immunizations: list[Record] = field(default_factory=list)
    allergies: list[Record] = field(default_factory=list)

    def age(self, when: datetime) -> float:
        return years_between(self.birth, when)

    def since(self, key: str, when: datetime) -> float | None:
        """Years since a condition's onset at ``when``; None when absent or not yet started."""
        c = self.conditions.get(key)
        if c is None or c.onset > when:
            return None
        return (when - c.onset).days / 365.25


def _clamp(v: float, lo: float, hi: float) -> float:
    return lo if v < lo else min(v, hi)


# ---------------------------------------------------------------- people

def make_person(rng: random.Random, start: datetime, archetype: str | None = None) -> Person:
    """A person with traits and conditions; archetypes pin the cases the sample must show."""
    sex = rng.choice("FM")
    age_end = rng.uniform(4, 17.9) if rng.random() < 0.12 else _clamp(rng.gauss(52, 18), 18, 92)
    pinned = {"htn-dm-woman": ("F", 63.4), "ckd-man": ("M", 71.2), "child": ("F", 9.3), "sepsis-man": ("M", 76.5)}
    if archetype is not None:
        sex, age_end = pinned[archetype]
    child = age_end < 18
    birth = (END - timedelta(days=age_end * 365.25)).date()
    female = sex == "F"
    first = rng.choice(V.FIRST_F if female else V.FIRST_M) + str(rng.randint(10, 999))
    middle = rng.choice(V.FIRST_F if female else V.FIRST_M) + str(rng.randint(10, 999)) if rng.random() < 0.6 else ""
    p = Person(
        id=new_id(rng), sex=sex, birth=birth, first=first, middle=middle,
        last=rng.choice(V.LAST) + str(rng.randint(10, 999)),
        adult_height=rng.gauss(163, 6.5) if female else rng.gauss(176.5, 7),
        bmi0=_clamp(rng.gauss(27, 4.5), 18.0, 44.0), bmi_slope=rng.uniform(-0.25, 0.45),
        sbp0=rng.gauss(114 if female else 120, 7), dbp_offset=rng.gauss(0, 3), hr0=rng.gauss(72, 7),
        creat0=_clamp(rng.gauss(0.76 if female else 0.96, 0.1), 0.5, 1.2),
        hb0=rng.gauss(13.4 if female else 14.9, 0.6), wbc0=_clamp(rng.gauss(6.6, 1.2), 4.2, 10),
        plt0=_clamp(rng.gauss(260, 45), 160, 420), crp0=_clamp(rng.lognormvariate(0.3, 0.7), 0.2, 8),
        chol0=rng.gauss(188, 24), hdl0=rng.gauss(57 if female else 47, 8), tg0=_clamp(rng.gauss(120, 35), 50, 260),
        smoking=rng.choices(V.SMOKING, (0.6, 0.25, 0.15))[0],
    )
    p.build = rng.uniform(0.88, 1.2) if child else _clamp(p.bmi0 / 23, 0.85, 1.3)
    if child:
        p.smoking = ""
    else:
        _adult_conditions(rng, p, start, age_end)
    _pin_archetype(p, archetype, start)
    _infection_episodes(rng, p, start, child)
    if archetype == "sepsis-man":
        p.infections = [e for e in p.infections if e[0] < END - YEAR * 1.2]
        p.infections.append((END - timedelta(days=241.3), V.PNEUMONIA, "severe"))
    elif archetype == "child":
        p.infections = [(END - timedelta(days=400.6), V.OTITIS, "moderate")]
    return p


def _onset(rng: random.Random, p: Person, start: datetime) -> datetime:
    """Most chronic conditions predate the record; some start inside it (and show as a change)."""
    earliest = datetime(p.birth.year + 25, p.birth.month, min(p.birth.day, 28), 10)
    if rng.random() < 0.6:
        when = start - timedelta(days=rng.uniform(60, 3650))
    else:
        when = start + timedelta(days=rng.uniform(0, max(1.0, (END - start).days - 120)))
    return max(when, earliest) if earliest < END - timedelta(days=120) else END - timedelta(days=120)


def _adult_conditions(rng: random.Random, p: Person, start: datetime, age: float) -> None:
    obese = p.bmi0 >= 30
    if rng.random() < _clamp(0.04 + (age - 30) * 0.011, 0.02, 0.6):
        # Synthea's older modules write plain "Hypertension" (no suffix); both occur in one export.
        htn = V.HYPERTENSION if rng.random() < 0.6 else HYPERTENSION_PLAIN
        p.conditions["htn"] = Condition(*htn, _onset(rng, p, start))
        p.htn_slope = rng.uniform(1.0, 4.0)
    if rng.random() < _clamp(0.02 + (age - 30) * 0.005 + (0.1 if obese else 0), 0.01, 0.35):
        p.conditions["dm"] = Condition(*V.DIABETES, _onset(rng, p, start))
    elif rng.random() < 0.12:
        p.conditions["predm"] = Condition(*V.PREDIABETES, _onset(rng, p, start))
    ckd_p = 0.015 + 0.07 * ("htn" in p.conditions) + 0.07 * ("dm" in p.conditions) + (0.05 if age > 65 else 0)
    if rng.random() < ckd_p:
        p.conditions["ckd"] = Condition(*V.CKD, _onset(rng, p, start))
    anaemia_p = (0.09 if p.sex == "F" else 0.035) + (0.15 if "ckd" in p.conditions else 0)
    if rng.random() < anaemia_p:
        p.conditions["anaemia"] = Condition(*V.ANAEMIA, _onset(rng, p, start))
    if rng.random() < _clamp(0.08 + (age - 30) * 0.006, 0.05, 0.4):
        p.conditions["hld"] = Condition(*V.HYPERLIPIDAEMIA, _onset(rng, p, start))
    if obese and rng.random() < 0.7:
        p.conditions["obesity"] = Condition(*V.OBESITY, _onset(rng, p, start))


def _pin_archetype(p: Person, archetype: str | None, start: datetime) -> None:
    if archetype == "htn-dm-woman":
        p.conditions = {
            "htn": Condition(*V.HYPERTENSION, start - YEAR),
            "dm": Condition(*V.DIABETES, start + YEAR * 1.3),
            "obesity": Condition(*V.OBESITY, start - YEAR * 3),
        }
        p.sbp0, p.htn_slope, p.bmi0, p.bmi_slope, p.smoking = 121.0, 4.2, 31.5, 0.3, V.SMOKING[1]
    elif archetype == "ckd-man":
        p.conditions = {
            "htn": Condition(*V.HYPERTENSION, start - YEAR * 6),
            "ckd": Condition(*V.CKD, start - YEAR * 1.5),
        }
        p.sbp0, p.htn_slope, p.creat0, p.bmi0 = 124.0, 1.5, 1.0, 28.0
    elif archetype == "sepsis-man":
        p.conditions = {"htn": Condition(*V.HYPERTENSION, start - YEAR * 4)}
        p.sbp0, p.htn_slope = 118.0, 1.0


def _infection_episodes(rng: random.Random, p: Person, start: datetime, child: bool) -> None:
    """Acute episodes: (onset, kind, severity). The sepsis archetype gets a severe pneumonia."""
    first_visit = max(start, datetime(p.birth.year + 2, p.birth.month, min(p.birth.day, 28)))
    span = (END - first_visit).days
    kinds = [k for k in V.INFECTIONS if k[3]] if child else [k for k in V.INFECTIONS if k is not V.OTITIS]
    t = first_visit + timedelta(days=rng.uniform(20, 400))
    while t < END - timedelta(days=10):
        kind = rng.choice(kinds)
        weights = kind[2]
        if p.age(t) > 70:  # the old get sicker
            weights = (weights[0] * 0.6, weights[1], weights[2] * 1.8)
        severity = rng.choices(("mild", "moderate", "severe"), weights)[0]
        if child and severity == "severe":
            severity = "moderate"
        p.infections.append((t, kind, severity))
        t += timedelta(days=rng.uniform(200, 1400) * (0.7 if child else 1.0))
    if span <= 0:
        p.infections = []


# ---------------------------------------------------------------- physiology at a time

class Physiology:
    """Values of one person at one moment, before measurement noise."""

    def __init__(self, p: Person, when: datetime, start: datetime) -> None:
        self.p, self.when, self.age = p, when, p.age(when)
        self.child = self.age < 18
        yrs = (when - start).days / 365.25
        if self.child:
            self.height = _child_height(p, self.age)
            self.bmi = _child_bmi(self.age) * p.build
            self.sbp = 88 + 1.6 * self.age
            self.dbp = 52 + 1.1 * self.age
            self.hr = 122 - 3.2 * self.age
            self.rr = max(14.0, 29 - 0.9 * self.age)
        else:
            self.height = p.adult_height - max(0.0, self.age - 60) * 0.1
            self.bmi = _clamp(p.bmi0 + p.bmi_slope * yrs, 16, 55)
            self.sbp = p.sbp0 + max(0.0, self.age - 40) * 0.45
            htn = p.since("htn", when)
            if htn is not None:
                self.sbp += min(55.0, 14 + p.htn_slope * htn)
            self.dbp = 0.42 * self.sbp + 28 + p.dbp_offset - max(0.0, self.age - 65) * 0.3
            self.hr = p.hr0
            self.rr = 15.0
        self.weight = self.bmi * (self.height / 100) ** 2
        self.temp = 36.8
        self.spo2 = 98.0 if self.age < 70 else 96.5

    def labs(self) -> dict[str, float]:
        p, when, female = self.p, self.when, self.p.sex == "F"
        out: dict[str, float] = {}
        dm, predm, ckd = p.since("dm", when), p.since("predm", when), p.since("ckd", when)
        if dm is not None:
            out["2339-0"] = min(260.0, 142 + 14 * dm)
            out["4548-4"] = min(10.8, 6.9 + 0.32 * dm)
        elif predm is not None:
            out["2339-0"], out["4548-4"] = 111.0, 6.0
        else:
            out["2339-0"], out["4548-4"] = 88.0, 5.3
        creat = p.creat0 if not self.child else 0.3 + 0.03 * self.age
        if ckd is not None:
            creat += 0.65 + 0.17 * ckd
        out["38483-4"] = min(5.5, creat)
        out["33914-3"] = ckd_epi_2021(out["38483-4"], self.age, female)
        out["6299-2"] = 13 + max(0.0, out["38483-4"] - 1.1) * 14
        out["2947-0"], out["2069-3"], out["20565-8"], out["49765-1"] = 140.0, 103.0, 25.5, 9.5
        out["6298-4"] = 4.3 + (0.5 if ckd is not None else 0)
        hb = p.hb0 if not self.child else 12.6
        if p.since("anaemia", when) is not None:
            hb = (9.9 if female else 11.3) + (p.hb0 - (13.4 if female else 14.9)) * 0.3
        if ckd is not None:
            hb -= min(1.5, 0.4 + 0.2 * ckd)
        out["718-7"] = hb
        out["4544-3"] = hb * 2.95
        out["6690-2"], out["777-3"], out["1988-5"] = p.wbc0, p.plt0, p.crp0
        hld = p.since("hld", when) is not None
        chol = p.chol0 + (45 if hld else 0) + (0.0 if self.child else max(0.0, self.age - 30) * 0.4)
        tg = p.tg0 + (55 if hld else 0) + (40 if dm is not None else 0)
        hdl = p.hdl0 - (5 if dm is not None else 0)
        out["2093-3"], out["2571-8"], out["2085-9"] = chol, tg, hdl
        out["18262-6"] = chol - hdl - tg / 5  # Friedewald, as labs report it
        return out


_CHILD_AGES = (2, 4, 6, 8, 10, 12, 14, 16, 18)
_CHILD_H = {"M": (88, 103, 116, 128, 139, 150, 164, 173, 176.5), "F": (87, 102, 115, 127, 138, 151, 160, 162, 163)}
_CHILD_BMI = (16.4, 15.6, 15.4, 16.0, 17.0, 18.0, 19.4, 20.6, 21.5)


def _interp(xs: tuple[float, ...], ys: tuple[float, ...], x: float) -> float:
    if x <= xs[0]:
        return ys[0]
    for i in range(1, len(xs)):
        if x <= xs[i]:
            f = (x - xs[i - 1]) / (xs[i] - xs[i - 1])
            return ys[i - 1] + f * (ys[i] - ys[i - 1])
    return ys[-1]


def _child_height(p: Person, age: float) -> float:
    curve = _CHILD_H[p.sex]
    return _interp(_CHILD_AGES, curve, age) * p.adult_height / curve[-1]


def _child_bmi(age: float) -> float:
    return _interp(_CHILD_AGES, _CHILD_BMI, age)


def ckd_epi_2021(creat: float, age: float, female: bool) -> float:
    """eGFR (mL/min/1.73 m2) by the race-free CKD-EPI 2021 equation, so eGFR and creatinine agree."""
    if age < 18:
        return 110.0
    k, a = (0.7, -0.241) if female else (0.9, -0.302)
    r = creat / k
    egfr = 142 * min(r, 1) ** a * max(r, 1) ** -1.2 * 0.9938**age * (1.012 if female else 1.0)
    return egfr
