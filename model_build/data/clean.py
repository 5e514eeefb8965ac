"""Cleaning and splitting, the same for every source, with a count of what was dropped and why."""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter, defaultdict
from typing import Any

Record = dict[str, Any]

_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANKS = re.compile(r"\n{3,}")
# A public answer that goes on to write the patient's next message ("... Patient: Thanks doctor, ...").
_INVENTED_TURN = re.compile(r"(?:^|\s)(?:Patient|User|Human)\s*:", re.IGNORECASE)
_NON_WORD = re.compile(r"[^a-z0-9]+")
OPENING_CHARS = 60  # answers sharing this many normalized leading characters are one template


def normalize(text: str) -> str:
    """Collapse runs of spaces/tabs, trim each line, keep at most one blank line between paragraphs."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANKS.sub("\n\n", text).strip()


def cut_invented_turn(answer: str) -> str:
    """The answer up to an invented next patient turn (kept whole when the answer starts with one)."""
    m = _INVENTED_TURN.search(answer, 1)
    return answer[:m.start()].rstrip() if m else answer


def near_key(text: str) -> str:
    """Case, punctuation and spacing removed: rows differing only in those are the same row."""
    return _NON_WORD.sub(" ", text.lower()).strip()


def clean(records: list[Record], *, min_answer_chars: int, max_prompt_chars: int,
          max_answer_chars: int) -> tuple[list[Record], dict[str, Counter]]:
    """Return the kept records and, per source, a Counter of drop reasons (and "kept")."""
    kept: list[Record] = []
    report: dict[str, Counter] = defaultdict(Counter)
    seen: set[str] = set()
    for rec in records:
        src = rec["source"]
        rec = dict(rec, answer=cut_invented_turn(normalize(rec["answer"])),
                   system=normalize(rec["system"]) if rec.get("system") else None,
                   messages=[dict(m, content=normalize(m["content"])) for m in rec["messages"]])
        prompt_text = "\n".join(m["content"] for m in rec["messages"])
        if not prompt_text.strip() or not rec["messages"] or not rec["messages"][-1]["content"]:
            reason = "empty prompt"
        elif len(rec["answer"]) < max(1, min_answer_chars):
            reason = "empty answer" if not rec["answer"] else "answer too short"
        elif len(prompt_text) + len(rec.get("system") or "") > max_prompt_chars:
            reason = "prompt too long"
        elif len(rec["answer"]) > max_answer_chars:
            reason = "answer too long"
        else:
            key = hashlib.sha256(f"{rec.get('system')}\x00{near_key(prompt_text)}\x00{near_key(rec['answer'])}"
                                 .encode()).hexdigest()
            reason = "duplicate" if key in seen else ""
            seen.add(key)
        if reason:
            report[src][reason] += 1
        else:
            report[src]["kept"] += 1
            kept.append(rec)
    return group_near_duplicates(kept), dict(report)


def group_near_duplicates(records: list[Record]) -> list[Record]:
    """Public rows that share a normalized prompt or an answer opening (a generator's template) join one
    group, so split() never puts one in train and its near-twin in test. Rows that already come grouped
    (synthetic patients, whose answers share templates by design) keep their groups."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for rec in records:
        if rec["group"] != rec["id"]:
            continue
        prompt = near_key("\n".join(m["content"] for m in rec["messages"]))
        for key in (f"p:{prompt}", f"a:{near_key(rec['answer'])[:OPENING_CHARS]}"):
            parent[find(rec["group"])] = find(key)
    return [dict(r, group="near:" + find(r["group"])) if r["group"] in parent else r for r in records]


def split(records: list[Record], *, val_fraction: float, test_fraction: float, seed: int
          ) -> dict[str, list[Record]]:
    """Seeded split by group: all rows of one group (e.g. one synthetic patient) land in one split, so
    the held-out numbers never reward having seen the same patient in training."""
    groups: dict[str, list[Record]] = defaultdict(list)
    for rec in records:
        groups[rec["group"]].append(rec)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    n = len(keys)
    n_test = round(n * test_fraction) if test_fraction > 0 else 0
    n_val = round(n * val_fraction) if val_fraction > 0 else 0
    if n >= 3:  # keep at least one group in each requested split
        n_test = max(n_test, 1 if test_fraction > 0 else 0)
        n_val = max(n_val, 1 if val_fraction > 0 else 0)
    parts = {"test": keys[:n_test], "val": keys[n_test:n_test + n_val], "train": keys[n_test + n_val:]}
    return {name: [r for k in ks for r in groups[k]] for name, ks in parts.items()}
