"""What the app draws per run, counted: the figures, the output, the banner and the key
bar each redraw only what changed, at the rate a person reads it, in place where it fits
(issue 16: a class of thirty on one host pays every redraw thirty times)."""

from __future__ import annotations

import asyncio
from collections import Counter

from textual.app import App, ComposeResult

from runner import Limits, RunResult, Stats, Verdict
from tui_sandbox.app.widgets import stats as stats_module
from tui_sandbox.app.widgets.output import OutputView
from tui_sandbox.app.widgets.stats import StatsPanel
from tui_sandbox.app.widgets.verdict import VerdictBanner

SIZE = (100, 30)


def count_refreshes(widget, counter: Counter, name: str) -> None:
    """Count this widget's refreshes, and those that ask for a layout pass."""
    refresh = widget.refresh

    def counted(*regions, repaint=True, layout=False, recompose=False):
        counter[name] += 1
        if layout:
            counter[f"{name} layout"] += 1
        return refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    widget.refresh = counted


class PanelApp(App):
    CSS_PATH = "../../tui_sandbox/app/app.tcss"

    def compose(self) -> ComposeResult:
        yield StatsPanel(id="stats")


def sample(elapsed: float, memory: int = 8 << 20, cpu: float = 12.5) -> Stats:
    return Stats(elapsed_s=elapsed, cpu_percent=cpu, memory_bytes=memory, pids=3)


async def test_a_sample_that_changes_nothing_on_screen_redraws_nothing():
    app = PanelApp()
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(StatsPanel)
        panel.start(Limits())
        panel.update_stats(sample(0.21))
        await pilot.pause(stats_module.MIN_REDRAW_S + 0.1)
        counter: Counter = Counter()
        for which, label in panel.figures.items():
            count_refreshes(label, counter, which)
        panel.update_stats(sample(0.24))             # the same figures, to a tenth of a second
        await pilot.pause(stats_module.MIN_REDRAW_S + 0.1)
        assert counter == Counter()


async def test_a_burst_of_samples_is_drawn_at_reading_rate_in_place_and_the_newest_wins():
    app = PanelApp()
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(StatsPanel)
        panel.start(Limits())
        counter: Counter = Counter()
        for which, label in panel.figures.items():
            count_refreshes(label, counter, which)
        for i in range(10):                         # ten samples within a tenth of a second
            panel.update_stats(sample(0.1 + 0.01 * i, memory=(i + 1) << 20))
            await asyncio.sleep(0.01)
        await pilot.pause(stats_module.MIN_REDRAW_S + 0.2)
        assert counter["time"] == 2                 # the first at once, the newest when its time came
        assert not any(name.endswith("layout") for name in counter)
        assert "0.2/" in str(panel.figures["time"].content)       # the newest sample's 0.19 s
        assert len(panel.history.points) == 10      # the memory history keeps every sample


class BannerApp(App):
    CSS_PATH = "../../tui_sandbox/app/app.tcss"

    def compose(self) -> ComposeResult:
        yield VerdictBanner(id="verdict")
        yield OutputView(id="output")


def ok_result(limits: Limits) -> RunResult:
    return RunResult(verdict=Verdict.OK, exit_code=0, signal=None, duration_s=0.05, output="hi\n", error="",
                     truncated=False, peak_memory_bytes=3 << 20, cpu_seconds=0.01, limits=limits,
                     language="python", runtime="runc", kill_reason="The program ended by itself with exit code 0.")


async def test_a_run_changes_the_banner_in_place_and_the_same_words_are_not_drawn_again():
    app = BannerApp()
    async with app.run_test(size=SIZE) as pilot:
        banner = app.query_one(VerdictBanner)
        limits = Limits()
        banner.result(ok_result(limits))           # a run has ended before: the banner has its rows
        await pilot.pause()
        counter: Counter = Counter()
        count_refreshes(banner, counter, "banner")
        banner.running(limits)
        await pilot.pause()
        drawn = counter["banner"]
        banner.running(limits)                      # the Started event: the same words
        await pilot.pause()
        assert counter["banner"] == drawn
        banner.result(ok_result(limits))
        await pilot.pause()
        assert counter["banner"] > drawn and counter["banner layout"] == 0     # in place, both times


async def test_output_is_appended_with_no_layout_pass_until_the_scrollbar_appears():
    app = BannerApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(OutputView)
        counter: Counter = Counter()
        count_refreshes(view, counter, "output")
        view.write("stdout", "one line\n")
        view.write("stdout", "and another\n")
        await pilot.pause()
        assert counter["output"] >= 1 and counter["output layout"] == 0
        view.write("stdout", "many\n" * 200)        # now it scrolls: the scrollbar takes a column
        await pilot.pause()
        assert view.show_vertical_scrollbar and counter["output layout"] >= 1
        assert view.is_vertical_scroll_end


async def test_a_run_lays_nothing_out_repaints_no_whole_screen_and_moves_no_focus(sandbox):
    # A run that reads no input: the input line stays where it is, closed; the banner keeps
    # its rows; nothing takes the focus. (A run that reads: test_app_input.py.)
    from tui_sandbox.app.app import SandboxApp

    from .pilot import banner, wait_until

    app = SandboxApp(sandbox=sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.runs._engine_ready)
        app.editor.load("print(6 * 7)\n")
        await pilot.press("ctrl+r")              # the first: the banner grows from READY's row
        await wait_until(pilot, lambda: not app.runs.running)
        await pilot.pause()
        screen = app.screen
        counter: Counter = Counter()
        count_refreshes(screen, counter, "screen")
        layout = screen._refresh_layout

        def laid_out(*args, **kwargs):
            counter["layout passes"] += 1
            return layout(*args, **kwargs)

        screen._refresh_layout = laid_out
        focused = []
        watch = screen._watch_focused

        def seen() -> None:
            focused.append(screen.focused)
            watch()

        screen._watch_focused = seen
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: not app.runs.running)
        await pilot.pause()
        assert banner(app).startswith(" OK ") and app.runs.last_result.output == "42\n"
        assert counter["screen"] == 0           # what changed repainted itself, not the screen
        assert counter["layout passes"] == 0
        assert focused == [] and app.focused is app.editor
