"""The user's remembered choices (the theme, for now) in settings.toml beside the
engine's languages.toml. A broken file is ignored, never fatal: it is only preferences."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from runner.languages import config_dir


def settings_path() -> Path:
    return config_dir() / "settings.toml"


def load_settings() -> dict:
    try:
        return tomllib.loads(settings_path().read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def save_setting(key: str, value: str) -> None:
    settings = {k: v for k, v in load_settings().items() if isinstance(v, str)}
    settings[key] = value
    path = settings_path()
    # A JSON string is a valid TOML basic string for the plain names stored here.
    text = "".join(f"{k} = {json.dumps(v)}\n" for k, v in sorted(settings.items()))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # an unwritable config dir only means the choice is not remembered
