"""CSV importers: Synthea exports, wide admission files, long files, and mapped layouts."""

from desktop.core.importers.detect import detect_format
from desktop.core.importers.errors import ImportCancelled, ImportFailed
from desktop.core.importers.mapping import ColumnMapping, MeasurementColumn, save_mapping
from desktop.core.importers.pipeline import FileReport, ImportReport, import_paths, plan

__all__ = [
    "ColumnMapping", "FileReport", "ImportCancelled", "ImportFailed", "ImportReport", "MeasurementColumn",
    "detect_format", "import_paths", "plan", "save_mapping",
]
