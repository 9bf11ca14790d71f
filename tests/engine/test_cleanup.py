"""No container outlives its run: normal ends, timeouts, cancellation, errors, and a
tui-sandbox process killed with SIGKILL mid-run."""

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from runner import ImageMissing, Language, Started, Verdict
from runner.docker.cleanup import reap_stale_containers
from runner.runtimes import runtime as traits_of

from ..conftest import containers_owned_by, our_containers
from .runtimes import RUNTIMES

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


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_sigkilled_cli_container_dies_by_its_deadline_and_goes(sandbox, tmp_path, runtime):
    program = tmp_path / "sleepy.py"
    program.write_text("import time\nprint('started', flush=True)\ntime.sleep(120)\n")
    cli = subprocess.Popen([*CLI, "run", str(program), "--timeout", "3", "--runtime", runtime],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=Path(__file__).resolve().parents[2])
    assert cli.stdout.readline() == b"started\n"
    launched = time.monotonic()
    assert [c["State"] for c in containers_owned_by(sandbox, cli.pid)] == ["running"]
    cli.send_signal(signal.SIGKILL)
    cli.wait()
    # The init inside enforces the 3 s deadline though nobody outside is watching.
    while time.monotonic() - launched < 15:
        if all(c["State"] == "exited" for c in containers_owned_by(sandbox, cli.pid)):
            break
        time.sleep(0.1)
    assert time.monotonic() - launched < 8
    left = containers_owned_by(sandbox, cli.pid)
    if traits_of(runtime).guest_sees_cgroup:
        # Docker removes it by itself (auto-remove): the init's report needed no inspection.
        # The removal follows the exit by a moment, so the exited container may still be
        # listed just after the loop above saw it exit.
        removed_by = time.monotonic() + 5
        while left and time.monotonic() < removed_by:
            time.sleep(0.1)
            left = containers_owned_by(sandbox, cli.pid)
        assert left == []
    else:
        # Under gVisor the result needs Docker's inspection, so the container stays until
        # a tui-sandbox process starts, whose reaper removes what the dead one left (in a
        # busy test run, another process's reaper may have been first).
        assert [c["State"] for c in left] in ([], ["exited"])
        reap_stale_containers(sandbox.backend.api)
        assert containers_owned_by(sandbox, cli.pid) == []


def test_reaper_leaves_live_owners_alone(sandbox):
    run = sandbox.start("import time; time.sleep(30)", "python")
    events = run.events()
    started = next(events)   # the container is up
    assert started.container_id not in reap_stale_containers(sandbox.backend.api)
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
