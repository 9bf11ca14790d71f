"""The app driven through its keys against real containers. Docker must be running:
without it these tests fail (the sandbox fixture raises), they never skip."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from textual.widgets import Input, Select, Static

from runner import Limits, Sandbox, Verdict
from runner.docker.cleanup import LABEL, OWNER_LABEL, owner_label
from tui_sandbox.app.app import SandboxApp
from tui_sandbox.app.widgets.output import OutputView

from .pilot import EXPERIMENTS, SIZE, banner, output, palette, wait_until


def experiment(tmp_path: Path, name: str) -> str:
    target = tmp_path / name
    shutil.copy(EXPERIMENTS / name, target)
    return str(target)


def our_containers(sandbox: Sandbox) -> list[dict]:
    containers = sandbox.backend.api.containers(all=True, filters={"label": LABEL})
    return [c for c in containers if c.get("Labels", {}).get(OWNER_LABEL) == owner_label()]


async def run_to_end(pilot, app: SandboxApp, timeout: float = 60) -> None:
    await pilot.press("ctrl+r")
    await wait_until(pilot, lambda: not app.runs.running, timeout)


async def test_hello_world_shows_output_and_ok(tmp_path, sandbox):
    app = SandboxApp(file=experiment(tmp_path, "hello.py"), sandbox=sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await run_to_end(pilot, app)
        assert banner(app).startswith(" OK "), banner(app)
        assert "Hello from inside the sandbox!" in output(app)
        assert app.runs.last_result.verdict is Verdict.OK


async def test_infinite_loop_times_out(tmp_path, sandbox):
    app = SandboxApp(file=experiment(tmp_path, "infinite_loop.py"), limits=Limits(timeout=2),
                     sandbox=sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await run_to_end(pilot, app)
        assert banner(app).startswith(" TIMEOUT ")
        assert "still spinning" in output(app)
        assert "2 s" in banner(app)          # the limits it ran under stay with the result


async def test_memory_bomb_is_oom(tmp_path, sandbox):
    app = SandboxApp(file=experiment(tmp_path, "memory_bomb.py"), limits=Limits(memory=64 << 20),
                     sandbox=sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await run_to_end(pilot, app)
        assert banner(app).startswith(" OOM ")
        assert "holding" in output(app)


async def test_f2_turns_the_network_on_for_the_next_run(sandbox):
    app = SandboxApp(sandbox=sandbox)
    async with app.run_test(size=SIZE) as pilot:
        network = next(e for e in app.experiments if e.file == "network.py")
        app.main_screen.load_experiment(network)
        await run_to_end(pilot, app)
        assert "NETWORK: OFF" in output(app)
        await pilot.press("f2")
        await run_to_end(pilot, app)
        assert "NETWORK: ON" in output(app)
        assert "net on" in banner(app)


async def test_f3_makes_the_root_filesystem_writable(sandbox):
    app = SandboxApp(sandbox=sandbox)
    async with app.run_test(size=SIZE) as pilot:
        app.main_screen.load_experiment(next(e for e in app.experiments if e.file == "write_files.py"))
        await run_to_end(pilot, app)
        assert "refused  /var/tmp/note.txt" in output(app)
        await pilot.press("f3")
        await run_to_end(pilot, app)
        assert "wrote    /var/tmp/note.txt" in output(app)


async def test_ctrl_k_kills_a_long_run_and_leaves_no_container(tmp_path, sandbox):
    app = SandboxApp(file=experiment(tmp_path, "infinite_loop.py"), limits=Limits(timeout=60),
                     sandbox=sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "still spinning" in output(app), 20)
        assert our_containers(sandbox), "the run should have a container while it runs"
        run_id = app.runs.run_id
        await pilot.press("ctrl+r")           # a second run while one runs: refused, harmless
        assert app.runs.run_id == run_id and app.runs.running
        await pilot.press("ctrl+k")
        await wait_until(pilot, lambda: not app.runs.running, 20)
        assert banner(app).startswith(" CANCELLED ")
    assert our_containers(sandbox) == []


async def test_quitting_mid_run_removes_the_container(tmp_path, sandbox):
    app = SandboxApp(file=experiment(tmp_path, "infinite_loop.py"), limits=Limits(timeout=60),
                     sandbox=sandbox)
    started = time.monotonic()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "still spinning" in output(app), 20)
        await pilot.press("ctrl+q")
    assert time.monotonic() - started < 30
    assert our_containers(sandbox) == []


async def test_a_bad_limit_shows_the_engines_message_and_does_not_run(sandbox):
    app = SandboxApp(sandbox=sandbox)
    async with app.run_test(size=SIZE) as pilot:
        app.main_screen.load_experiment(app.experiments[0])
        memory = app.query_one("#limit-memory", Input)
        memory.value = "1m"
        await pilot.pause()
        assert "below Docker's minimum" in str(app.query_one("#limit-problem").content)
        await pilot.press("ctrl+r")
        assert not app.runs.running and app.runs.run_id == 0


async def test_no_engine_is_a_message_with_the_fix(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    app = SandboxApp()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "CANNOT RUN" in banner(app), 20)
        assert "fix:" in banner(app)
        app.main_screen.load_experiment(app.experiments[0])
        await run_to_end(pilot, app)
        assert "CANNOT RUN" in banner(app)


async def test_bad_and_missing_files_lose_nothing(tmp_path):
    binary = tmp_path / "prog.py"
    binary.write_bytes(b"\x7fELF\x00\x01\x02")
    app = SandboxApp(file=str(binary))
    async with app.run_test(size=SIZE):
        assert app.main_screen.program.path is None                 # a save can never overwrite it
    assert binary.read_bytes() == b"\x7fELF\x00\x01\x02"
    missing = tmp_path / "new.js"
    app = SandboxApp(file=str(missing))
    async with app.run_test(size=SIZE):
        assert app.main_screen.program.path == missing and app.main_screen.program.language.name == "javascript"
        assert app.query_one("#editor").indent_width == 2


async def test_ctrl_s_asks_for_a_name_then_saves(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = SandboxApp()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#editor").insert("print('saved')\n")
        await pilot.pause()
        assert "modified" in str(app.query_one("#file-label").content)
        await pilot.press("ctrl+s")
        await pilot.pause()
        name = app.screen.query_one("#save-name", Input)
        name.value = "mine.py"
        await pilot.press("enter")
        await pilot.pause()
        assert (tmp_path / "mine.py").read_text() == "print('saved')\n"
        assert "modified" not in str(app.query_one("#file-label").content)


async def test_the_theme_choice_is_remembered(tmp_path):
    app = SandboxApp()
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "sandbox-dark"
        app.theme = "projector"
        await pilot.pause()
    assert SandboxApp().theme == "projector"


async def test_a_flood_of_output_is_capped_and_the_ui_keeps_up(sandbox):
    app = SandboxApp(sandbox=sandbox, limits=Limits(timeout=20))
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#editor").load("while True:\n    print('x' * 60)\n")
        await pilot.press("ctrl+r")
        started = time.monotonic()
        await wait_until(pilot, lambda: not app.runs.running, 30)
        assert time.monotonic() - started < 15
        assert banner(app).startswith(" OUTPUT LIMIT ")
        view = app.query_one(OutputView)
        assert len(view.lines) == view.lines.maxlen          # the widget's own cap held
        assert view.scroll_y == view.max_scroll_y             # and it followed the end
        assert "cut here" in output(app)


async def test_a_python_traceback_is_highlighted(sandbox):
    app = SandboxApp(sandbox=sandbox)
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#editor").load("print('before')\n1 / 0\n")
        await run_to_end(pilot, app)
        assert banner(app).startswith(" ERROR (exit 1) ")
        lines = list(app.query_one(OutputView).lines)
        # The engine batches each stream apart: stdout and stderr may come in either order.
        assert [line.rich for line in lines if line.stream == "stdout"] == [None]
        traceback = [line for line in lines if line.stream == "stderr"]
        assert traceback[0].text.startswith("Traceback") and traceback[-1].text.startswith("ZeroDivisionError")
        assert all(line.rich is not None and line.rich.spans for line in traceback)


async def test_the_runtime_picker_shows_the_default_this_engine_gives_and_the_run_uses_it(sandbox):
    if "crun" not in sandbox.info.runtimes:
        pytest.fail("this engine has no crun runtime: scripts/docker-engine.sh registers it")
    app = SandboxApp(sandbox=sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        picker = app.query_one("#limit-runtime", Select)
        assert picker.value == "crun"
        assert str(app.query_one("#limit-runtime #label", Static).content) == "crun (default)"
        app.main_screen.load_experiment(app.experiments[0])
        await run_to_end(pilot, app)
        assert banner(app).startswith(" OK ") and banner(app).rstrip().endswith("· crun")
        assert app.runs.last_result.runtime == "crun"
        # runc, chosen, is what runs.
        picker.value = "runc"
        await run_to_end(pilot, app)
        assert app.runs.last_result.runtime == "runc"


async def test_gvisor_runtime_is_offered_and_used(sandbox):
    if len([name for name in ("runc", "runsc") if name in sandbox.info.runtimes]) < 2:
        pytest.fail("this engine has no gVisor (runsc) runtime: the test machine should have it")
    app = SandboxApp(sandbox=sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        assert app.query_one("#runtime-row").display
        app.query_one("#limit-runtime").value = "runsc"
        app.main_screen.load_experiment(app.experiments[0])
        await run_to_end(pilot, app)
        assert banner(app).startswith(" OK ") and app.runs.last_result.runtime == "runsc"
        await pilot.press("f2")           # gVisor here is registered with --network=none
        await run_to_end(pilot, app)
        assert "CANNOT RUN" in banner(app) and "network" in banner(app)


async def test_quitting_with_unsaved_changes_asks_first():
    app = SandboxApp()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#editor").insert("print(1)\n")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.is_running and len(app.screen_stack) == 2
        await pilot.press("n")
        await pilot.pause()
        assert app.is_running and len(app.screen_stack) == 1
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert not app.is_running


async def test_experiments_are_in_the_command_palette():
    app = SandboxApp()
    async with app.run_test(size=SIZE) as pilot:
        await palette(pilot, "fork bomb")
        assert "os.fork()" in app.query_one("#editor").text


async def test_c_is_highlighted_compiles_and_runs(sandbox):
    app = SandboxApp(sandbox=sandbox, language="c")
    async with app.run_test(size=SIZE) as pilot:
        editor = app.query_one("#editor")
        assert app.main_screen.program.language.name == "c" and editor.language == "c" and editor.indent_width == 4
        editor.load('#include <stdio.h>\nint main(void) { puts("hi from C"); return 3; }\n')
        await run_to_end(pilot, app)
        assert "hi from C" in output(app)
        assert banner(app).startswith(" ERROR (exit 3) "), banner(app)
        app.query_one("#language").value = "javascript"
        await pilot.pause()
        assert editor.language == "javascript" and editor.indent_width == 2


async def test_ctrl_r_runs_in_the_warm_spare_made_for_the_current_settings(sandbox):
    app = SandboxApp()   # an engine of its own, which keeps a spare for the current settings
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.runs._engine_ready, 30)
        engine = app.runs.engine()
        kind = (app.main_screen.program.language, app.main_screen.limits_panel.limits())
        await wait_until(pilot, lambda: engine.backend.spares.ids(kind), 30)
        spare = engine.backend.spares.ids(kind)[0]
        # Under cgroup v1 a container's cgroup path names it: the program says where it ran.
        app.editor.load("print(open('/proc/self/cgroup').read())")
        await run_to_end(pilot, app, 30)
        assert banner(app).startswith(" OK ")
        assert spare in output(app)
    # The app's exit removes its spares, in a thread of their own: wait for it, bounded.
    deadline = time.monotonic() + 20
    while our_containers(sandbox) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert our_containers(sandbox) == []


async def test_the_key_bar_follows_the_run_and_is_repainted_only_when_it_changes(sandbox):
    from tui_sandbox.app.widgets.footer import KeyBar

    app = SandboxApp(sandbox=sandbox)
    async with app.run_test(size=SIZE) as pilot:
        bar = app.query_one(KeyBar)

        def keys() -> list[str]:
            return [key.description for key in bar.keys]

        await wait_until(pilot, lambda: "Run" in keys())
        repaints = bar.repaints
        for _ in range(5):                      # nothing the bar shows changes: no repaint
            app.refresh_bindings()
            app.set_focus(app.editor)
            await pilot.pause()
        assert bar.repaints == repaints
        assert not bar.children                 # one widget: a change of keys mounts nothing
        app.editor.load("import time\ntime.sleep(1.5)\n")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "Kill" in keys())
        assert "Run" not in keys()
        await wait_until(pilot, lambda: not app.runs.running)
        await wait_until(pilot, lambda: "Run" in keys() and "Kill" not in keys())
        assert not bar.children


async def test_a_click_on_the_key_bar_presses_its_key(sandbox):
    from tui_sandbox.app.widgets.footer import KeyBar

    app = SandboxApp(sandbox=sandbox)
    async with app.run_test(size=SIZE) as pilot:
        bar = app.query_one(KeyBar)
        await wait_until(pilot, lambda: any(key.action == "toggle_network" for key in bar.keys))
        start, _end = next(span for span, key in zip(bar._spans, bar.keys, strict=True)
                           if key.action == "toggle_network")
        network = app.query_one("#limit-network").value
        await pilot.click(KeyBar, offset=(start + 1, 0))
        await wait_until(pilot, lambda: app.query_one("#limit-network").value != network)


async def test_a_wall_shows_in_the_output_as_it_happens_and_the_banner_counts_it(tmp_path, sandbox):
    from ..engine.test_walls import FORKS

    program = tmp_path / "forks.py"
    program.write_text(FORKS.replace('print("refused"', 'time.sleep(1.5)\nprint("refused"'))
    app = SandboxApp(file=str(program), limits=Limits(pids=16), sandbox=sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+r")
        # Seen while it still runs (it sleeps 1.5 s after the refusals), not only at the end.
        await wait_until(pilot, lambda: "▌ process  fork  blocked (EAGAIN): the PID limit of 16" in output(app), 30)
        assert app.runs.running
        await wait_until(pilot, lambda: not app.runs.running, 30)
        refused = int(app.runs.last_result.output.split()[1])
        wall_lines = [line for line in output(app).splitlines() if line.startswith("▌ process")]
        assert len(wall_lines) == 1 and wall_lines[0].endswith(f"×{refused}"), output(app)
        assert "1 wall hit" in banner(app)
