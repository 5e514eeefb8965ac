"""Command line: ``python -m devtools.synthetic --out DIR --patients N --years Y --seed S``.

``--long-rows`` / ``--synthea-rows`` write the benchmark files instead of a cohort.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from devtools.synthetic.exports import SPREADSHEET_VARIANTS
from devtools.synthetic.generate import SAMPLE, generate_cohort
from devtools.synthetic.writers import VERSIONS, write_long_file, write_synthea_observations


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m devtools.synthetic", description=__doc__)
    ap.add_argument("--out", type=Path, required=True, help="output folder")
    ap.add_argument("--patients", type=int, default=200)
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--wide-rows", type=int, default=500, help="rows in admissions_wide.csv")
    ap.add_argument("--synthea-version", choices=VERSIONS, default="current",
                    help="'old' writes Synthea <= 2.7 layouts (no CATEGORY, SYSTEM, MIDDLE/FIPS/INCOME)")
    ap.add_argument("--no-extra-files", action="store_true",
                    help="only patients, encounters, conditions, observations and the wide file (no "
                         "medications/allergies/procedures/immunizations or snapshot.csv)")
    ap.add_argument("--spreadsheet", action="append", choices=SPREADSHEET_VARIANTS, default=[],
                    help="also write admissions_wide and snapshot as Excel saves them (repeatable)")
    ap.add_argument("--sample", action="store_true", help="write the committed sample's parameters (ignores the above)")
    ap.add_argument("--long-rows", type=int, help="write OUT/long.csv with this many rows, nothing else")
    ap.add_argument("--synthea-rows", type=int, help="write OUT/observations.csv with this many rows, nothing else")
    args = ap.parse_args(argv)
    if args.long_rows is not None or args.synthea_rows is not None:
        if args.long_rows is not None:
            write_long_file(args.out / "long.csv", args.long_rows, args.seed)
        if args.synthea_rows is not None:
            write_synthea_observations(args.out / "observations.csv", args.synthea_rows, args.seed)
        return 0
    if args.sample:
        result = generate_cohort(args.out, **SAMPLE)
    else:
        result = generate_cohort(args.out, patients=args.patients, years=args.years, seed=args.seed,
                                 wide_rows=args.wide_rows, synthea_version=args.synthea_version,
                                 extra_files=not args.no_extra_files, spreadsheet_variants=args.spreadsheet)
    json.dump({k: v for k, v in result.items() if k != "implausible_rows"}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
