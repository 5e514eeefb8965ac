"""Benchmarks: run by make targets, never by the tests. Each prints ratios against a baseline run in the same process tree."""
