"""Where tui-sandbox keeps what it reads and writes, the platform's way: on Linux the XDG
directories ($XDG_CONFIG_HOME/tui-sandbox, $XDG_DATA_HOME/tui-sandbox, else ~/.config and
~/.local/share), from platformdirs (which Textual uses too) rather than worked out by hand
in each module that needs one."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_config_path, user_data_path

APP = "tui-sandbox"


def config_dir() -> Path:
    """languages.toml and settings.toml."""
    return user_config_path(APP, appauthor=False)


def data_dir() -> Path:
    """The history, its spool, the classroom's host key and students' folders."""
    return user_data_path(APP, appauthor=False)
