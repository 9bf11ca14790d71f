"""Snapshots of the app's screens. Everything that varies between runs (container ids,
timings, live figures) is kept out: the TIMEOUT run is a fixed RunResult fed through
the same event-to-message path the run worker uses, while test_app.py covers real runs.
The engine is real (its runtimes decide whether the runtime picker shows), so these
need Docker too. Update with: pytest tests/test_app_snapshots.py --snapshot-update"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from runner import Finished, Limits, Output, RunResult, Sandbox, Started, Stats, Verdict
from tui_sandbox.app import SandboxApp

EXPERIMENTS = Path(__file__).resolve().parents[2] / "tui_sandbox" / "experiments"
SIZE = (100, 30)


@pytest.fixture(autouse=True)
def private_config(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)     # the file label shows a short relative name


@pytest.fixture(scope="module")
def sandbox():
    sandbox = Sandbox()
    yield sandbox
    sandbox.close()


def app_with(name: str, sandbox: Sandbox, **kwargs) -> SandboxApp:
    shutil.copy(EXPERIMENTS / name, Path.cwd() / name)
    return SandboxApp(file=name, sandbox=sandbox, **kwargs)


async def settle(pilot) -> None:
    app = pilot.app
    app.query_one("#editor").cursor_blink = False
    await app.workers.wait_for_complete()      # the engine connection: the runtime row shows
    await pilot.pause()


def test_main_screen(snap_compare, sandbox):
    assert snap_compare(app_with("hello.py", sandbox), terminal_size=SIZE, run_before=settle)


def test_main_screen_80x24(snap_compare, sandbox):
    assert snap_compare(app_with("hello.py", sandbox), terminal_size=(80, 24), run_before=settle)


TIMEOUT_LIMITS = Limits(timeout=2.0)
TIMEOUT_RESULT = RunResult(
    verdict=Verdict.TIMEOUT, exit_code=None, signal="SIGKILL",
    kill_reason="Timed out after 2 s and was killed",
    output="still spinning after 1 s (4,282,756 turns)\n", error="", duration_s=2.0,
    peak_memory_bytes=4_089_446, truncated=False, language="python", runtime="runc",
    limits=TIMEOUT_LIMITS, cpu_seconds=1.0)


async def finished_timeout(pilot) -> None:
    await settle(pilot)
    app = pilot.app
    app.show_run_starting(TIMEOUT_LIMITS)
    run_id = app.runs.begin(TIMEOUT_LIMITS)          # what runs.start does before its worker
    events = [Started("0123456789abcdef", "python", "runc", TIMEOUT_LIMITS),
              Stats(0.25, None, 3_500_000, 1),
              Output("stdout", "still spinning after 1 s (4,282,756 turns)\n"),
              Stats(1.0, 49.7, 3_900_000, 1), Stats(1.5, 50.1, 4_000_000, 1),
              Output("stderr", "a line on stderr, in the error colour\n"),
              Finished(TIMEOUT_RESULT)]
    for event in events:
        app.runs.post_event(run_id, event)       # the worker's path for each engine event
    await pilot.pause()
    await pilot.pause()


def test_finished_timeout_run(snap_compare, sandbox):
    assert snap_compare(app_with("infinite_loop.py", sandbox), terminal_size=SIZE,
                        run_before=finished_timeout)


def test_experiments_picker(snap_compare, sandbox):
    assert snap_compare(app_with("hello.py", sandbox), terminal_size=SIZE, press=["f4", "down", "down"],
                        run_before=settle)
