"""Developer tools outside the shipped app: the synthetic-cohort generator and demo workspaces.

Used by tests, the committed sample, benchmarks, previews and model_build's training data; the
installer never contains this package.
"""
