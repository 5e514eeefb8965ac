"""Vitalsight: an offline clinical data desktop app."""

__version__ = "0.1.0"
