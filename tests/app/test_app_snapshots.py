"""Snapshots of the app's screens. Everything that varies between runs (container ids,
timings, live figures) is kept out: the TIMEOUT run is a fixed RunResult fed through
the same event-to-message path the run worker uses, while test_app.py covers real runs.
The engine is real (its runtimes decide whether the runtime picker shows), so these
need Docker too. Update with: pytest tests/app/test_app_snapshots.py --snapshot-update"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from runner import Finished, Limits, Output, RunResult, Sandbox, Started, Stats, Verdict
from runner.walls import WALL_KINDS
from tui_sandbox.app.app import SandboxApp

from .pilot import EXPERIMENTS, SIZE


@pytest.fixture(autouse=True)
def private_config(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))       # the run history
    monkeypatch.chdir(tmp_path)     # the file label shows a short relative name


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


# The fixed runs ran as a run that names no runtime does on the test engine: under crun.
RAN_UNDER = "crun"
TIMEOUT_LIMITS = Limits(timeout=2.0, runtime=RAN_UNDER)
TIMEOUT_RESULT = RunResult(
    verdict=Verdict.TIMEOUT, exit_code=None, signal="SIGKILL",
    kill_reason="Timed out after 2 s and was killed",
    output="still spinning after 1 s (4,282,756 turns)\n", error="", duration_s=2.0,
    peak_memory_bytes=4_089_446, truncated=False, language="python", runtime=RAN_UNDER,
    limits=TIMEOUT_LIMITS, cpu_seconds=1.0, blocked=(), walls_watched=tuple(sorted(WALL_KINDS)))


async def finished_timeout(pilot) -> None:
    await settle(pilot)
    app = pilot.app
    app.show_run_starting(TIMEOUT_LIMITS)
    run_id = app.runs.begin(TIMEOUT_LIMITS)          # what runs.start does before its worker
    events = [Started("0123456789abcdef", "python", RAN_UNDER, TIMEOUT_LIMITS),
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


# --- the new screens, fed fixed results through the same messages the workers post ----------

NETWORK_LIMITS = Limits(network=True, runtime=RAN_UNDER)


def network_result(limits: Limits, output: str) -> RunResult:
    return RunResult(verdict=Verdict.OK, exit_code=0, signal=None, kill_reason="Finished normally", output=output,
                     error="", duration_s=0.07, peak_memory_bytes=5_000_000, truncated=False, language="python",
                     runtime=RAN_UNDER, limits=limits, cpu_seconds=0.05, blocked=(),
                     walls_watched=tuple(sorted(WALL_KINDS)))


OFF_OUTPUT = "interfaces: lo\ndefault route: none\nonly loopback: nothing can leave this container\nNETWORK: OFF\n"
ON_OUTPUT = ("interfaces: lo, eth0\ndefault route: yes\neth0 has address 172.17.0.2; a server there answered: "
             "hello\nNETWORK: ON\n")


async def both_ways(pilot) -> None:
    await settle(pilot)
    app = pilot.app
    app.main_screen.load_experiment(next(e for e in app.experiments if e.file == "network.py"))

    def start_pair(source, language, sides, *, stdin=None):
        run_id = app.runs.begin(sides[0])
        from tui_sandbox.app.messages import PairSide

        app.main_screen.post_message(PairSide(run_id, 0, sides[0], network_result(sides[0], OFF_OUTPUT), None))
        app.main_screen.post_message(PairSide(run_id, 1, sides[1], network_result(sides[1], ON_OUTPUT), None))
        return run_id

    app.runs.start_pair = start_pair
    await pilot.press("f6")
    await pilot.pause()
    await pilot.pause()


def test_both_ways_80x24(snap_compare, sandbox):
    assert snap_compare(app_with("hello.py", sandbox), terminal_size=(80, 24), run_before=both_ways)


async def waiting_for_input(pilot) -> None:
    await settle(pilot)
    app = pilot.app
    limits = Limits(runtime=RAN_UNDER)
    app.editor.load('name = input("Your name? ")\nprint("Hello,", name)\n')
    app.show_run_starting(limits, interactive=True)
    run_id = app.runs.begin(limits)
    for event in [Started("0123456789abcdef", "python", RAN_UNDER, limits), Output("stdout", "Your name? "),
                  Stats(0.5, 0.1, 3_500_000, 1, reading_input=True)]:
        app.runs.post_event(run_id, event)
    await pilot.pause()
    await pilot.press(*"Ada")
    await pilot.pause()


def test_waiting_for_input_80x24(snap_compare, sandbox):
    assert snap_compare(app_with("hello.py", sandbox), terminal_size=(80, 24), run_before=waiting_for_input)


async def long_lines_after_a_run(pilot) -> None:
    await settle(pilot)
    app = pilot.app
    app.show_run_starting(TIMEOUT_LIMITS)
    run_id = app.runs.begin(TIMEOUT_LIMITS)
    for event in [Started("0123456789abcdef", "python", RAN_UNDER, TIMEOUT_LIMITS),
                  Output("stdout", "still spinning after 1 s (4,282,756 turns)\n"), Finished(TIMEOUT_RESULT)]:
        app.runs.post_event(run_id, event)
    await pilot.pause()
    await pilot.pause()


def test_finished_run_with_long_lines_80x24(snap_compare, sandbox):
    # The experiment's first lines are wider than the editor: no scrollbar block under them.
    assert snap_compare(app_with("infinite_loop.py", sandbox), terminal_size=(80, 24),
                        run_before=long_lines_after_a_run)


async def history_list(pilot) -> None:
    from tui_sandbox.history.store import History, RunRecord

    store = History()
    for i, (file, result) in enumerate([("infinite_loop.py", TIMEOUT_RESULT),
                                        ("network.py", network_result(NETWORK_LIMITS, ON_OUTPUT))]):
        record = RunRecord.of_result(id=f"r{i}", user="learner", origin="app", source=(EXPERIMENTS / file).read_text(),
                                     result=result, queued_at=0, started_at=0)
        # Fixed times, so the picture does not change with the clock (shown in local time).
        store.add(RunRecord(**{**record.to_dict(), "finished_at": 1_780_000_000 + 60 * i}))
    store.close()
    await settle(pilot)
    await pilot.press("f7")
    await pilot.pause(0.5)
    await pilot.press("enter")           # from the search box to the list
    await pilot.pause()


@pytest.fixture
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_history_80x24(snap_compare, sandbox, utc):
    assert snap_compare(app_with("hello.py", sandbox), terminal_size=(80, 24), run_before=history_list)
