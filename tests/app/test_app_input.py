"""Programs that read their input: the learner types into the line under the output while
the program runs. Real containers."""

from __future__ import annotations

import pytest
from textual import events

from runner import Limits, Verdict
from tui_sandbox.app.app import SandboxApp
from tui_sandbox.app.widgets.output import OutputView

from .pilot import SIZE, banner, output, wait_until


async def test_typing_answers_input_and_the_typed_line_shows_apart(sandbox):
    app = SandboxApp(sandbox=sandbox)
    async with app.run_test(size=SIZE) as pilot:
        app.editor.load('name = input("Your name? ")\nprint("Hello,", name)\n')
        box = app.main_screen.output_box
        assert box.stdin_line.disabled and box.stdin_row.display      # there, closed, between runs
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "Your name?" in output(app))
        await wait_until(pilot, lambda: "WAITING FOR INPUT" in banner(app))
        # It reads: the input line opens and takes the focus.
        assert app.focused is box.stdin_line and not box.stdin_line.disabled
        assert box.border_subtitle == "waiting for input"
        await pilot.press(*"Ada", "enter")
        await wait_until(pilot, lambda: not app.runs.running)
        assert app.runs.last_result.verdict is Verdict.OK, banner(app)
        assert output(app) == "Your name? Ada\nHello, Ada"
        view = app.query_one(OutputView)
        prompt_line = view.lines[0]
        assert prompt_line.parts == [("stdout", "Your name? "), ("stdin", "Ada")]
        strip = view.render_line(0)
        styles = {segment.text: segment.style for segment in strip if segment.text.strip()}
        assert styles["Ada"] != styles["Your name? "]        # the typed text stands apart
        assert styles["Ada"].bold
        # The run is over: the line closes and the editor has the focus again.
        assert box.stdin_line.disabled and app.focused is app.editor


async def test_a_run_that_reads_nothing_leaves_the_focus_in_the_editor(sandbox):
    app = SandboxApp(sandbox=sandbox)
    async with app.run_test(size=SIZE) as pilot:
        app.editor.load("import time\ntime.sleep(1)\nprint('done')\n")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "RUNNING" in banner(app))
        await pilot.pause(0.6)        # two samples of the init: not reading
        assert app.focused is app.editor and app.main_screen.output_box.stdin_line.disabled
        await wait_until(pilot, lambda: not app.runs.running)
        assert output(app) == "done" and app.focused is app.editor


async def test_keys_typed_before_the_program_reads_are_its_input(sandbox):
    # Typed ahead, as at a terminal: straight after ctrl+r, before the init has seen the
    # program read. They go to the program, not into the editor.
    app = SandboxApp(sandbox=sandbox)
    async with app.run_test(size=SIZE) as pilot:
        source = "import time\ntime.sleep(0.5)\nprint('got', input())\n"
        app.editor.load(source)
        await pilot.press("ctrl+r")
        # All at once, as a terminal delivers a fast typist's keys: the first opens the
        # input line, the rest arrive at the editor before the focus has moved.
        for key in [*"ahead", "enter"]:
            app.editor.post_message(events.Key(key, key if len(key) == 1 else None))
        await pilot.pause()
        assert app.focused is app.main_screen.output_box.stdin_line
        await wait_until(pilot, lambda: not app.runs.running)
        assert app.runs.last_result.verdict is Verdict.OK, banner(app)
        assert app.editor.text == source
        assert output(app).splitlines() == ["ahead", "got ahead"]


async def test_ctrl_d_is_end_of_file(sandbox):
    app = SandboxApp(sandbox=sandbox)
    async with app.run_test(size=SIZE) as pilot:
        app.editor.load("import sys\nlines = sys.stdin.read().splitlines()\nprint('got', lines)\n")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "WAITING FOR INPUT" in banner(app))
        await pilot.press(*"one", "enter", *"two")
        await pilot.press("ctrl+d")               # what is on the line goes, then end of file
        await wait_until(pilot, lambda: not app.runs.running)
        assert app.runs.last_result.verdict is Verdict.OK, banner(app)
        assert "got ['one', 'two']" in output(app)
        assert "end of input" in output(app)


@pytest.mark.parametrize("language, source, answer, expected", [
    ("javascript", 'const rl = require("readline").createInterface({input: process.stdin, output: process.stdout});\n'
                   'rl.question("Number? ", (n) => { console.log(Number(n) * 2); rl.close(); });\n', "21", "42"),
    ("bash", 'printf "Word? "\nread word\necho "you said $word"\n', "hi", "you said hi"),
    ("c", '#include <stdio.h>\nint main(void) { int n; printf("n? "); fflush(stdout);\n'
          '  if (scanf("%d", &n) == 1) printf("%d\\n", n * n); return 0; }\n', "12", "144"),
])
async def test_readline_read_and_scanf_get_what_is_typed(sandbox, language, source, answer, expected):
    app = SandboxApp(sandbox=sandbox, language=language)
    async with app.run_test(size=SIZE) as pilot:
        app.editor.load(source)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "?" in output(app), 40)
        await pilot.press(*answer, "enter")
        # Each ends by itself once answered, Node's readline after rl.close() too (as at a
        # terminal, though its input is an open pipe): no ctrl+d, and well before its timeout.
        await wait_until(pilot, lambda: not app.runs.running, 40)
        assert app.runs.last_result.duration_s < 5
        assert app.runs.last_result.verdict is Verdict.OK, banner(app) + output(app)
        assert expected in output(app).splitlines()


