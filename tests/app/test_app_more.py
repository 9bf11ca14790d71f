"""Both ways (F6), the history (F7), opening a file (ctrl+o): through the app's keys,
against real containers. The network experiment never leaves this machine: it lists
the container's interfaces and talks to a server of its own."""

from __future__ import annotations

from pathlib import Path

from runner import Verdict
from tui_sandbox.app.app import SandboxApp
from tui_sandbox.app.screens.both_ways import BothWaysScreen
from tui_sandbox.app.screens.history import HistoryScreen
from tui_sandbox.history.store import History
from tui_sandbox.settings import Settings

from .pilot import SIZE, banner, output, wait_until


def history() -> History:
    return History()        # the default place: XDG_DATA_HOME is the test's own


def experiment(app: SandboxApp, file: str):
    return next(e for e in app.experiments if e.file == file)


async def test_f6_runs_the_network_experiment_both_ways_and_states_the_difference(sandbox):
    app = SandboxApp(sandbox=sandbox)
    async with app.run_test(size=SIZE) as pilot:
        app.main_screen.load_experiment(experiment(app, "network.py"))
        await pilot.press("f6")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, BothWaysScreen)
        await wait_until(pilot, lambda: not app.runs.running)
        await pilot.pause()
        (_, off, _), (_, on, _) = app.main_screen.both_ways.sides[0], app.main_screen.both_ways.sides[1]
        assert not off.limits.network and on.limits.network
        assert "NETWORK: OFF" in off.output and "NETWORK: ON" in on.output
        bodies = [str(body.content) for body in screen.bodies]
        assert "NETWORK: OFF" in bodies[0] and "NETWORK: ON" in bodies[1]
        line = str(screen.difference.content)
        # From the real outputs: the first line that differs, with the network on and off.
        assert line.startswith("Difference: With the network on: “interfaces: lo, eth0”")
        assert "with the network off: “interfaces: lo”" in line
        assert "BOTH WAYS" in banner(app)
        # Both were ordinary runs, recorded in the history.
        recorded = history().list()
        assert len(recorded) == 2 and {r.limits["network"] for r in recorded} == {True, False}
        # t compares the other toggle, and it is remembered.
        await pilot.press("t")
        await wait_until(pilot, lambda: not app.runs.running)
        await pilot.pause()
        assert screen.toggle == "read_only" and Settings.load().both_ways == "read_only"
        assert "READ-ONLY ROOT" in str(screen.heads[1].content)
        # The network experiment does not care about the root filesystem: the runs agree.
        assert str(screen.difference.content).startswith("Difference: No difference: both end OK, with the "
                                                         "same output")
        await pilot.press("escape")
        await pilot.pause()
        assert len(app.screen_stack) == 1
    assert SandboxApp().settings.both_ways == "read_only"


async def test_f6_says_when_the_verdict_changes(sandbox):
    app = SandboxApp(sandbox=sandbox)
    async with app.run_test(size=SIZE) as pilot:
        app.main_screen.both_ways.toggle = "read_only"
        app.editor.load("open('/home/sandbox/x', 'w').write('x')\nprint('wrote it')\n")
        await pilot.press("f6")
        await wait_until(pilot, lambda: not app.runs.running)
        await pilot.pause()
        line = str(app.screen.difference.content)
        assert line.startswith("Difference: With a read-only root filesystem it ends ERROR (exit 1): OSError: "
                               "[Errno 30] Read-only file system"), line
        assert line.endswith("with a writable root filesystem, OK; with a read-only root filesystem the sandbox "
                             "blocked filesystem openat"), line


async def test_every_run_is_recorded_and_reopens_from_the_history(sandbox):
    app = SandboxApp(sandbox=sandbox)
    async with app.run_test(size=SIZE) as pilot:
        app.main_screen.load_experiment(experiment(app, "memory_bomb.py"))
        app.main_screen.limits_panel.inputs["memory"].value = "64m"
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: not app.runs.running)
        app.main_screen.load_experiment(experiment(app, "hello.py"))
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: not app.runs.running)
        records = history().list()
        assert [r.verdict for r in records] == ["ok", "oom"]          # newest first
        store = history().path
        assert store.parent.stat().st_mode & 0o077 == 0 and store.stat().st_mode & 0o077 == 0   # private
        oom = records[1]
        assert oom.origin == "app" and oom.language == "python" and "hoard" in oom.source
        assert oom.limits["memory_bytes"] == 64 << 20 and oom.peak_memory_bytes and oom.duration_s
        assert "holding 8 MiB" in oom.output and oom.kill_reason.startswith("Out of memory")

        app.main_screen.limits_panel.inputs["memory"].value = "128m"
        await pilot.press("f7")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        await wait_until(pilot, lambda: len(screen.records) == 2)
        await pilot.press(*"oom")                        # a verdict's name filters by verdict
        await wait_until(pilot, lambda: [r.verdict for r in screen.records] == ["oom"])
        await pilot.press("enter")                       # to the list
        await pilot.press("enter")                       # reopen it
        await pilot.pause()
        assert len(app.screen_stack) == 1
        assert "hoard" in app.editor.text and app.main_screen.program.language.name == "python"
        assert banner(app).startswith(" OOM ") and "holding 8 MiB" in output(app)
        assert app.main_screen.limits_panel.inputs["memory"].value == "64m"       # its limits, for the next run
        assert "reopened from the history" in output(app)

        await pilot.press("f7")
        await pilot.pause()
        await pilot.press(*"Hello from")                 # words search the output too
        await wait_until(pilot, lambda: [r.verdict for r in app.screen.records] == ["ok"])
        await pilot.press("escape")


async def test_with_the_history_off_nothing_is_recorded(sandbox):
    app = SandboxApp(sandbox=sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f7")
        await pilot.pause()
        app.screen.query_one("#history-record").value = False      # the switch on the history screen
        await pilot.pause()
        await pilot.press("escape")
        assert app.runs.history.recording is False and Settings.load().history is False
        app.editor.load("print('not kept')\n")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: not app.runs.running)
        assert app.runs.last_result.verdict is Verdict.OK
    assert history().list() == []
    assert SandboxApp().runs.history.recording is False                  # remembered


async def test_ctrl_o_opens_a_file_with_its_language(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "progs").mkdir()
    (tmp_path / "progs" / "greet.js").write_text("console.log('hi')\n")
    (tmp_path / ".hidden.py").write_text("x = 1\n")
    app = SandboxApp(sandbox=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+o")
        await pilot.pause()
        tree = app.screen.query_one("#open-tree")
        await wait_until(pilot, lambda: tree.root.children, 10)
        assert [node.label.plain for node in tree.root.children] == ["progs"]      # no hidden files
        await pilot.press("down", "enter")               # open the folder
        await wait_until(pilot, lambda: tree.root.children[0].children, 10)
        await pilot.press("down", "enter")               # its file
        await pilot.pause()
        assert len(app.screen_stack) == 1
        assert app.editor.text == "console.log('hi')\n" and app.main_screen.program.language.name == "javascript"
        program = app.main_screen.program
        assert program.path == Path("progs/greet.js") and "progs/greet.js" in str(program.label.content)
        # Typing a path works too; unsaved changes are asked about first.
        app.editor.insert("// changed\n")
        (tmp_path / "other.py").write_text("print(2)\n")
        await pilot.press("ctrl+o")
        await pilot.pause()
        app.screen.query_one("#open-path").value = "../other.py"     # from the folder shown
        app.screen.query_one("#open-path").focus()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert app.editor.text == "print(2)\n" and app.main_screen.program.language.name == "python"
