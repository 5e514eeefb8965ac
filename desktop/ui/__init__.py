"""Widgets and views only: they get their model in the constructor and own no data."""
