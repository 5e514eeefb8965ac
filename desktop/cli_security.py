"""Security commands of the command line, kept apart from cli.py so features merge cleanly.

    python -m desktop audit --workspace W.duckdb   (prints the log; exit 1 when the chain is broken)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from desktop.core.audit import read_audit, verify_chain
from desktop.core.store import open_store


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


def add_security_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="print the workspace's audit log and verify its hash chain")
    p.add_argument("--workspace", required=True)
    p.set_defaults(func=cmd_audit)
