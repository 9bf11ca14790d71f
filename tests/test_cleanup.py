"""No container outlives its run: normal ends, timeouts, cancellation, errors, and a
tui-sandbox process killed with SIGKILL mid-run."""

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from runner import ImageMissing, Language, Started, Verdict, reap_stale_containers

from .conftest import containers_owned_by, our_containers

CLI = [sys.executable, "-m", "tui_sandbox"]


def test_cancel_from_another_thread_kills_and_removes(sandbox):
    run = sandbox.start("import time\nprint('up', flush=True)\ntime.sleep(60)", "python")
    seen = []
    for event in run.events():
        seen.append(event)
        if isinstance(event, Started):
            threading.Timer(0.5, run.cancel).start()
    result = seen[-1].result
    assert result.verdict is Verdict.CANCELLED
    assert result.duration_s < 5
    assert our_containers(sandbox) == []


def test_abandoning_the_event_stream_removes_the_container(sandbox):
    run = sandbox.start("import time\nwhile True:\n    print('tick', flush=True)\n    time.sleep(0.05)", "python")
    events = run.events()
    for event in events:
        if type(event).__name__ == "Output":
            break
    events.close()   # the caller stopped reading: an exception or a closed app
    assert our_containers(sandbox) == []


def test_missing_image_is_a_message_and_leaves_nothing(sandbox):
    ghost = Language("ghost", image="tui-sandbox-ghost:0", file="main.py", run=("python3", "{file}"))
    with pytest.raises(ImageMissing) as caught:
        sandbox.run("print(1)", ghost)
    assert "not built" in caught.value.message and "images build" in caught.value.fix
    assert our_containers(sandbox) == []


def test_asyncio_stream_and_cancel_by_task(sandbox):
    import asyncio

    async def main():
        events = []
        async for event in sandbox.stream("print('a')", "python"):
            events.append(event)
        assert events[-1].result.output == "a\n"

        async def long_run():
            async for _ in sandbox.stream("import time; time.sleep(60)", "python"):
                pass

        task = asyncio.create_task(long_run())
        await asyncio.sleep(1.0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert our_containers(sandbox) == []


def test_sigkilled_cli_container_dies_by_its_deadline_and_is_reaped(sandbox, tmp_path):
    program = tmp_path / "sleepy.py"
    program.write_text("import time\nprint('started', flush=True)\ntime.sleep(120)\n")
    cli = subprocess.Popen([*CLI, "run", str(program), "--timeout", "3"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, cwd=Path(__file__).parent.parent)
    assert cli.stdout.readline() == b"started\n"
    launched = time.monotonic()
    assert len(containers_owned_by(sandbox, cli.pid)) == 1
    cli.send_signal(signal.SIGKILL)
    cli.wait()
    # The init inside enforces the 3 s deadline though nobody outside is watching.
    while time.monotonic() - launched < 15:
        states = [c["State"] for c in containers_owned_by(sandbox, cli.pid)]
        if states and all(state == "exited" for state in states):
            break
        time.sleep(0.25)
    left = containers_owned_by(sandbox, cli.pid)
    assert [c["State"] for c in left] == ["exited"]
    assert time.monotonic() - launched < 8
    # The next start of tui-sandbox removes what the dead process left.
    removed = reap_stale_containers(sandbox.api)
    assert left[0]["Id"] in removed
    assert containers_owned_by(sandbox, cli.pid) == []


def test_reaper_leaves_live_owners_alone(sandbox):
    run = sandbox.start("import time; time.sleep(30)", "python")
    events = run.events()
    started = next(events)   # the container is up
    assert started.container_id not in reap_stale_containers(sandbox.api)
    assert [c["Id"] for c in our_containers(sandbox)] == [started.container_id]
    run.cancel()
    for _ in events:
        pass
    assert our_containers(sandbox) == []


def test_cancel_at_any_moment_before_start_still_ends_the_run(sandbox):
    # Cancel lands while the container is being created and attached, before it starts.
    for delay in (0.0, 0.005, 0.01, 0.02, 0.04):
        run = sandbox.start("import time; time.sleep(60)", "python")
        threading.Timer(delay, run.cancel).start()
        began = time.monotonic()
        result = [e for e in run.events()][-1].result
        assert result.verdict is Verdict.CANCELLED, (delay, result.kill_reason)
        assert time.monotonic() - began < 5
    assert our_containers(sandbox) == []
