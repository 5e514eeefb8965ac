"""The wordings the whole-record parser reads: entities, visit classes, operations, populations, windows with
dates. Kept apart from record_parse.py so each stays short; every pattern reads normalised text (lower case,
plain apostrophes, single spaces)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from desktop.core.assistant.plan import TimeWindow

ENTITY_PATTERNS: tuple[tuple[str, str], ...] = (
    ("allergy", r"\ballerg\w*|\bintoleran\w*"),
    ("immunization", r"\bvaccin\w*|\bimmuni[sz]\w*|\bshots?\b|\bjabs?\b|\bboosters?\b|\binoculat\w*"),
    ("medication", r"\bprescri\w*|\bmedications?\b|\bmedicines?\b|\bmeds\b|\bdrugs?\b|\btak(ing|es?|en)\b|\btook\b|"
                   r"\bdispensed\b|\btablets?\b|\bcapsules?\b|\binjections?\b|\bput on\b|\bstarted on\b|\bon (?=[a-z]+ ?\d)"),
    ("procedure", r"\bprocedures?\b|\bunderw\w*|\bsurger(y|ies)\b|\boperations?\b|\boperated\b|\bperformed\b"),
    ("condition", r"\bdiagnos\w*|\bconditions?\b|\bdiseases?\b|\bdisorders?\b|\bproblems?\b|\billness\w*|"
                  r"\bcomorbid\w*|\bsuffer\w*|\bdx\b|\bproblem list\b"),
    ("encounter", r"\bvisits?\b|\bvisited\b|\bencounters?\b|\bappointments?\b|\battend\w*|\bcame in\b|\bseen\b"),
)

# Synthea's encounter classes and the words staff use for them.
CLASS_PATTERNS: tuple[tuple[str, str], ...] = (
    ("emergency", r"\bemergency( room| department| dept| visits?| admissions?| care)?\b|\ber\b|\bed\b|\ba ?& ?e\b|"
                  r"\bcasualty\b"),
    ("urgentcare", r"\burgent ?care\b|\bwalk-?in\b"),
    ("inpatient", r"\binpatient\b|\badmitted\b|\badmissions?\b|\bhospitali[sz]\w*|\bhospital stays?\b|"
                  r"\bin (the )?hospital\b|\bbeen to (the )?hospital\b|\bstay(ed)? in hospital\b"),
    ("wellness", r"\bwellness\b|\bwell[- ]child\b|\bcheck-?ups?\b|\bannual (physical|exam\w*|review)\b|"
                 r"\broutine (exam\w*|visit|check)\b|\bphysical exam\w*\b"),
    ("ambulatory", r"\bambulatory\b|\bclinic visits?\b|\bgp visits?\b|\boffice visits?\b"),
    ("outpatient", r"\boutpatient\b"),
    ("virtual", r"\b(virtual|telehealth|telemedicine|video|phone) (visits?|consult\w*|appointments?)\b"),
    ("home", r"\bhome visits?\b"),
    ("hospice", r"\bhospice\b"),
    ("snf", r"\bskilled nursing\b|\bnursing (home|facility)\b"),
)

YES_NO = r"^(has|have|had|was|were|is|are|did|does|do|any|ever|can|could)\b|\banswer (with )?yes or no\b|\byes or no\b"
ACTIVE = r"\b(currently|still|now|active|ongoing|current|at present|presently)\b"
# A drug asked about in the present tense, its subject the patient, is one taken now: "is she on metformin?", "is
# the patient taking aspirin?", "does he take insulin?" (not "was she on", "has he been on", "is there a record of
# her being on").
_SUBJECT = r"(she|he|they|the patient|this patient|patient \S+)"
TAKEN_NOW = (rf"^(is|are) {_SUBJECT} (still |currently |now )?(on|taking)\b(?!.*\b(ever|before|previously|history)\b)|"
             rf"^(does|do) {_SUBJECT} (still |currently |now )?take\b(?!.*\bever\b)")

# Event operations, tried in order (the window's words are removed first: "last year" is not "the last").
EVENT_OPERATIONS: tuple[tuple[str, str], ...] = (
    ("count_days", r"\bhow many (different |distinct |separate |unique )?(days|dates|occasions)\b|"
                   r"\bnumber of (different |distinct |separate |unique )?(days|dates)\b"),
    ("count", r"\bhow many\b|\bnumber of\b|\bcount\b|\bhow often\b|\btotal\b|\bhow frequently\b"),
    ("stop", r"\bwhen (was|were|did|is)\b.*\b(stop|stopped|discontinu\w*|end|ended|resolv\w*|cured|ceased|"
             r"finish\w*|come off|came off|taken off)\b|\b(stop|end|resolution) date\b"),
    ("reason", r"\bwhy\b|\breason\w*\b|\bfor what\b|\bwhat for\b|\bindication\b|"
               r"\bwhat was .* (given|prescribed) for\s*\??$"),
    ("first", r"\bfirst\b|\bearliest\b|\binitial(ly)?\b|\boldest\b|\bonset\b"),
    ("latest", r"\blast\b|\blatest\b|\bmost recent(ly)?\b|\bnewest\b|\bprevious\b|\brecent\b"),
    ("exists", YES_NO + r"|\bever\b|\bwhether\b"),
    ("when", r"\bwhen\b|\bwhat (date|day|year|time)\b|\bwhich (date|day|year)\b|\bdates?\b"),
    ("list", r"\blist\b|\bwhat\b|\bwhich\b|\bshow\b|\bname\b|\btell\b|\ball\b|\bgive\b"),
)

POPULATION_ALL = (r"\bincluding (the |those who (have )?)?(dead|deceased|died)\b|\b(dead|deceased) (included|too|as well)\b|"
                  r"\ball patients ever\b|\beveryone ever\b|\b(dead|living|alive) (or|and) (alive|living|dead|deceased)\b|"
                  r"\bwhether (alive|living) or (dead|not)\b|\bever (recorded|in the workspace)\b|\bincl(uding)? deaths\b")
POPULATION_DECEASED = r"\b(deceased|dead|died|passed away|death|deaths|who have died|no longer alive)\b"
POPULATION_LIVING = r"\b(living|alive|still alive)\b"

TOP = (r"\btop\b|\bmost (common(ly)?|frequent(ly)?|prevalent|often|prescribed|diagnosed|used|given)\b|\bcommonest\b|"
       r"\bleading\b|\bmost popular\b")
AGE_GROUPS = r"\bage (groups?|bands?|brackets?|distribution|breakdown|ranges?)\b|\bby age\b|\bper age\b"

_MONTHS = {m: i + 1 for i, m in enumerate(("january", "february", "march", "april", "may", "june", "july",
                                           "august", "september", "october", "november", "december"))}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
DATE = (rf"(\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}} (?:{_MONTH})\.? \d{{4}}|(?:{_MONTH})\.? \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}|"
        rf"\d{{4}}/\d{{1,2}}/\d{{1,2}})")
MONTH_YEAR = rf"((?:{_MONTH})\.? \d{{4}}|\d{{4}}-\d{{1,2}})(?!-\d)"


def parse_day(text: str) -> date | None:
    """'2019-06-01', '1 june 2019', 'june 1, 2019', '2019/06/01' as a date (None when it is not one)."""
    t = text.strip().replace(",", "")
    try:
        m = re.fullmatch(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", t)
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        m = re.fullmatch(rf"(\d{{1,2}}) ({_MONTH})\.? (\d{{4}})", t)
        if m:
            return date(int(m.group(3)), _MONTHS[m.group(2)], int(m.group(1)))
        m = re.fullmatch(rf"({_MONTH})\.? (\d{{1,2}})(?:st|nd|rd|th)? (\d{{4}})", t)
        if m:
            return date(int(m.group(3)), _MONTHS[m.group(1)], int(m.group(2)))
    except ValueError:
        return None
    return None


def _month(text: str) -> tuple[date, date] | None:
    t = text.strip()
    m = re.fullmatch(rf"({_MONTH})\.? (\d{{4}})", t) or re.fullmatch(r"(\d{4})-(\d{1,2})", t)
    if not m:
        return None
    if m.group(1).isdigit():
        year, month = int(m.group(1)), int(m.group(2))
    else:
        year, month = int(m.group(2)), _MONTHS[m.group(1)]
    if not 1 <= month <= 12:
        return None
    start = date(year, month, 1)
    end = date(year + (month == 12), month % 12 + 1, 1)
    return start, end


def dated_window(text: str) -> tuple[TimeWindow, date | None, str]:
    """A window the question states with dates: (window, the day it names for "on"/"as of", the words read).
    An empty window when it states none (the measurement parser's windows then apply)."""
    m = re.search(rf"\bbetween {DATE} and {DATE}|\bfrom {DATE} (?:to|until|till|through|thru) {DATE}", text)
    if m:
        a, b = parse_day(m.group(1) or m.group(3)), parse_day(m.group(2) or m.group(4))
        if a and b:
            return TimeWindow(a, b + timedelta(days=1), f"between {a} and {b}"), None, m.group()
    m = re.search(r"\bbetween (\d{4}) and (\d{4})\b|\bfrom (\d{4}) (?:to|until|through) (\d{4})\b", text)
    if m:
        y1, y2 = int(m.group(1) or m.group(3)), int(m.group(2) or m.group(4))
        return TimeWindow(date(y1, 1, 1), date(y2 + 1, 1, 1), f"between {y1} and {y2}"), None, m.group()
    m = re.search(rf"\b(on|as of|at|by) {DATE}", text)
    if m:
        day = parse_day(m.group(2))
        if day:
            if m.group(1) in ("as of", "by"):
                return TimeWindow(end=day + timedelta(days=1), text=f"by {day}"), day, m.group()
            return TimeWindow(day, day + timedelta(days=1), f"on {day}"), day, m.group()
    m = re.search(rf"\b(before|until|prior to|up to) {DATE}", text)
    if m:
        day = parse_day(m.group(2))
        if day:
            return TimeWindow(end=day, text=f"before {day}"), day, m.group()
    m = re.search(rf"\b(since|after|from) {DATE}", text)
    if m:
        day = parse_day(m.group(2))
        if day:
            start = day + timedelta(days=1) if m.group(1) == "after" else day
            return TimeWindow(start=start, text=f"{m.group(1)} {day}"), None, m.group()
    m = re.search(rf"\b(in|during) {MONTH_YEAR}", text)
    if m:
        span = _month(m.group(2))
        if span:
            return TimeWindow(span[0], span[1], f"in {span[0]:%B %Y}"), None, m.group()
    m = re.search(r"\bafter (\d{4})\b", text)
    if m:  # "after 2018" is from 2019 (the measurement parser reads "after" as "since")
        year = int(m.group(1))
        return TimeWindow(start=date(year + 1, 1, 1), text=f"after {year}"), None, m.group()
    m = re.search(r"\b(?:in|during|for) the year (\d{4})\b|\bof (\d{4})\b", text)
    if m:
        year = int(m.group(1) or m.group(2))
        return TimeWindow(date(year, 1, 1), date(year + 1, 1, 1), f"in {year}"), None, m.group()
    return TimeWindow(), None, ""


# The window phrases the measurement parser reads (parse._window), removed before operations are read.
WINDOW_WORDS = (r"\b(at|during|from|on|in) (the|her|his|their) (last|latest|most recent) (visit|encounter|appointment)\b|"
                r"\b(in|over|during) the (last|past) (\d+ )?(day|week|month|year)s?\b|\b(last|past) \d+ "
                r"(day|week|month|year)s?\b|\b(this|past|last) (year|month|week)\b|\b(since|after|from|before|until|"
                r"prior to|in|during) \d{4}\b")

# Elapsed time ("how many days since ..."): counted from which today? Declined rather than guessed.
ELAPSED = (r"\b(days|weeks|months|years|hours) (have |has )?(passed|elapsed|gone by)\b|\bhow long (has it been|since|ago)\b|"
           r"\bhow (many|much) (days|weeks|months|years|time) (since|ago|has it been|have passed)\b|\btime since\b|"
           r"\bhow long (was|did|is)\b.*\b(stay|last|admission|admitted|take|taking)\b|\blength of stay\b")
# Drug and disease classes: the record holds names, not classes ("antibiotics" is not a name it holds).
CLASSES = (r"\b(antibiotics?|antibacterials?|antivirals?|antifungals?|antihypertensives?|statins?|opioids?|painkillers?|"
           r"pain killers?|analgesics?|steroids?|corticosteroids?|anticoagulants?|blood thinners?|diuretics?|"
           r"beta[- ]blockers?|ace inhibitors?|antidepressants?|chemotherapy|immunosuppressants?|nsaids?|"
           r"antipsychotics?|sedatives?|vasopressors?|inotropes?|controlled substances?|cardiovascular disease|"
           r"mental illness(es)?|chronic (disease|condition)s?|cancers? of)\b|\b(any|an|of|for) infections?\b(?! (of|with))")
