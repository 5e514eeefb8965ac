"""The import dialog and its column-mapping page."""
