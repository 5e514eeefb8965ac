"""The command line, for scripts and IT staff; the app uses the same core functions.

    python -m desktop import   --workspace W.duckdb [--update-existing] PATH...
                               (exit 0 clean, 1 rows rejected or left as stored, 2 a file failed; the JSON
                               report is printed whatever happens; folders are walked)
    python -m desktop patients --workspace W.duckdb
    python -m desktop summary  --workspace W.duckdb --patient ID
    python -m desktop gui      [--workspace W.duckdb]
    python -m desktop chat     --workspace W.duckdb [--patient ID] [--json] [--model PATH] "question"
    python -m desktop selfcheck                               (is this installation complete? JSON)
    python -m desktop audit    --workspace W.duckdb           (see cli_security.py)
    python -m desktop encrypt | change-passphrase --workspace W.duckdb
    Encrypted workspaces: --passphrase-file FILE, VITALSIGHT_PASSPHRASE, or a prompt (cli_security.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb

from desktop.cli_security import add_security_commands, run_command
from desktop.core.importers import ColumnMapping, FileReport, ImportReport, run_import
from desktop.core.importers.report import NOT_REACHED
from desktop.core.queries.patients import PatientFilter, list_patients
from desktop.core.queries.summary import PatientNotFound, patient_summary
from desktop.core.tasks import TaskState
from desktop.core.workspace.errors import describe_damage
from desktop.core.workspace.store import WorkspaceError, open_store


def _print_json(data: object) -> None:
    json.dump(data, sys.stdout, indent=2, default=str, ensure_ascii=False)
    sys.stdout.write("\n")


def cmd_import(args: argparse.Namespace) -> int:
    """Import; whatever happens, the JSON report is printed (scripts read it) with every path in it."""
    mapping = None
    if args.mapping:
        try:
            mapping = ColumnMapping.from_json(Path(args.mapping).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return refuse_import(args.paths, f"{args.mapping}: not a usable column mapping: {exc}")
    try:
        # Only a path that does not exist becomes a new workspace; an existing file must be one already.
        store = open_store(args.workspace, create=True)
    except WorkspaceError as exc:
        return refuse_import(args.paths, str(exc))
    try:
        with store:
            report = run_import(
                store, paths=[Path(p) for p in args.paths], mapping=mapping, save_mapping_as=args.save_mapping,
                update_existing=args.update_existing, state=TaskState(),
            )
    except KeyboardInterrupt:
        return refuse_import(args.paths, "the import was interrupted before any file was stored",
                             status=NOT_REACHED)
    except (duckdb.Error, OSError) as exc:  # the workspace failed under the import: each unit rolled back
        return refuse_import(args.paths, describe_damage(args.workspace, exc))
    _print_json(report.to_dict())
    failed = [f for f in report.files if f.status in ("failed", "cancelled") and f.message]
    if failed:  # the one line a person at a terminal reads (the cause, not its echoes); the JSON has every file
        cause = next((f for f in failed if str(f.message).startswith(f"{f.file}: ")), failed[0])
        print(str(cause.message).splitlines()[0], file=sys.stderr)
    return report.exit_code


def refuse_import(paths: list[str], reason: str, *, status: str = "failed") -> int:
    """Nothing was imported: one line on stderr, and still the JSON report (scripts read it), exit 2."""
    print(reason, file=sys.stderr)
    report = ImportReport(files=[FileReport(p, "", status, message=reason) for p in paths])
    _print_json({**report.to_dict(), "ok": False, "error": reason})
    return 2


def cmd_patients(args: argparse.Namespace) -> int:
    with open_store(args.workspace, read_only=True) as store:
        _print_json(list_patients(store, filter=PatientFilter(search=args.search or "")))
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    with open_store(args.workspace, read_only=True) as store:
        try:
            _print_json(patient_summary(store, args.patient))
        except PatientNotFound as exc:
            print(str(exc), file=sys.stderr)
            return 1
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from desktop.cli_chat import run_chat

    return run_chat(args)


def cmd_trial_load(args: argparse.Namespace) -> int:
    # The model manager loads a file it did not build in a child process first; a frozen app has no
    # ``python -m``, so the child is this executable with this command.
    from desktop.core.llm.trial_load import run_child

    return run_child(args.model)


def cmd_gui(args: argparse.Namespace) -> int:
    from desktop.ui.app import run_app  # Qt only when the window is wanted

    if args.script:
        # The packaged app's smoke test: the same run_app, with a driver pressing the buttons.
        from desktop.ui.dev.smoke_script import install

        install(args.script)
    return run_app(workspace=args.workspace)


def cmd_selfcheck(args: argparse.Namespace) -> int:
    from desktop.selfcheck import main as selfcheck_main

    return selfcheck_main()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m desktop", description="Vitalsight: offline clinical data.")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("import", help="import CSV files or Synthea export folders; prints a JSON report")
    p.add_argument("--workspace", required=True,
                   help="the workspace file (created if the path does not exist; an existing file must be a "
                        "Vitalsight workspace and is never written otherwise)")
    p.add_argument("--mapping", help="a column mapping JSON for a CSV layout Vitalsight does not recognise")
    p.add_argument("--save-mapping", metavar="NAME", help="remember --mapping in the workspace under NAME")
    p.add_argument("--update-existing", action="store_true",
                   help="rows the workspace already holds (same patient or encounter Id, or a reading of the same "
                        "patient, time and measurement) take the file's values (without it they are counted as "
                        "already present and kept as stored)")
    p.add_argument("paths", nargs="+", help="CSV files and/or folders (walked: each Synthea export folder inside is "
                                            "found; anything skipped is listed in the report with its reason)")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("patients", help="print the patients as JSON")
    p.add_argument("--workspace", required=True)
    p.add_argument("--search", help="only patients whose name or id contains this")
    p.set_defaults(func=cmd_patients)

    p = sub.add_parser("summary", help="print one patient's latest values, flags, BP category and NEWS2")
    p.add_argument("--workspace", required=True)
    p.add_argument("--patient", required=True, help="the patient id (see `patients`)")
    p.set_defaults(func=cmd_summary)

    from desktop.cli_chat import add_chat_arguments

    p = sub.add_parser("chat", help="ask the on-device model about a patient; the answer streams to stdout")
    add_chat_arguments(p)
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("trial-load", help="(internal) load a model file in this process and report")
    p.add_argument("model")
    p.set_defaults(func=cmd_trial_load)

    p = sub.add_parser("gui", help="open the app window (the default)")
    p.add_argument("--workspace", help="open this workspace")
    # Hidden: desktop/ui/dev/smoke_script.py drives the window for the installer's smoke test.
    p.add_argument("--script", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_gui)

    p = sub.add_parser("selfcheck", help="check this installation (resources, encryption, llama.cpp, Qt)")
    p.set_defaults(func=cmd_selfcheck)

    add_security_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["gui", *(argv or [])])
    if args.command in ("patients", "summary", "chat") and not Path(args.workspace).exists():
        print(f"{args.workspace}: no such workspace", file=sys.stderr)
        return 2
    try:
        # Unlocks an encrypted workspace and records the command's audit entries (cli_security.py).
        return run_command(args)
    except WorkspaceError as exc:  # a wrong passphrase, a file that is not a workspace, ...
        if args.command == "import":
            return refuse_import(args.paths, str(exc))
        print(str(exc), file=sys.stderr)
        return 2
    except duckdb.Error as exc:  # opened, then a read failed: the file is damaged (truncated, table missing)
        sentence = describe_damage(str(getattr(args, "workspace", "the workspace")), exc)
        if args.command == "import":
            return refuse_import(args.paths, sentence)
        print(sentence, file=sys.stderr)
        return 2
