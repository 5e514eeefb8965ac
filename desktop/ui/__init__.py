"""The clinician's window (PySide6 + pyqtgraph). Widgets only: data and queries live in desktop.core."""
