"""Every app test keeps to its own settings and history: never the user's own. The engine
is real: without Docker the sandbox fixture raises and the tests fail, never skip."""

from __future__ import annotations

import pytest

from runner import Sandbox


@pytest.fixture(autouse=True)
def private_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))     # settings, languages
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))         # the run history


@pytest.fixture(scope="module")
def sandbox():
    """One engine per test module, closed (its spares and containers removed) after it."""
    sandbox = Sandbox()
    yield sandbox
    sandbox.close()
