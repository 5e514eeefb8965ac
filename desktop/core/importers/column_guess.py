"""What a column of an unrecognised file probably holds, for the mapping step to offer (never to decide):
a few values read from the file's head, and a blood pressure column told apart as "120/80" pairs or as one
number (most often the systolic pressure, which the user is asked to confirm)."""

from __future__ import annotations

import csv
import itertools
import re

from desktop.core.importers.sniff import CsvFacts

_CODECS = {"utf-8": "utf-8-sig", "latin-1": "latin-1", "windows-1252": "cp1252", "utf-16-le": "utf-16-le",
           "utf-16-be": "utf-16-be"}
_BP_NAME = re.compile(r"^\s*(blood[\s_.-]*pressure|b\.?\s*p\.?|bp[\s_.-]*(reading|value|mmhg)?)\s*(\(.*\))?\s*$",
                      re.IGNORECASE)
_PAIR = re.compile(r"^\s*\d{2,3}(\.\d+)?\s*/\s*\d{2,3}(\.\d+)?\s*$")
_NUMBER = re.compile(r"^\s*-?\d+([.,]\d+)?\s*$")


def sample_values(facts: CsvFacts, rows: int = 20) -> dict[str, list[str]]:
    """The first ``rows`` non-empty values of each column (a short read of the file's head)."""
    found: dict[str, list[str]] = {h: [] for h in facts.header}
    try:
        with facts.path.open(encoding=_CODECS.get(facts.encoding, "utf-8"), newline="", errors="replace") as fh:
            reader = csv.reader(fh, delimiter=facts.delimiter)
            next(reader, None)
            for row in itertools.islice(reader, rows):
                for name, value in zip(facts.header, row, strict=False):
                    if value.strip():
                        found[name].append(value.strip())
    except (OSError, csv.Error):
        pass  # a sample is a hint: without it the user chooses unaided
    return found


def blood_pressure_kind(name: str, values: list[str]) -> str | None:
    """For a column named like "Blood_Pressure": "pair" when its values are written 120/80, "single" when
    they are single numbers (then it is most likely the systolic pressure: ask), None otherwise."""
    if not _BP_NAME.match(name):
        return None
    if any(_PAIR.match(v) for v in values):
        return "pair"
    if values and all(_NUMBER.match(v) for v in values):
        return "single"
    return None
