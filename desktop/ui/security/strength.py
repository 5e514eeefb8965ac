"""A plain-words strength hint for a new passphrase: length and variety, nothing cleverer.

scrypt makes every guess cost time and memory (desktop/core/workspace/keys.py), but a short passphrase
from a small alphabet is still found quickly; the hint says so in words rather than with a colour bar.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from desktop.core.workspace.crypto import MIN_PASSPHRASE_CHARS


@dataclass(frozen=True)
class StrengthHint:
    acceptable: bool  # long enough for the core to accept it (check_new_passphrase)
    weak: bool
    text: str


def passphrase_hint(passphrase: str) -> StrengthHint:
    length = len(passphrase)
    if length == 0:
        return StrengthHint(
            False,
            True,
            f"Type a passphrase of at least {MIN_PASSPHRASE_CHARS} characters; "
            "several unrelated words are easy to remember and hard to guess.",
        )
    if length < MIN_PASSPHRASE_CHARS:
        return StrengthHint(
            False, True, f"Too short: {length} of at least {MIN_PASSPHRASE_CHARS} characters."
        )
    kinds = sum(
        any(c in group for c in passphrase)
        for group in (string.ascii_lowercase, string.ascii_uppercase, string.digits)
    )
    kinds += any(not c.isalnum() for c in passphrase)
    words = len([w for w in passphrase.split() if w])
    repeated = len(set(passphrase)) <= 3
    if repeated or (length < 12 and kinds < 3):
        return StrengthHint(
            True,
            True,
            "Weak: this passphrase is easy to guess. Use 12 or more characters "
            "mixing letters, digits and symbols, or four unrelated words.",
        )
    if length >= 20 or words >= 4 or (length >= 14 and kinds >= 3):
        return StrengthHint(True, False, "Strong: long and varied.")
    return StrengthHint(True, False, "Fair: longer is better; four unrelated words make a strong passphrase.")
