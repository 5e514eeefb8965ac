"""Turning a clinic passphrase into the key DuckDB encrypts a workspace with.

DuckDB documents no memory-hard derivation of the ``ENCRYPTION_KEY`` string, so a stolen laptop's
workspace could be attacked at a fast hash's speed. We therefore derive the key ourselves with scrypt,
which is memory-hard (128 MiB and about half a second per guess on the dev machine), and hand DuckDB the
hex result. The per-workspace random salt is not secret; it travels with the workspace in its key slot
(keyslot.py says why there), and workspace_crypto.py wires it into creating and opening workspaces.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

SALT_BYTES = 16
KEY_BYTES = 32


@dataclass(frozen=True)
class ScryptParameters:
    """scrypt cost: memory is 128 * n * r bytes; time grows with n * r * p."""

    n: int = 2**17
    r: int = 8
    p: int = 1

    @property
    def memory_bytes(self) -> int:
        return 128 * self.n * self.r


DEFAULT_PARAMETERS = ScryptParameters()
# Below these a GPU farm makes short passphrases cheap to guess (OWASP's floor is n=2**17, r=8, p=1).
MINIMUM_MEMORY_BYTES = 64 * 1024 * 1024


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


def derive_key(passphrase: str, *, salt: bytes, parameters: ScryptParameters = DEFAULT_PARAMETERS) -> str:
    """The hex key for ``ENCRYPTION_KEY``; the same passphrase and salt always give the same key."""
    if not passphrase:
        raise ValueError("An empty passphrase cannot protect a workspace.")
    if len(salt) < SALT_BYTES:
        raise ValueError(f"The salt must have at least {SALT_BYTES} random bytes.")
    if parameters.memory_bytes < MINIMUM_MEMORY_BYTES:
        raise ValueError("These scrypt parameters are too weak to protect patient data.")
    raw = hashlib.scrypt(
        passphrase.encode("utf-8"),
        salt=salt,
        n=parameters.n,
        r=parameters.r,
        p=parameters.p,
        maxmem=parameters.memory_bytes * 2,
        dklen=KEY_BYTES,
    )
    return raw.hex()
