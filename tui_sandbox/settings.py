"""The user's remembered choices in settings.toml beside the engine's languages.toml:
the theme, whether runs are recorded in the history, which toggle F6 compares. A broken
file is ignored, never fatal: it is only preferences."""

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


def setting(key: str, default, kind: type):
    """One remembered choice, or the default when it is missing or of the wrong kind."""
    value = load_settings().get(key, default)
    return value if isinstance(value, kind) else default


def save_setting(key: str, value: str | bool) -> None:
    settings = {k: v for k, v in load_settings().items() if isinstance(v, (str, bool))}
    settings[key] = value
    path = settings_path()
    # A JSON string is a valid TOML basic string for the plain names stored here, and
    # JSON's true and false are TOML's.
    text = "".join(f"{k} = {json.dumps(v)}\n" for k, v in sorted(settings.items()))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # an unwritable config dir only means the choice is not remembered
