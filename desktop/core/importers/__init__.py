"""CSV importers: Synthea exports, wide admission files, long files, and mapped layouts."""

from desktop.core.importers.detect import detect_format
from desktop.core.importers.errors import ImportCancelled, ImportFailed
from desktop.core.importers.mapping import ColumnMapping, MeasurementColumn, save_mapping
from desktop.core.importers.pipeline import import_paths, plan
from desktop.core.importers.report import FileReport, ImportReport
from desktop.core.importers.workflow import ImportPlan, plan_import, run_import, run_plan

__all__ = [
    "ColumnMapping", "FileReport", "ImportCancelled", "ImportFailed", "ImportPlan", "ImportReport", "MeasurementColumn",
    "detect_format", "import_paths", "plan", "plan_import", "run_import", "run_plan", "save_mapping",
]
