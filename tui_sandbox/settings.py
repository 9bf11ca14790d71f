"""Settings, as two typed objects read in one place:

- `Settings`: the user's remembered choices in settings.toml beside the engine's
  languages.toml (the theme, whether runs are recorded in the history, which toggle F6
  compares). Loaded once, changed with `with_`, written by `save`. A broken file, or a
  value of the wrong kind, gives the default: it is only preferences, never fatal.
- `Environment`: the `TUI_SANDBOX_*` variables that tell a process where it stands (a
  class's server, its token, the student, their folder, the class code). The README's
  "Environment variables" table lists them. Only TUI_SANDBOX_SECCOMP is read by the
  engine itself (runner/docker/seccomp.py), which never imports this package.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Mapping

from runner.paths import config_dir

BOTH_WAYS_TOGGLES = ("network", "read_only")


def settings_path() -> Path:
    return config_dir() / "settings.toml"


@dataclass(frozen=True)
class Settings:
    theme: str | None = None          # None: the app's default theme
    history: bool = True              # record the app's runs in the history
    both_ways: str = "network"        # what F6 compares: network or read_only

    @classmethod
    def load(cls, path: Path | None = None) -> "Settings":
        import tomllib  # here: `tui-sandbox run` reads no settings file

        try:
            data = tomllib.loads((path or settings_path()).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            data = {}
        defaults = cls()
        values = {}
        for f in fields(cls):
            value = data.get(f.name)
            kind = bool if f.name == "history" else str
            values[f.name] = value if isinstance(value, kind) else getattr(defaults, f.name)
        if values["both_ways"] not in BOTH_WAYS_TOGGLES:
            values["both_ways"] = defaults.both_ways
        return cls(**values)

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)

    def update(self, **changes) -> "Settings":
        """These choices changed, and written: the settings as they now are."""
        changed = self.with_(**changes)
        changed.save()
        return changed

    def save(self, path: Path | None = None) -> None:
        """Write every choice; an unwritable config folder only means it is not remembered."""
        path = path or settings_path()
        # A JSON string is a valid TOML basic string for the plain names stored here, and
        # JSON's true and false are TOML's. TOML has no null: an unset choice is left out.
        text = "".join(f"{key} = {json.dumps(value)}\n" for key, value in sorted(asdict(self).items())
                       if value is not None)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
        except OSError:
            pass


@dataclass(frozen=True)
class Environment:
    server: str | None = None        # TUI_SANDBOX_SERVER: a `tui-sandbox serve` to run everything on
    token: str | None = None         # TUI_SANDBOX_TOKEN: that server's bearer token
    user: str | None = None          # TUI_SANDBOX_USER: whose app this is (a class's student)
    files_dir: str | None = None     # TUI_SANDBOX_FILES_DIR: the only folder files open from and save to
    class_code: str | None = None    # TUI_SANDBOX_CLASS_CODE: what students type to join a class
    cursor_blink: str | None = None  # TUI_SANDBOX_CURSOR_BLINK: "off" for a steady cursor

    NAMES = {"server": "TUI_SANDBOX_SERVER", "token": "TUI_SANDBOX_TOKEN", "user": "TUI_SANDBOX_USER",
             "files_dir": "TUI_SANDBOX_FILES_DIR", "class_code": "TUI_SANDBOX_CLASS_CODE",
             "cursor_blink": "TUI_SANDBOX_CURSOR_BLINK"}

    @property
    def blinks(self) -> bool:
        """Whether the text cursor blinks (it does unless told "off", "0", "no" or "false")."""
        return (self.cursor_blink or "").strip().lower() not in ("off", "0", "no", "false")

    @classmethod
    def read(cls, environ: Mapping[str, str] | None = None) -> "Environment":
        """The variables as they are now (an empty one counts as unset)."""
        environ = os.environ if environ is None else environ
        return cls(**{name: environ.get(variable) or None for name, variable in cls.NAMES.items()})

    def to_env(self) -> dict[str, str]:
        """The variables that are set, for a child process's environment."""
        return {self.NAMES[name]: value for name, value in asdict(self).items() if value is not None}


def environment() -> Environment:
    return Environment.read()
