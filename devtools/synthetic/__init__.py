"""Synthetic patient data for Vitalsight: a realistic cohort, a wide admissions file, and bulk files.

Standard library only (the core runtime has no numpy). Entry points:

- :func:`generate_cohort` writes a Synthea-layout folder and a wide admissions CSV for a seed;
- :func:`write_long_file` and :func:`write_synthea_observations` write N rows fast, for benchmarks;
- ``python -m devtools.synthetic --out DIR --patients N --years Y --seed S`` does the first from a shell.
"""

from __future__ import annotations

from devtools.synthetic.generate import ARCHETYPES, SAMPLE, generate_cohort
from devtools.synthetic.writers import HEADERS, write_long_file, write_synthea_observations

__all__ = ["ARCHETYPES", "HEADERS", "SAMPLE", "generate_cohort", "write_long_file", "write_synthea_observations"]
