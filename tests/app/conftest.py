"""Every app test keeps to its own settings and history: never the user's own."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def private_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))     # settings, languages
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))         # the run history
