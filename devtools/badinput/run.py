"""Run generated bad input through ``python -m desktop import`` as a new user would, and check every call.

    python -m devtools.badinput [--files 1000] [--seed 22] [--jobs 2] [--keep DIR]

Checks, per call: no traceback; a JSON report on stdout; every path given is in it (a folder by the files
found in it); counts never negative and, for each imported file, accepted + rejected + already present = the
file's records (read with Python's csv module in the encoding the report names; files with an unclosed quote
are checked by their lines instead); each rejection's line is the first line of a record, and a value the
reason quotes is on that record's lines. A foreign DuckDB file (another program's) is given as the workspace
to some calls and to ``summary``/``patients``: its bytes must never change. Prints one JSON summary; the
failures, if any, go to DIR/failures.jsonl.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from devtools.badinput.generate import Call, generate

REPO = Path(__file__).resolve().parents[2]
_CODECS = {"utf-8": "utf-8-sig", "latin-1": "latin-1", "windows-1252": "cp1252", "utf-16-le": "utf-16-le",
           "utf-16-be": "utf-16-be"}
_QUOTED = re.compile(r"'([^']{1,80})'")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def foreign_duckdb(path: Path) -> Path:
    import duckdb

    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE visits (id INTEGER, last VARCHAR, seen DATE)")
    con.execute("INSERT INTO visits VALUES (1, 'Okafor', DATE '2024-01-02'), (2, 'Lee', DATE '2024-02-03')")
    con.close()
    return path


def _desktop(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("VITALSIGHT_PASSPHRASE", None)
    return subprocess.run([sys.executable, "-m", "desktop", *args], capture_output=True, text=True, check=False,
                          cwd=cwd, env=env, timeout=600)


def _records(path: Path, encoding: str | None) -> tuple[list[int], int] | None:
    """The first line of each data record (blank records left out) and the file's last line; None when the
    file cannot be read that way."""
    try:
        text = path.read_bytes().decode(_CODECS.get(encoding or "utf-8", "utf-8"))
    except (OSError, UnicodeDecodeError):
        return None
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t|", key=first.count) if any(first.count(d) for d in ",;\t|") else ","
    feeds = [0]  # lines are counted at line feeds (a lone carriage return ends a record, not a line)

    def lines():  # type: ignore[no-untyped-def]
        for piece in io.StringIO(text, newline=""):
            feeds[0] += piece.count("\n")
            yield piece

    reader = csv.reader(lines(), delimiter=delimiter)
    starts, ended = [], 0
    try:
        for i, row in enumerate(reader):
            if i > 0 and row:
                starts.append(ended + 1)
            ended = feeds[0]
    except csv.Error:
        return None
    return starts, text.count("\n") + (0 if text.endswith("\n") else 1)


def check_call(call: Call, run: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    """The problems of one call (empty when it is right)."""
    problems: list[dict[str, object]] = []
    if "Traceback" in run.stderr:
        problems.append({"kind": "traceback", "stderr": run.stderr[-2000:]})
    try:
        report = json.loads(run.stdout)
        files = report["files"]
    except (json.JSONDecodeError, KeyError, TypeError):
        return problems + [{"kind": "no JSON report", "stdout": run.stdout[:500], "stderr": run.stderr[-500:]}]
    names = [str(f["file"]) for f in files]
    for p in call.paths:
        if str(p) not in names and not any(n.startswith(str(p) + os.sep) for n in names):
            problems.append({"kind": "path missing from the report", "path": str(p)})
    for f in files:
        counts = [f["rows_accepted"], f["rows_rejected"], f["rows_already_present"]]
        if min(counts) < 0:
            problems.append({"kind": "negative count", "file": f["file"], "counts": counts})
        if f["status"] != "imported":
            continue
        path = Path(f["file"])
        reasons = [str(r["reason"]) for r in f["rejections"]]
        swallowed = any("inside the quote opened" in r or "unterminated quote" in r for r in reasons)
        read = None if swallowed else _records(path, f.get("encoding"))
        if read is None:
            continue
        starts, last = read
        if sum(counts) != len(starts) and f["rows_rejected"] == len(f["rejections"]):
            problems.append({"kind": "counts do not add up", "file": f["file"], "counts": counts,
                             "records": len(starts)})
        begins = set(starts)
        text = path.read_bytes().decode(_CODECS.get(f.get("encoding") or "utf-8", "utf-8"))
        lines = [piece + "\n" for piece in text.split("\n")]  # lines as the reader counts them (not splitlines:
        # it also breaks at form feeds and other separators a CSV line may hold)
        for r in f["rejections"]:
            line = r["line"]
            if not isinstance(line, int) or not 1 < line <= last:
                problems.append({"kind": "rejection line outside the file", "file": f["file"], "rejection": r})
                continue
            reason = str(r["reason"])
            if "blank" in reason or "malformed line" in reason:
                continue
            if line not in begins:
                problems.append({"kind": "rejection line is not a record's first line", "file": f["file"],
                                 "rejection": r})
                continue
            shown = "".join(lines[line - 1:int(r.get("last_line") or line)])
            for value in _QUOTED.findall(reason):
                if value.strip() and value.strip() not in shown:
                    problems.append({"kind": "rejection not true of its line", "file": f["file"], "rejection": r,
                                     "line_text": shown[:300]})
                    break
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.badinput")
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="work here and keep everything (default: a temp dir)")
    args = parser.parse_args(argv)
    root = args.keep or Path(tempfile.mkdtemp(prefix="vs-badinput-"))
    calls = generate(root / "files", args.seed, args.files)
    foreign = foreign_duckdb(root / "their-program.duckdb")
    foreign_hash = _sha(foreign)
    rng = random.Random(args.seed)
    jobs = []
    for i, call in enumerate(calls):
        target = foreign if rng.random() < 0.1 else root / "ws" / f"w{i % 40}.duckdb"  # shared: re-imports too
        target.parent.mkdir(exist_ok=True)
        cmd = ["import", "--workspace", str(target)]
        if call.mapping is not None:
            cmd += ["--mapping", str(call.mapping)]
        jobs.append((call, cmd + [str(p) for p in call.paths]))
    by_workspace: dict[str, list[tuple[Call, list[str]]]] = {}
    for call, cmd in jobs:  # calls on one workspace run in order, one at a time (as a user's would)
        by_workspace.setdefault(cmd[2], []).append((call, cmd))

    def run_group(group: list[tuple[Call, list[str]]]) -> list[dict[str, object]]:
        out = []
        for call, cmd in group:
            run = _desktop(cmd, root)
            problems = check_call(call, run)
            if cmd[2] == str(foreign) and _sha(foreign) != foreign_hash:
                problems.append({"kind": "foreign DuckDB file changed"})
            out.append({"cmd": cmd, "rc": run.returncode, "problems": problems,
                        "files": len(json.loads(run.stdout)["files"]) if run.stdout.startswith("{") else 0})
        return out

    with ThreadPoolExecutor(args.jobs) as pool:
        results = [r for group in pool.map(run_group, by_workspace.values()) for r in group]
    for cmd in (["summary", "--workspace", str(foreign), "--patient", "1"], ["patients", "--workspace", str(foreign)],
                ["audit", "--workspace", str(foreign)]):
        run = _desktop(cmd, root)
        problems = [] if run.returncode == 2 and "Traceback" not in run.stderr else [
            {"kind": "foreign file not refused", "stderr": run.stderr[-500:]}]
        if _sha(foreign) != foreign_hash:
            problems.append({"kind": "foreign DuckDB file changed"})
        results.append({"cmd": cmd, "rc": run.returncode, "problems": problems, "files": 0})
    kinds: dict[str, int] = {}
    for r in results:
        for p in r["problems"]:  # type: ignore[union-attr]
            kinds[str(p["kind"])] = kinds.get(str(p["kind"]), 0) + 1
    files_written = sum(1 for p in (root / "files").rglob("*") if p.is_file() and not p.name.endswith(".json"))
    summary = {
        "files_generated": files_written, "calls": len(results),
        "report_entries": sum(int(r["files"]) for r in results),  # type: ignore[call-overload]
        "exit_codes": {str(c): sum(1 for r in results if r["rc"] == c) for c in sorted({r["rc"] for r in results})},
        "tracebacks": kinds.get("traceback", 0), "calls_without_json_report": kinds.get("no JSON report", 0),
        "negative_counts": kinds.get("negative count", 0), "mismatched_counts": kinds.get("counts do not add up", 0),
        "foreign_file_changed": kinds.get("foreign DuckDB file changed", 0), "problems_by_kind": kinds,
        "work_dir": str(root),
    }
    with (root / "failures.jsonl").open("w", encoding="utf-8") as out:
        for r in results:
            if r["problems"]:
                out.write(json.dumps(r, default=str) + "\n")
    print(json.dumps(summary, indent=2))
    return 0 if not kinds else 1


if __name__ == "__main__":
    raise SystemExit(main())
