"""Application settings: a small JSON file that survives corruption.

Only keys that differ from the defaults are written, so a new version's
better default reaches users who never touched that setting.  A file that
cannot be read or parsed is set aside as ``settings.json.corrupt`` and the
defaults are used; a value of the wrong type falls back to its default.
Writes go to a temporary file that replaces the old one, so a crash or a full
disk never leaves half a file.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "font_size": 11,  # points; 10–20 for older eyes
    "idle_lock_minutes": 10,  # 0 = never lock
    "last_username": "",
    "database_url": "",  # empty = the default SQLite file
    "receipt_layout": "A4",
    "window_geometry": "",
    "backup_dir": "",  # empty = "backups" beside the database
    "last_folder": "",  # where the last file dialog was used; empty = Documents
}

LIMITS: dict[str, tuple[int, int]] = {"font_size": (9, 22), "idle_lock_minutes": (0, 240)}


class Settings:
    def __init__(self, path: Path):
        self.path = path
        self._values: dict[str, Any] = {}
        self.recovered_from_corruption = False
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("settings is not an object")
        except (OSError, ValueError) as e:
            log.warning("settings file unreadable, using defaults: %s", e)
            self.recovered_from_corruption = True
            try:
                os.replace(self.path, self.path.with_name(self.path.name + ".corrupt"))
            except OSError:
                pass
            return
        for key, value in data.items():
            if key in DEFAULTS and self._valid(key, value):
                self._values[key] = value

    @staticmethod
    def _valid(key: str, value: Any) -> bool:
        default = DEFAULTS[key]
        if type(value) is not type(default):
            return False
        if key in LIMITS:
            lo, hi = LIMITS[key]
            return lo <= value <= hi
        return True

    def get(self, key: str) -> Any:
        return self._values.get(key, DEFAULTS[key])

    def __getitem__(self, key: str) -> Any:
        return self.get(key)

    def set(self, key: str, value: Any) -> None:
        if key not in DEFAULTS:
            raise KeyError(key)
        if not self._valid(key, value):
            raise ValueError(f"bad value for {key}: {value!r}")
        if value == DEFAULTS[key]:
            self._values.pop(key, None)
        else:
            self._values[key] = value
        self.save()

    def changed(self) -> dict[str, Any]:
        return dict(self._values)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self._values, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, self.path)
