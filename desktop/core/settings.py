"""The app's settings as one typed, versioned model; the window persists it (with QSettings).

Kept free of Qt so the fields, defaults and migrations are testable without a display.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

SETTINGS_VERSION = 1
MAX_RECENT = 8
# The auto-lock cannot be switched off: an unattended window is the case it exists for.
MIN_AUTO_LOCK_MINUTES, MAX_AUTO_LOCK_MINUTES = 1, 240


@dataclass
class AppSettings:
    version: int = SETTINGS_VERSION
    geometry: str = ""  # the window's saveGeometry(), base64
    window_state: str = ""  # docks and toolbars, base64
    last_workspace: str = ""
    recent_workspaces: list[str] = field(default_factory=list)
    temperature_unit: str = "C"  # "C" or "F"
    weight_unit: str = "kg"  # "kg" or "lb"
    # The chat's settings dialog (desktop.core.chat.session.ChatSettings); 0 means "the default", so a
    # workspace moved to a machine with more cores gets that machine's thread count.
    chat_threads: int = 0
    chat_ctx: int = 0
    chat_temperature: float = -1.0  # below 0: the default
    chat_top_p: float = 0.0  # 0: the default
    chat_max_tokens: int = 0
    # Lock the window after this many minutes without keyboard or mouse input (issue 12: default 10).
    auto_lock_minutes: int = 10
    assistant_collapsed: int = 0  # 1: the assistant dock is folded to a strip (small screens)
    chat_use_adapter: bool = True  # the project's LoRA adapter over the default model (Models... switch)

    def add_recent(self, path: str) -> None:
        self.recent_workspaces = [path, *[p for p in self.recent_workspaces if p != path]][:MAX_RECENT]
        self.last_workspace = path

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @staticmethod
    def from_dict(data: dict[str, object]) -> AppSettings:
        """Unknown keys are dropped and wrong types fall back to defaults: a damaged settings file
        must never stop the app from opening."""
        data = migrate_settings(dict(data))
        out = AppSettings()
        for f in fields(AppSettings):
            if f.name not in data:
                continue
            value = data[f.name]
            default = getattr(out, f.name)
            if isinstance(default, bool):  # before int: bool is an int; QSettings may hand back "true"/"false"
                if isinstance(value, bool):
                    setattr(out, f.name, value)
                elif isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
                    setattr(out, f.name, value.lower() in ("true", "1"))
                elif isinstance(value, int):
                    setattr(out, f.name, bool(value))
            elif isinstance(default, list):
                if isinstance(value, str):
                    value = [value] if value else []
                if isinstance(value, (list, tuple)):
                    setattr(out, f.name, [str(v) for v in value if v])
            elif isinstance(default, float):
                try:
                    setattr(out, f.name, float(value))  # type: ignore[arg-type]
                except (TypeError, ValueError):
                    pass
            elif isinstance(default, int):
                if isinstance(value, (int, float, str)):
                    try:
                        setattr(out, f.name, int(value))
                    except ValueError:
                        pass
            elif isinstance(value, str):
                setattr(out, f.name, value)
        if out.temperature_unit not in ("C", "F"):
            out.temperature_unit = "C"
        if out.weight_unit not in ("kg", "lb"):
            out.weight_unit = "kg"
        if not MIN_AUTO_LOCK_MINUTES <= out.auto_lock_minutes <= MAX_AUTO_LOCK_MINUTES:
            out.auto_lock_minutes = AppSettings.auto_lock_minutes
        return out


def migrate_settings(data: dict[str, object]) -> dict[str, object]:
    """Bring an older settings dict up to SETTINGS_VERSION (version 0: no version key)."""
    raw = data.get("version", 0) or 0
    version = int(raw) if isinstance(raw, (int, float, str)) else 0
    if version < 1:
        # version 0 kept one "workspace" key; it became last_workspace.
        if "workspace" in data and "last_workspace" not in data:
            data["last_workspace"] = data.pop("workspace")
        data["version"] = 1
    return data
