"""Plots: the vitals panel, its plot rows, and the cohort view."""
