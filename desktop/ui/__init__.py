"""The clinician's window (PySide6 + pyqtgraph). Widgets and views only: they get their model in the
constructor and own no data; queries and computation live in desktop.core."""
