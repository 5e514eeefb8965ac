"""Security of the command line, kept apart from cli.py so features merge cleanly.

    python -m desktop audit             --workspace W.duckdb  (prints the log; exit 1 when the chain is broken)
    python -m desktop encrypt           --workspace W.duckdb  (encrypts a plaintext workspace in place)
    python -m desktop change-passphrase --workspace W.duckdb

Every command that takes ``--workspace`` also takes ``--passphrase-file FILE``. The passphrase comes from
that file, else from the environment variable VITALSIGHT_PASSPHRASE, else from a prompt when stdin is a
terminal; never from an argument, which ``ps`` and shell history would show. A new passphrase (encrypt,
change-passphrase) comes from ``--new-passphrase-file``, VITALSIGHT_NEW_PASSPHRASE or a prompt typed twice.
``import`` into a workspace that does not exist yet creates an encrypted one when a passphrase is given.

Audit entries the command line records: file imported (one per file, after the import), question asked
(chat, with the patient id, never the question), patient viewed (summary), workspace encrypted and
passphrase changed. ``summary`` reads the workspace read-only, so its entry is written first through a
separate, short writable open (milliseconds) that is closed before the read-only view begins: the view is
never held writable, and a view that cannot be recorded is refused rather than left unlogged (an unknown
patient id records nothing, as nothing is shown). ``chat`` records its entry before the model is loaded.
``patients`` lists everyone and views no one patient, so it records nothing.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb

from desktop.core.workspace import audit
from desktop.core.workspace.audit import read_audit, verify_chain
from desktop.core.workspace.crypto import (
    change_passphrase,
    create_encrypted_workspace,
    encrypt_workspace,
    unlock_workspace,
)
from desktop.core.workspace.keyslot import is_encrypted_workspace, missing_slot_message, slot_path
from desktop.core.workspace.rewrite import upgrade_storage
from desktop.core.workspace.store import WorkspaceError, open_store

PASSPHRASE_ENV = "VITALSIGHT_PASSPHRASE"
NEW_PASSPHRASE_ENV = "VITALSIGHT_NEW_PASSPHRASE"
# Commands that must not stop at a prompt: the window asks for the passphrase itself.
_NO_PROMPT = frozenset({"gui"})


class PassphraseUnavailable(WorkspaceError):
    """No passphrase source was given for an encrypted workspace."""


def _stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def read_passphrase(file: str | None, *, env: str, prompt: str | None, confirm: bool = False,
                    ask: Callable[[str], str] | None = None) -> str | None:
    """The passphrase from ``file``, else ``env``, else a prompt (when ``prompt`` and a terminal); or None."""
    if file:
        try:
            text = Path(file).read_text(encoding="utf-8")
        except OSError as exc:
            raise WorkspaceError(f"{file}: cannot read the passphrase file: {exc.strerror}") from exc
        # Only the line ending an editor adds is dropped: spaces may be part of a passphrase.
        passphrase = text.rstrip("\r\n")
        if not passphrase:
            raise WorkspaceError(f"{file}: the passphrase file is empty")
        return passphrase
    if os.environ.get(env):
        return os.environ[env]
    if prompt is None or not _stdin_is_terminal():
        return None
    ask = ask or getpass.getpass  # looked up at call time, so tests can stand in for the terminal
    try:
        passphrase = ask(prompt)
        again = ask("Type it again: ") if confirm else passphrase
    except (EOFError, KeyboardInterrupt) as exc:
        raise WorkspaceError("No passphrase was given; nothing was changed.") from exc
    if again != passphrase:
        raise WorkspaceError("The two passphrases differ; nothing was changed.")
    return passphrase


def _workspace_passphrase(args: argparse.Namespace, *, interactive: bool = True) -> str | None:
    return read_passphrase(getattr(args, "passphrase_file", None), env=PASSPHRASE_ENV,
                           prompt=f"Passphrase for {args.workspace}: " if interactive else None)


def _missing_passphrase(workspace: str) -> PassphraseUnavailable:
    return PassphraseUnavailable(
        f"{workspace} is encrypted: give --passphrase-file FILE or set {PASSPHRASE_ENV} "
        "(or run in a terminal to be asked). A passphrase is never taken as an argument."
    )


def unlock_for_command(args: argparse.Namespace) -> None:
    """Before a command runs: unlock its encrypted workspace in this process, or create an encrypted one."""
    workspace = getattr(args, "workspace", None)
    if not workspace or args.command in ("encrypt", "change-passphrase", "upgrade-storage"):
        return
    path = Path(workspace)
    if not path.exists():
        if args.command == "import":
            passphrase = _workspace_passphrase(args, interactive=False)
            if passphrase is not None:
                create_encrypted_workspace(path, passphrase).close()
        return
    if not is_encrypted_workspace(path):
        return
    if not slot_path(path).exists():  # no passphrase can help: say what is missing first
        raise WorkspaceError(missing_slot_message(path))
    passphrase = _workspace_passphrase(args, interactive=args.command not in _NO_PROMPT)
    if passphrase is None:
        if args.command in _NO_PROMPT:
            return
        raise _missing_passphrase(workspace)
    unlock_workspace(path, passphrase)


def run_command(args: argparse.Namespace) -> int:
    """Run one parsed command with its workspace unlocked and its audit entries recorded."""
    unlock_for_command(args)
    if args.command == "summary":
        _record_for_patient(args.workspace, action="patient_viewed", patient_id=args.patient)
    # "chat" records its question in the turn itself (desktop.core.chat.ask_turn), as the window does.
    # An import whose workspace cannot be opened (damaged, in use) still prints its JSON report: that is
    # cmd_import's job, so the audit bookkeeping around it steps aside instead of failing first.
    last_import = _last_import_id(args.workspace) if args.command == "import" else None
    code = int(args.func(args))
    if args.command == "import" and last_import is not None:
        _record_imports(args.workspace, after=last_import)
    return code


def _record_for_patient(workspace: str | Path, *, action: str, patient_id: str | None) -> None:
    """Record the entry if the patient exists (otherwise the command itself says so and shows nothing); a
    question about the whole workspace (no patient) is recorded without one."""
    with open_store(workspace) as store:
        if patient_id is None:
            audit.record(store, action=action, detail="about the workspace")
            return
        known = store.con.execute("SELECT count(*) FROM patients WHERE patient_id = ?", [patient_id]).fetchone()
        if known and known[0]:
            audit.record(store, action=action, patient_id=patient_id)


def _last_import_id(workspace: str | Path) -> int | None:
    if not Path(workspace).exists():
        return 0
    try:
        with open_store(workspace) as store:
            row = store.con.execute("SELECT coalesce(max(import_id), 0) FROM imports").fetchone()
    except (WorkspaceError, duckdb.Error):
        return None
    return int(row[0]) if row else 0


def _record_imports(workspace: str | Path, *, after: int) -> None:
    """One entry per file the import committed; a failed import left the workspace unchanged, and so
    does this."""
    if not Path(workspace).exists():
        return
    with open_store(workspace) as store:
        rows = store.con.execute(
            "SELECT import_id, file_name, format, rows_accepted, rows_rejected FROM imports "
            "WHERE import_id > ? ORDER BY import_id", [after]
        ).fetchall()
        for import_id, file_name, file_format, accepted, rejected in rows:
            audit.record(store, action="file_imported",
                         detail=f"{file_name} ({file_format}): {accepted} rows accepted, {rejected} rejected, "
                                f"import {import_id}")


def cmd_audit(args: argparse.Namespace) -> int:
    if not Path(args.workspace).exists():
        print(f"{args.workspace}: no such workspace", file=sys.stderr)
        return 2
    # Writable so that an older workspace gains the audit tables (migration 5) before it is read.
    with open_store(args.workspace) as store:
        for entry in read_audit(store):
            patient = f" patient={entry.patient_id}" if entry.patient_id else ""
            detail = f" {entry.detail}" if entry.detail else ""
            print(f"{entry.sequence:6d} {entry.recorded_at:%Y-%m-%d %H:%M:%S}Z {entry.os_user} "
                  f"{entry.action}{patient}{detail}")
        check = verify_chain(store)
    if check.ok:
        print(f"audit chain intact: {check.entries} entries")
        return 0
    print(f"audit chain BROKEN: {check.problem}", file=sys.stderr)
    return 1


def _new_passphrase(args: argparse.Namespace, *, file: str | None, env: str) -> str:
    passphrase = read_passphrase(file, env=env, prompt=f"New passphrase for {args.workspace}: ", confirm=True)
    if passphrase is None:
        raise PassphraseUnavailable(f"Give the new passphrase with --new-passphrase-file FILE or {env} "
                                    "(or run in a terminal to be asked).")
    return passphrase


def cmd_encrypt(args: argparse.Namespace) -> int:
    # The workspace has no passphrase yet, so --passphrase-file / VITALSIGHT_PASSPHRASE give the new one.
    file = args.passphrase_file or args.new_passphrase_file
    env = PASSPHRASE_ENV if os.environ.get(PASSPHRASE_ENV) else NEW_PASSPHRASE_ENV
    result = encrypt_workspace(args.workspace, _new_passphrase(args, file=file, env=env))
    print(result.message)
    return 0


def cmd_upgrade_storage(args: argparse.Namespace) -> int:
    print(upgrade_storage(args.workspace).message)
    return 0


def cmd_change_passphrase(args: argparse.Namespace) -> int:
    if not Path(args.workspace).exists():
        raise WorkspaceError(f"{args.workspace}: no such workspace")
    old = _workspace_passphrase(args)
    if old is None:
        raise _missing_passphrase(args.workspace)
    new = _new_passphrase(args, file=args.new_passphrase_file, env=NEW_PASSPHRASE_ENV)
    if new == old:
        raise WorkspaceError("The new passphrase is the same as the old one; nothing was changed.")
    print(change_passphrase(args.workspace, old, new).message)
    return 0


def add_security_commands(sub: argparse._SubParsersAction) -> None:
    """Add the security commands, then ``--passphrase-file`` to every command that opens a workspace."""
    p = sub.add_parser("audit", help="print the workspace's audit log and verify its hash chain")
    p.add_argument("--workspace", required=True)
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("encrypt", help="encrypt a plaintext workspace in place under a new passphrase")
    p.add_argument("--workspace", required=True)
    p.add_argument("--new-passphrase-file", help=f"file holding the new passphrase (or {NEW_PASSPHRASE_ENV})")
    p.set_defaults(func=cmd_encrypt)

    p = sub.add_parser("change-passphrase", help="re-encrypt a workspace under a new passphrase")
    p.add_argument("--workspace", required=True)
    p.add_argument("--new-passphrase-file", help=f"file holding the new passphrase (or {NEW_PASSPHRASE_ENV})")
    p.set_defaults(func=cmd_change_passphrase)

    p = sub.add_parser("upgrade-storage", help="rewrite a workspace made by an earlier Vitalsight in the current "
                                               "storage format (verified copy, swapped in; imports about twice "
                                               "as fast)")
    p.add_argument("--workspace", required=True)
    p.set_defaults(func=cmd_upgrade_storage)

    for parser in sub.choices.values():
        if any("--workspace" in action.option_strings for action in parser._actions):
            parser.add_argument(
                "--passphrase-file", metavar="FILE",
                help=f"file holding the workspace passphrase (or {PASSPHRASE_ENV}, or a prompt in a terminal)",
            )
