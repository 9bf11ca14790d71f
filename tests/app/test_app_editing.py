"""Editing and drawing details a learner meets first: indentation, the memory history."""

import pytest

from runner import resolve
from tui_sandbox.app.app import SandboxApp
from tui_sandbox.app.widgets.editor import CodeEditor
from tui_sandbox.app.widgets.stats import MemoryHistory


@pytest.mark.parametrize("language, keys, expected", [
    ("python", ["w", "h", "i", "l", "e", " ", "1", ":", "enter", "x"], "while 1:\n    x"),
    ("python", ["x", " ", "#", " ", "a", ":", "enter", "y"], "x # a:\ny"),          # a colon in a comment
    ("javascript", ["f", "(", ")", " ", "{", "enter", "x"], "f() {\n  x"),
    ("bash", ["i", "f", " ", "t", ";", " ", "t", "h", "e", "n", "enter", "x"], "if t; then\n  x"),
    ("c", ["{", "enter", "enter", "x"], "{\n    \n    x"),                           # the level is kept
])
async def test_enter_indents_for_the_language(language, keys, expected):
    app = SandboxApp(sandbox=None)
    async with app.run_test(size=(100, 30)) as pilot:
        editor = app.query_one(CodeEditor)
        editor.load("")
        editor.set_language(resolve(language))
        editor.focus()
        await pilot.press(*keys)
        assert editor.text == expected


async def test_memory_history_scales_against_the_limit():
    app = SandboxApp(sandbox=None)
    async with app.run_test(size=(100, 30)):
        history = app.query_one(MemoryHistory)
        history.reset(128 * 2**20)
        for value in (3 * 2**20, 64 * 2**20, 128 * 2**20):
            history.add(value)
        drawn = history.render()
        assert drawn.endswith("▁▄█")          # small, half, full: not min-to-max
        assert set(drawn[:-3]) == {" "}


async def test_long_output_lines_wrap_so_their_end_is_visible():
    from tui_sandbox.app.widgets.output import OutputView

    app = SandboxApp(sandbox=None)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(OutputView)
        width = view.scrollable_content_region.width
        view.write("stderr", "PermissionError: " + "x" * (2 * width) + " END\nshort\n")
        await pilot.pause()
        assert view.virtual_size.height == 4 and view.virtual_size.width == width   # 3 rows + 1
        rows = [view.render_line(y).text for y in range(4)]
        assert rows[0].startswith("PermissionError: ") and "END" in rows[2] and rows[3].startswith("short")
        assert view.plain_text.splitlines()[0].endswith(" END")                     # the text itself is whole


async def test_every_built_in_language_is_highlighted():
    from runner import BUILTIN

    app = SandboxApp(sandbox=None)
    async with app.run_test(size=(100, 30)) as pilot:
        editor = app.query_one(CodeEditor)
        for language in BUILTIN.values():
            editor.set_language(language)
            assert editor.language == language.highlight is not None, language.name
        editor.load('int main(void) { return "s"[0]; }')

        async def colours():
            await pilot.pause()
            return {segment.style.color for segment in editor.render_line(0) if segment.text.strip()}

        editor.language = None
        plain = await colours()        # the gutter and the cursor line have colours of their own
        editor.set_language(BUILTIN["c"])
        highlighted = await colours()
        assert len(highlighted - plain) >= 2, "C keywords and strings get colours plain text lacks"


async def test_cpu_reads_as_percent_of_a_core_against_the_limit():
    from runner import Limits, Stats
    from tui_sandbox.app.widgets.stats import StatsPanel

    app = SandboxApp(sandbox=None)
    async with app.run_test(size=(100, 30)):
        panel = app.query_one(StatsPanel)
        panel.start(Limits(cpus=0.5))
        panel.update_stats(Stats(elapsed_s=1.0, cpu_percent=49.7, memory_bytes=2**20, pids=2))
        assert str(panel.query_one("#stat-cpu").content) == "CPU    49.7% (limit 50%)"


@pytest.mark.parametrize("environ, blinks", [
    ({}, True),
    ({"TUI_SANDBOX_CURSOR_BLINK": "off"}, False),        # what serve gives a class's apps
    ({"TUI_SANDBOX_USER": "ada"}, True),                 # a name says whose app, not how it draws
])
async def test_the_cursor_blinks_unless_the_environment_says_off(monkeypatch, environ, blinks):
    for name in ("TUI_SANDBOX_CURSOR_BLINK", "TUI_SANDBOX_USER"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    app = SandboxApp(sandbox=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.query_one("#editor").cursor_blink is blinks
        assert app.query_one("#stdin").cursor_blink is blinks
