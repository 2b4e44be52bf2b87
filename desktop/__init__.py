"""社区一站通 (Station Desk): the application."""

from pathlib import Path

APP_NAME = "社区一站通"
APP_NAME_EN = "Station Desk"
__version__ = "0.1.0"


def _machine_keys_dir() -> Path:
    """Where this account's machine secret for the station files lives (db.keys):
    the app's config folder, so portable mode keeps it beside the program."""
    from desktop.paths import app_paths

    return app_paths().config / "keys"


def _register() -> None:
    from db import keys

    keys.use_machine_dir(_machine_keys_dir)


_register()
