"""Where the app keeps its data, settings and logs.

Normally the per-user folders from platformdirs (``%LOCALAPPDATA%`` on
Windows, ``~/.local/share`` on Linux).  In portable mode — a file named
``portable.txt`` beside the program, e.g. on a USB stick — everything lives
in a ``data`` folder beside the program instead.  ``STATION_DESK_HOME``
overrides both (tests, multiple stations on one PC).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

APP_DIR_NAME = "StationDesk"
PORTABLE_MARKER = "portable.txt"


def program_dir() -> Path:
    if getattr(sys, "frozen", False):  # PyInstaller bundle
        return Path(sys.executable).resolve().parent
    return Path(__file__).resolve().parent.parent


def resources_dir() -> Path:
    """The shipped ``resources`` folder (data files, icons, style sheet)."""
    if getattr(sys, "frozen", False):
        return Path(getattr(sys, "_MEIPASS", program_dir())) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


@dataclass(frozen=True)
class AppPaths:
    data: Path
    config: Path
    logs: Path
    portable: bool

    @property
    def default_db(self) -> Path:
        return self.data / "station.sqlite3"

    @property
    def settings_file(self) -> Path:
        return self.config / "settings.json"

    @property
    def log_file(self) -> Path:
        return self.logs / "station-desk.log"


def app_paths() -> AppPaths:
    home = os.environ.get("STATION_DESK_HOME")
    if home:
        base = Path(home).expanduser().resolve()
        return AppPaths(base / "data", base / "config", base / "logs", portable=False)
    prog = program_dir()
    if (prog / PORTABLE_MARKER).exists():
        base = prog / "data"
        return AppPaths(base, base / "config", base / "logs", portable=True)
    import platformdirs

    return AppPaths(
        Path(platformdirs.user_data_dir(APP_DIR_NAME, appauthor=False)),
        Path(platformdirs.user_config_dir(APP_DIR_NAME, appauthor=False)),
        Path(platformdirs.user_log_dir(APP_DIR_NAME, appauthor=False)),
        portable=False,
    )
