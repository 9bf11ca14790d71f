"""The teacher's view of a cluster: every worker by name, with its running/cap, and up
or gone, in GET /class, in `tui-sandbox class --once` and in the live view; through a
real front with two workers."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys

from .conftest import ROOT, run, wait_for


def workers_of(client) -> dict[str, dict]:
    return {w["name"]: w for w in client.get("/class").json()["workers"]}


def test_the_teacher_sees_every_worker_up_or_gone(cluster):
    cluster.worker("w1", 2)
    doomed = cluster.worker("w2", 3)
    _front, client = cluster.front()
    wait_for(lambda: set(workers_of(client)) == {"w1", "w2"}, 10, "both workers in GET /class")
    seen = workers_of(client)
    assert (seen["w1"]["cap"], seen["w1"]["up"], seen["w2"]["cap"], seen["w2"]["up"]) == (2, True, 3, True)
    assert run(client, "print('x')").json()["verdict"] == "ok"

    once = subprocess.run([sys.executable, "-m", "tui_sandbox", "class", "--once", "--server",
                           str(client.base_url).rstrip("/")], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert once.returncode == 0, once.stderr
    # Each worker's running is its last heartbeat's (the front's own probes run too): any count.
    assert re.search(r"^workers: w1 [0-2]/2 running, w2 [0-3]/3 running$", once.stdout, re.M), once.stdout

    doomed.stop(signal.SIGKILL)
    wait_for(lambda: not workers_of(client)["w2"]["up"], 15, "w2 seen gone")
    assert workers_of(client)["w1"]["up"]

    from tui_sandbox.teacher.app import ClassApp

    async def live() -> str:
        app = ClassApp(str(client.base_url).rstrip("/"))
        async with app.run_test(size=(120, 30)) as pilot:
            await wait_until(pilot, lambda: "Workers" in str(app.summary.render()))
            return str(app.summary.render())

    summary = asyncio.run(live())
    assert re.search(r"w1 [0-2]/2 running, w2 gone", summary), summary


async def wait_until(pilot, check, timeout: float = 10) -> None:
    for _ in range(int(timeout / 0.1)):
        if check():
            return
        await pilot.pause(0.1)
    raise AssertionError("the live view did not show it")

