"""The run controller against a scripted engine: warming, late messages, stats floods
and who closes the engine. No Docker here: these are about the app's side of a run;
test_app.py drives the same paths against real containers."""

from __future__ import annotations

import threading

from runner import EngineInfo, Finished, Limits, Output, RunResult, Started, Stats, Verdict
from tui_sandbox.app.app import SandboxApp
from tui_sandbox.app.run_controller import RunController
from tui_sandbox.app.warming import WARM_DELAY_S
from tui_sandbox.app.widgets.output import OutputView
from tui_sandbox.app.widgets.stats import MemoryHistory

from .pilot import SIZE, wait_until

MiB = 1 << 20


class ScriptedRun:
    def __init__(self, limits: Limits, gate: threading.Event) -> None:
        self.limits, self.gate = limits, gate

    def events(self):
        yield Started("0123456789ab", "python", self.limits.runtime, self.limits)
        yield Output("stdout", "hello\n")
        self.gate.wait(10)
        yield Finished(RunResult(
            verdict=Verdict.OK, exit_code=0, signal=None, kill_reason="Finished normally", output="hello\n",
            error="", duration_s=0.1, peak_memory_bytes=MiB, truncated=False, language="python",
            runtime=self.limits.runtime, limits=self.limits))

    def cancel(self) -> None:
        self.gate.set()

    def send_input(self, data) -> None:
        pass

    def close_input(self) -> None:
        pass


class ScriptedEngine:
    info = EngineInfo(product="Docker", name="Docker (scripted)", cpus=4, memory_bytes=1 << 30,
                      min_memory_bytes=6 * MiB, runtimes={"runc": []})

    def __init__(self) -> None:
        self.warmed: list[tuple[str, Limits]] = []
        self.closed = False
        self.gate = threading.Event()

    def start(self, source, language, limits, stdin=None, *, interactive=False):
        return ScriptedRun(limits, self.gate)

    def warm(self, language, limits) -> None:
        self.warmed.append((language.name, limits))

    def close(self) -> None:
        self.closed = True


async def settle(pilot) -> None:
    await pilot.pause(WARM_DELAY_S * 2)


async def test_an_engine_the_app_made_is_warmed_for_the_next_run_and_closed():
    engine = ScriptedEngine()
    app = SandboxApp()
    app.runs = RunController(make_engine=lambda: engine)
    # What the picker holds once the engine answers: the runtime a run that names none
    # gets there (this engine's only one).
    shown = Limits(runtime="runc")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: engine.warmed)
        await settle(pilot)
        assert engine.warmed == [("python", shown)]        # once, for the settings on screen
        app.query_one("#limit-network").value = True
        app.query_one("#limit-read-only").value = False
        await settle(pilot)                                    # one request for the two changes
        assert engine.warmed[1:] == [("python", shown.with_(network=True, read_only=False))]
        app.query_one("#limit-memory").value = "1m"            # below the engine's minimum
        await settle(pilot)
        assert len(engine.warmed) == 2
        app.query_one("#limit-memory").value = "64m"
        app.query_one("#language").value = "javascript"
        await settle(pilot)
        assert engine.warmed[2:] == [("javascript", shown.with_(memory=64 * MiB, network=True, read_only=False))]

        app.query_one("#editor").load("console.log('hello')\n")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "hello" in app.query_one(OutputView).plain_text)
        await pilot.press("f2")                                # never while a run is going
        await settle(pilot)
        assert len(engine.warmed) == 3
        engine.gate.set()
        await wait_until(pilot, lambda: not app.runs.running)
        await settle(pilot)                                    # and again once it has ended
        assert engine.warmed[3:] == [("javascript", shown.with_(memory=64 * MiB, read_only=False))]
        assert app.runs.last_result.limits == shown.with_(memory=64 * MiB, network=True, read_only=False)
    for thread in threading.enumerate():
        if thread.name == "tui-sandbox-close":
            thread.join(10)
    assert engine.closed


async def test_an_injected_engine_is_neither_warmed_nor_closed():
    engine = ScriptedEngine()
    engine.gate.set()
    app = SandboxApp(sandbox=engine)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        app.query_one("#editor").load("print('hello')\n")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: not app.runs.running)
        await settle(pilot)
        assert app.runs.last_result.verdict is Verdict.OK
    assert engine.warmed == [] and not engine.closed


async def test_late_messages_of_an_old_run_are_dropped_and_stats_coalesce():
    app = SandboxApp(sandbox=ScriptedEngine())
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        limits = Limits()
        old = app.runs.begin(limits)
        app.show_run_starting(limits)
        new = app.runs.begin(limits)
        app.runs.post_event(old, Output("stdout", "from the old run\n"))
        app.runs.post_event(new, Output("stdout", "from the new run\n"))
        for i in range(1, 51):
            app.runs.post_event(new, Stats(i / 10, 10.0, i * MiB, 2))
        await pilot.pause()
        await pilot.pause()
        assert app.query_one(OutputView).plain_text == "from the new run"
        history = app.query_one(MemoryHistory)
        assert 1 <= len(history.points) < 50 and history.points[-1] == 50 * MiB
        assert "50M/128M" in str(app.query_one("#stat-memory").content)
