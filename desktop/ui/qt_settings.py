"""AppSettings persisted with QSettings. Tests point QSettings at a temp folder (see tests/ui/conftest.py)."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from desktop.core.settings import AppSettings

ORGANIZATION, APPLICATION = "Vitalsight", "Vitalsight"


def qsettings() -> QSettings:
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


def load_settings() -> AppSettings:
    s = qsettings()
    data: dict[str, object] = {key: s.value(key) for key in s.allKeys()}
    return AppSettings.from_dict(data)


def save_settings(settings: AppSettings) -> None:
    s = qsettings()
    for key, value in settings.to_dict().items():
        s.setValue(key, value)
    s.sync()
