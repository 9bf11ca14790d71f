"""The app's own themes, kept as TOML data in the tui_sandbox.themes package (themes/
in the source tree). Each file holds textual.theme.Theme fields; [variables] is optional."""

from __future__ import annotations

import tomllib
from dataclasses import fields
from importlib import resources

from textual.theme import Theme

DEFAULT_THEME = "sandbox-dark"
_THEME_FIELDS = {f.name for f in fields(Theme)}


def load_themes() -> list[Theme]:
    themes = []
    package = resources.files("tui_sandbox.themes")
    for entry in sorted(package.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        data = tomllib.loads(entry.read_text(encoding="utf-8"))
        themes.append(Theme(**{k: v for k, v in data.items() if k in _THEME_FIELDS}))
    return themes
