import json

from desktop.settings import DEFAULTS, Settings


def test_defaults_and_only_changed_keys_are_saved(tmp_path):
    p = tmp_path / "settings.json"
    s = Settings(p)
    assert s["font_size"] == DEFAULTS["font_size"]
    s.set("font_size", 16)
    s.set("idle_lock_minutes", DEFAULTS["idle_lock_minutes"])
    assert json.loads(p.read_text(encoding="utf-8")) == {"font_size": 16}
    assert Settings(p)["font_size"] == 16


def test_corrupt_file_falls_back_to_defaults_and_is_kept_aside(tmp_path):
    p = tmp_path / "settings.json"
    p.write_bytes(b"\x00{not json")
    s = Settings(p)
    assert s.recovered_from_corruption
    assert s["idle_lock_minutes"] == DEFAULTS["idle_lock_minutes"]
    assert (tmp_path / "settings.json.corrupt").exists()
    s.set("font_size", 14)
    assert Settings(p)["font_size"] == 14


def test_bad_values_fall_back_per_key(tmp_path):
    p = tmp_path / "settings.json"
    p.write_text(json.dumps({"font_size": 400, "idle_lock_minutes": "ten", "last_username": "zhang", "x": 1}))
    s = Settings(p)
    assert s["font_size"] == DEFAULTS["font_size"]
    assert s["idle_lock_minutes"] == DEFAULTS["idle_lock_minutes"]
    assert s["last_username"] == "zhang"


def test_portable_mode_keeps_data_beside_the_program(tmp_path, monkeypatch):
    from desktop import paths

    monkeypatch.delenv("STATION_DESK_HOME", raising=False)
    monkeypatch.setattr(paths, "program_dir", lambda: tmp_path)
    assert not paths.app_paths().portable
    (tmp_path / paths.PORTABLE_MARKER).write_text("")
    p = paths.app_paths()
    assert p.portable and p.default_db == tmp_path / "data" / "station.sqlite3"
    assert p.settings_file.parent == tmp_path / "data" / "config"
