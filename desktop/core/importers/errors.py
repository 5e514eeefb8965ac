"""What can go wrong with an import, as exceptions carrying a message a clinician can act on."""

from __future__ import annotations


class ImportFailed(Exception):
    """The file (or folder) cannot be imported at all; nothing of it was stored.

    The message names the file and, where there is one, the line.
    """


class ImportCancelled(Exception):
    """The user cancelled; the workspace is exactly as it was before the import began."""
