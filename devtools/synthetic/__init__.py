"""Synthetic patient data for Vitalsight: a realistic cohort, a wide admissions file, and bulk files.

Standard library only (the core runtime has no numpy). Entry points:

- :func:`generate_cohort` writes a Synthea-layout folder (observations as messy as a real export: surveys,
  QALY/DALY rows, deaths, pregnancies, findings; plus medications, allergies, procedures, immunizations), a
  wide admissions CSV, a Kaggle-style snapshot and spreadsheet variants, for a seed;
- :func:`write_long_file` and :func:`write_synthea_observations` write N rows fast, for benchmarks;
- ``python -m devtools.synthetic --out DIR --patients N --years Y --seed S`` does the first from a shell.
"""

from __future__ import annotations

from devtools.synthetic.exports import (
    SNAPSHOT_HEADER,
    SPREADSHEET_VARIANTS,
    write_snapshot,
    write_spreadsheet_variant,
)
from devtools.synthetic.generate import ARCHETYPES, EXTRA_SYNTHEA_FILES, SAMPLE, generate_cohort
from devtools.synthetic.writers import HEADERS, write_long_file, write_synthea_observations
from devtools.synthetic.writers_history import HISTORY_HEADERS

__all__ = [
    "ARCHETYPES", "EXTRA_SYNTHEA_FILES", "HEADERS", "HISTORY_HEADERS", "SAMPLE", "SNAPSHOT_HEADER",
    "SPREADSHEET_VARIANTS", "generate_cohort", "write_long_file", "write_snapshot", "write_spreadsheet_variant",
    "write_synthea_observations",
]
