"""Time the built app from process start to the window's first paint: ``python packaging/measure_start.py``.

Runs ``dist/Vitalsight/vitalsight gui --script`` with an empty script (open the sample workspace, paint,
quit) several times, headless. The first run is a true cold start when the page cache can be dropped
(root on Linux: ``/proc/sys/vm/drop_caches``), as after a reboot; otherwise it is reported as "first".
The figure is the app's own (``window_painted_s`` in the smoke report, counted from the process's
creation time), so it includes the bootloader, Python's start-up and every import before the window.
Writes ``build/start-times.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bundle_facts as bf  # a sibling file, loaded by path: packaging/ is not a package

OUT = bf.ROOT / "build" / "start-times.json"


def drop_page_cache() -> bool:
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def one_start(home: Path, workspace: Path) -> float:
    report = home / "report.json"
    report.unlink(missing_ok=True)
    script = home / "start.json"
    script.write_text(json.dumps({"report": str(report)}), encoding="utf-8")
    proc = subprocess.run(
        [str(bf.executable()), "gui", "--workspace", str(workspace), "--script", str(script)],
        cwd=home,
        env=bf.frozen_env(home / "data"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    data = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    if proc.returncode != 0 or not data.get("ok"):
        raise SystemExit(f"start failed (exit {proc.returncode}): {data.get('error')}\n{proc.stderr[-2000:]}")
    return float(data["window_painted_s"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm-runs", type=int, default=5)
    args = parser.parse_args(argv)
    sample = bf.internal_dir() / "resources" / "sample" / "sample-workspace.duckdb"
    with tempfile.TemporaryDirectory(prefix="vitalsight-start-") as tmp:
        home = Path(tmp)
        (home / "data").mkdir()
        workspace = home / "workspace.duckdb"
        workspace.write_bytes(sample.read_bytes())
        cold = drop_page_cache()
        first = one_start(home, workspace)
        warm = [one_start(home, workspace) for _ in range(args.warm_runs)]
    result = {
        "first_start_s": round(first, 2),
        "first_start_was_cold": cold,
        "warm_median_s": round(statistics.median(warm), 2),
        "warm_s": [round(w, 2) for w in warm],
        "budget_s": bf.BUDGET_COLD_START_S,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    label = "cold (page cache dropped)" if cold else "first (page cache not dropped)"
    print(
        f"start to first paint: {label} {first:.2f} s, warm median {result['warm_median_s']:.2f} s "
        f"(budget {bf.BUDGET_COLD_START_S:.0f} s)"
    )
    return 0 if max(first, *warm) < bf.BUDGET_COLD_START_S else 1


if __name__ == "__main__":
    sys.exit(main())