async def test_waiting_for_input_still_times_out(sandbox):
    app = SandboxApp(sandbox=sandbox, limits=Limits(timeout=2))
    async with app.run_test(size=SIZE) as pilot:
        app.editor.load("input()\n")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "WAITING FOR INPUT" in banner(app))
        await wait_until(pilot, lambda: not app.runs.running)
        assert banner(app).startswith(" TIMEOUT ")


async def test_an_unfinished_line_continues_after_the_other_streams_lines():
    app = SandboxApp(sandbox=None)
    async with app.run_test(size=SIZE):
        view = app.query_one(OutputView)
        view.write("stdout", "before")
        view.write("stderr", "Traceback (most recent call last):\n")
        view.write("stdout", "\n")
        view.write("stdout", "after\n")
        assert [(line.stream, line.text) for line in view.lines] == [
            ("stdout", "before"), ("stderr", "Traceback (most recent call last):"), ("stdout", "after")]


async def test_a_prepared_input_is_read_then_end_of_file(sandbox, tmp_path):
    app = SandboxApp(sandbox=sandbox)
    async with app.run_test(size=SIZE) as pilot:
        app.editor.load("import sys\ndata = sys.stdin.read().split()\nprint(len(data), 'words, last', data[-1])\n")
        await pilot.press("f8")
        await pilot.pause()
        box = app.screen.query_one("#prepared-text")
        box.load_text("one two\nthree four five")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert len(app.screen_stack) == 1
        assert "prepared, 2 lines" in str(app.query_one("#input-state").content)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: not app.runs.running)
        assert output(app) == "5 words, last five"
        # Nothing to type: the input is given, and the line never opened.
        assert app.main_screen.output_box.stdin_line.disabled and app.focused is app.editor
        # From a file, read at each run.
        data = tmp_path / "numbers.txt"
        data.write_text("\n".join(str(n) for n in range(1000)) + "\n")
        await pilot.press("f8")
        await pilot.pause()
        app.screen.query_one("#prepared-file").value = str(data)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "file numbers.txt" in str(app.query_one("#input-state").content)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: not app.runs.running)
        assert output(app) == "1000 words, last 999"
        # Back to typing as it runs.
        await pilot.press("f8")
        await pilot.pause()
        await pilot.click("#prepared-live")
        await pilot.pause()
        assert app.main_screen.next_run.prepared is None
        assert "typed as it runs" in str(app.query_one("#input-state").content)


async def test_a_prepared_input_can_carry_the_expected_output_and_each_run_says_if_it_passed(sandbox):
    app = SandboxApp(sandbox=sandbox)
    async with app.run_test(size=SIZE) as pilot:
        app.editor.load("a, b = map(int, input().split())\nprint(a + b)\nprint('done')\n")
        await pilot.press("f8")
        await pilot.pause()
        app.screen.query_one("#prepared-text").load_text("2 3")
        app.screen.query_one("#prepared-expected").load_text("5\ndone\n")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "prepared, 1 line, output checked" in str(app.query_one("#input-state").content)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: not app.runs.running)
        assert app.runs.last_result.passed is True
        assert "PASSED: the output is as expected" in banner(app)
        # A wrong answer: the run is still OK, and the banner names the first different line.
        app.editor.load("a, b = map(int, input().split())\nprint(a * b)\nprint('done')\n")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: not app.runs.running)
        result = app.runs.last_result
        assert (result.verdict, result.passed) == (Verdict.OK, False)
        assert f"FAILED: {result.first_difference}" in banner(app) and "line 1" in result.first_difference
        # Kept in the history with the result.
        record = app.runs.history.store().get(app.runs.history.recorded[-1])
        assert record.result().passed is False


async def test_what_was_typed_is_kept_and_comes_back_with_the_run(sandbox):
    from tui_sandbox.app.screens.history import HistoryScreen
    from tui_sandbox.history.store import History

    app = SandboxApp(sandbox=sandbox)
    async with app.run_test(size=SIZE) as pilot:
        app.editor.load('a = input("a? ")\nb = input("b? ")\nprint(int(a) + int(b))\n')
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "a?" in output(app))
        await pilot.press(*"2", "enter")
        await wait_until(pilot, lambda: "b?" in output(app))
        await pilot.press(*"40", "enter")
        await wait_until(pilot, lambda: not app.runs.running)
        assert output(app).endswith("42")
        store = History()
        assert store.list()[0].stdin == "2\n40\n"
        store.close()

        app.editor.load("print('something else')\n")
        await pilot.press("f7")
        await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen) and app.screen.records)
        assert "input: 2 ⏎ 40" in str(app.screen.about.content)
        await pilot.press("enter", "enter")          # to the list, and reopen the run
        await wait_until(pilot, lambda: len(app.screen_stack) == 1)
        assert "input(" in app.editor.text
        assert app.main_screen.next_run.prepared is not None and app.main_screen.next_run.prepared.text == "2\n40\n"
        assert "prepared, 2 lines" in str(app.query_one("#input-state").content)
        # ctrl+r now runs it again as it ran, with no typing.
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: not app.runs.running)
        assert app.runs.last_result.output == "a? b? 42\n"
