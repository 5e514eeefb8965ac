"""Import speed and memory against plain DuckDB and against the seeds' pandas + SQLite path.

    python -m benchmarks.bench_import [--rows 1000000] [--cohort-rows 10000000]

Each case runs in its own child process so that its peak memory (ru_maxrss) is its own. Ratios are
computed against baselines measured in the same run, on the same files.
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def case_ours(path: Path, workspace: Path) -> dict[str, float]:
    from desktop.core.importers import run_import
    from desktop.core.tasks import TaskState
    from desktop.core.workspace.store import open_store

    with open_store(workspace) as store:
        start = time.perf_counter()
        report = run_import(store, paths=[path], state=TaskState())
        seconds = time.perf_counter() - start
    f = report.files[0]
    assert f.status == "imported", f.message
    return {"seconds": seconds, "rows": f.rows_accepted + f.rows_rejected, "rejected": f.rows_rejected}


def case_duckdb(path: Path, workspace: Path) -> dict[str, float]:
    import duckdb

    con = duckdb.connect(str(workspace))
    start = time.perf_counter()
    rows = con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{path}')").fetchone()
    con.close()
    return {"seconds": time.perf_counter() - start, "rows": rows[0] if rows else 0}


def case_duckdb_v15(path: Path, workspace: Path) -> dict[str, float]:
    """Plain DuckDB again, into a file in the storage format a new workspace has (not DuckDB's default): what the
    format alone is worth, shown beside the goal's baseline."""
    import duckdb

    from desktop.core.workspace.store import STORAGE_VERSION

    con = duckdb.connect()
    con.execute(f"ATTACH '{workspace}' AS w (STORAGE_VERSION '{STORAGE_VERSION}')")
    con.execute("USE w")
    start = time.perf_counter()
    rows = con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{path}')").fetchone()
    con.close()
    return {"seconds": time.perf_counter() - start, "rows": rows[0] if rows else 0}


def case_pandas_sqlite(path: Path, workspace: Path) -> dict[str, float]:
    import pandas as pd

    start = time.perf_counter()
    frame = pd.read_csv(path)
    con = sqlite3.connect(workspace)
    frame.to_sql("observations", con, index=False)
    con.commit()
    con.close()
    return {"seconds": time.perf_counter() - start, "rows": len(frame)}


CASES = {"ours": case_ours, "duckdb": case_duckdb, "duckdb_v1.5_file": case_duckdb_v15,
         "pandas_sqlite": case_pandas_sqlite}


def run_case(name: str, path: Path, tmp: Path) -> dict[str, float]:
    workspace = tmp / f"{name}-{path.stem}.db"
    workspace.unlink(missing_ok=True)
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_import", "--child", name, str(path), str(workspace)],
        capture_output=True, text=True, check=True,
    )
    workspace.unlink(missing_ok=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def cohort_aggregate(tmp: Path, rows: int) -> dict[str, float]:
    """Systolic BP by condition and year over ``rows`` observations (built in SQL, not from CSV)."""
    from desktop.core.workspace.store import open_store

    with open_store(tmp / "cohort.duckdb") as store:
        con = store.con
        patients = max(rows // 1000, 100)
        con.execute(f"""
            INSERT INTO patients (patient_id, name, sex, birth_date)
            SELECT 'p' || i, 'Patient ' || i, CASE WHEN i % 2 = 0 THEN 'F' ELSE 'M' END,
                   DATE '1940-01-01' + to_days((i * 37 % 20000)::INTEGER) FROM range({patients}) t(i)""")
        con.execute(f"""
            INSERT INTO conditions (patient_id, onset, description, import_id)
            SELECT 'p' || i, DATE '2010-01-01',
                   ['Hypertension', 'Diabetes', 'Asthma', 'Obesity', 'CKD'][(i % 5) + 1], 0 FROM range({patients}) t(i)""")
        con.execute(f"""
            INSERT INTO observations (patient_id, observed_at, code, value_raw, unit_raw, value, unit, import_id)
            SELECT 'p' || (i % {patients}), TIMESTAMP '2015-01-01' + to_minutes((i * 7919 % 5000000)::BIGINT),
                   CASE WHEN i % 4 = 0 THEN '8480-6' WHEN i % 4 = 1 THEN '8462-4' WHEN i % 4 = 2 THEN '8867-4'
                        ELSE '2339-0' END,
                   NULL, NULL, 60 + (i * 31 % 120), 'mm[Hg]', 0
            FROM range({rows}) t(i)""")
        con.execute("CHECKPOINT")
        from desktop.core.queries.cohort import CohortRequest, run_cohort_trend

        # The cohort view's own query: per condition and year, patients, readings, mean, median, P25, P75.
        request = CohortRequest(code="8480-6", group_by="condition", period="year")
        timings = []
        result = []
        for _ in range(7):
            start = time.perf_counter()
            result = run_cohort_trend(store, request)
            timings.append(time.perf_counter() - start)
    return {"rows": rows, "median_ms": statistics.median(timings) * 1000, "min_ms": min(timings) * 1000,
            "groups": len(result)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cohort-rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each case; the median is kept")
    parser.add_argument("--child", nargs=3, metavar=("CASE", "FILE", "WORKSPACE"))
    args = parser.parse_args()
    if args.child:
        name, file, workspace = args.child
        result = CASES[name](Path(file), Path(workspace))
        result["peak_rss_mb"] = _peak_rss_mb()
        print(json.dumps(result))
        return 0

    from devtools.synthetic import write_long_file, write_synthea_observations

    with tempfile.TemporaryDirectory(prefix="vitalsight-bench-") as tmp_name:
        tmp = Path(tmp_name)
        files = {
            "long": (write_long_file, tmp / "long.csv"),
            "synthea observations": (write_synthea_observations, tmp / "observations.csv"),
        }
        print(f"Import benchmark: {args.rows:,} rows per file; each case in its own process; {args.repeats} runs, "
              "median kept (a shared machine's load varies from run to run)\n")
        header = f"{'file':22} {'case':17} {'seconds':>8} {'rows/s':>12} {'peak MB':>8} {'ours vs it':>11}"
        print(header)
        print("-" * len(header))
        for label, (writer, path) in files.items():
            writer(path, args.rows, seed=7)
            small = tmp / f"small-{path.name}"
            writer(small, args.rows // 4, seed=7)
            results = {}
            for name in CASES:
                runs = [run_case(name, path, tmp) for _ in range(args.repeats if name != "pandas_sqlite" else 1)]
                results[name] = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
            ours = results["ours"]
            for name, r in results.items():
                ratio = r["seconds"] / ours["seconds"]
                print(f"{label:22} {name:17} {r['seconds']:8.2f} {r['rows'] / r['seconds']:12,.0f} "
                      f"{r['peak_rss_mb']:8.0f} {'' if name == 'ours' else f'{ratio:10.2f}x'}")
            quarter = run_case("ours", small, tmp)
            print(f"{label:22} {'ours, 1/4 file':17} {quarter['seconds']:8.2f} "
                  f"{quarter['rows'] / quarter['seconds']:12,.0f} {quarter['peak_rss_mb']:8.0f}")
            print(f"  -> ours at {ours['seconds'] and results['duckdb']['seconds'] / ours['seconds']:.2f}x plain DuckDB "
                  f"(goal >= 0.8x; {results['duckdb_v1.5_file']['seconds'] / ours['seconds']:.2f}x it into a file in the "
                  f"workspace's storage format), {results['pandas_sqlite']['seconds'] / ours['seconds']:.1f}x pandas+SQLite "
                  f"(goal >= 10x); peak memory {quarter['peak_rss_mb']:.0f} MB at {args.rows // 4:,} rows vs "
                  f"{ours['peak_rss_mb']:.0f} MB at {args.rows:,} rows\n")
        cohort = cohort_aggregate(tmp, args.cohort_rows)
        print(f"Cohort aggregate (mean systolic BP by condition and year) over {cohort['rows']:,} observations: "
              f"median {cohort['median_ms']:.0f} ms, best {cohort['min_ms']:.0f} ms, {cohort['groups']} groups "
              f"(goal < 200 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
