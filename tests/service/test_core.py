"""The service's core on a real engine: the cap holds, the queue is fair and says each
run's place, refusals say why, cancelling and stopping leave no container, and every
run has its history row, however it ended."""

from __future__ import annotations

import asyncio
import time

import pytest

from runner import Finished, Language, Limits, Output, Queued, Started, Verdict
from tui_sandbox.history.store import History
from tui_sandbox.service.core import (
    Busy,
    CeilingExceeded,
    Ceilings,
    Failed,
    RateLimited,
    RunRequest,
    SandboxService,
)

from ..conftest import our_containers


@pytest.fixture
def history(tmp_path):
    store = History(tmp_path / "history.sqlite3")
    yield store
    store.close()


def serve(sandbox, history, **options):
    """A service of its own for one test; the autouse check then finds nothing left."""
    return SandboxService(history=history, **options)


async def follow(job) -> list:
    return [event async for event in job.events()]


def sleeper(seconds: float, user: str, **changes) -> RunRequest:
    return RunRequest(source=f"import time; time.sleep({seconds}); print('{user}')", user=user,
                      limits=Limits(timeout=10).with_(**changes))


def test_the_cap_holds_and_the_queue_is_fair(sandbox, history):
    async def main():
        service = serve(sandbox, history, max_running=1)
        await service.start()
        try:
            greedy = [await service.submit(sleeper(0.3, "greedy")) for _ in range(3)]
            modest = await service.submit(sleeper(0.3, "modest"))
            logs = await asyncio.gather(*(follow(job) for job in [*greedy, modest]))
        finally:
            await service.stop()
        starts = {}
        for job, log in zip([*greedy, modest], logs, strict=True):
            assert isinstance(log[-1], Finished) and log[-1].result.verdict is Verdict.OK
            starts[job.id] = job.started_at
        order = sorted(starts, key=starts.get)
        # Round robin: greedy's first run was taken at once; of the three then waiting,
        # greedy's next goes first (greedy was first in the round), then modest's, and only
        # then greedy's last: modest does not wait behind all of greedy's runs.
        assert order == [greedy[0].id, greedy[1].id, modest.id, greedy[2].id]
        # Never two at once with a cap of one: each started after the one before finished.
        spans = sorted((job.started_at, history.get(job.id).finished_at) for job in [*greedy, modest])
        assert all(later[0] >= earlier[1] - 0.05 for earlier, later in zip(spans, spans[1:], strict=False))
        # Each waiting run heard its place: greedy's last was 2nd, fell to 3rd when modest
        # joined the round ahead of it, then rose to 1st; modest went from 2nd to 1st.
        assert [e.position for e in logs[2] if isinstance(e, Queued)] == [2, 3, 2, 1]
        assert [e.position for e in logs[3] if isinstance(e, Queued)] == [2, 1]
        assert Queued(1, 1, 1).message == "queued: 1st in line, 1/1 running"

    asyncio.run(main())
    assert our_containers(sandbox) == []


def test_refusals_say_why(sandbox, history):
    async def main():
        service = serve(sandbox, history, max_running=1, per_user=2, max_waiting=3, rate="5/minute",
                        ceilings=Ceilings(memory=256 << 20, timeout=20))
        await service.start()
        try:
            with pytest.raises(CeilingExceeded, match="memory 1 GiB is over this server's ceiling of 256 MiB"):
                await service.submit(RunRequest(source="1", limits=Limits(memory=1 << 30)))
            with pytest.raises(CeilingExceeded, match="timeout 30 s is over"):
                await service.submit(RunRequest(source="1", limits=Limits(timeout=30)))
            running = await service.submit(sleeper(2, "a"))
            await asyncio.sleep(0.2)
            waiting = [await service.submit(sleeper(0.1, "a")) for _ in range(2)]
            with pytest.raises(Busy, match="a already has 2 runs waiting"):
                await service.submit(sleeper(0.1, "a"))
            await service.submit(sleeper(0.1, "b"))
            with pytest.raises(Busy, match="the queue is full") as full:
                await service.submit(sleeper(0.1, "c"))
            assert full.value.status == 503 and full.value.retry_after > 0
            for job in [running, *waiting]:
                service.cancel(job)
            for _ in range(4):   # c has made one request (refused): four more fit its rate
                await (await service.submit(RunRequest(source="print(1)", user="c"))).wait()
            with pytest.raises(RateLimited) as limited:
                await service.submit(RunRequest(source="print(1)", user="c"))
            assert limited.value.status == 429 and 0 < limited.value.retry_after <= 60
        finally:
            await service.stop()

    asyncio.run(main())
    assert our_containers(sandbox) == []


def test_cancelling_waiting_and_running_runs(sandbox, history):
    async def main():
        service = serve(sandbox, history, max_running=1)
        await service.start()
        try:
            running = await service.submit(sleeper(30, "a"))
            waiting = await service.submit(sleeper(30, "b"))
            async for event in running.events():
                if isinstance(event, Started):
                    break
            service.cancel(waiting)
            service.cancel(running)
            ended = [await job.wait() for job in (running, waiting)]
        finally:
            await service.stop()
        assert [r.verdict for r in ended] == [Verdict.CANCELLED, Verdict.CANCELLED]
        assert ended[1].kill_reason == "Cancelled while waiting in the queue"
        assert {history.get(job.id).verdict for job in (running, waiting)} == {"cancelled"}

    began = time.monotonic()
    asyncio.run(main())
    assert time.monotonic() - began < 20
    assert our_containers(sandbox) == []


def test_stopping_cancels_everything_and_keeps_every_row(sandbox, history):
    async def main():
        service = serve(sandbox, history, max_running=1)
        await service.start()
        jobs = [await service.submit(sleeper(30, user)) for user in ("a", "b", "c")]
        async for event in jobs[0].events():
            if isinstance(event, Started):
                break
        await service.stop()
        return jobs

    jobs = asyncio.run(main())
    assert [job.result.verdict for job in jobs] == [Verdict.CANCELLED] * 3
    assert "server is stopping" in jobs[2].result.kill_reason
    assert sorted(r.id for r in history.list()) == sorted(job.id for job in jobs)
    assert our_containers(sandbox) == []


def test_an_engine_failure_is_an_event_and_a_row(sandbox, history):
    ghost = Language("ghost", image="tui-sandbox-ghost:0", file="main.py", run=("python3", "{file}"))

    async def main():
        service = serve(sandbox, history, max_running=1)
        service.sandbox.languages["ghost"] = ghost
        await service.start()
        try:
            job = await service.submit(RunRequest(source="print(1)", language="ghost"))
            return job, await follow(job)
        finally:
            await service.stop()

    job, log = asyncio.run(main())
    assert isinstance(log[-1], Failed) and "not built" in log[-1].message
    row = history.get(job.id)
    assert row.verdict == "engine_error" and "not built" in row.kill_reason
    assert our_containers(sandbox) == []


def test_history_keeps_what_happened(sandbox, history):
    async def main():
        service = serve(sandbox, history, max_running=2)
        await service.start()
        try:
            ok = await (await service.submit(RunRequest(source="print('hi')", user="ada"))).wait()
            oom = await (await service.submit(RunRequest(source="x = ' ' * 2**30", user="ada",
                                                         limits=Limits(memory=64 << 20)))).wait()
            return ok, oom
        finally:
            await service.stop()

    ok, oom = asyncio.run(main())
    rows = history.list(user="ada")
    assert [r.verdict for r in rows] == ["oom", "ok"]        # newest first
    assert rows[1].output == "hi\n" and rows[1].source == "print('hi')" and rows[1].origin == "http"
    assert rows[0].kill_reason == oom.kill_reason and rows[0].limits["memory_bytes"] == 64 << 20
    assert rows[0].peak_memory_bytes >= 60 << 20
    assert [r.verdict for r in history.list(verdict="oom")] == ["oom"]
    assert [r.output for r in history.list(text="hi")] == ["hi\n"]


def test_an_interactive_run_takes_its_input_as_it_comes(sandbox, history):
    async def main():
        service = serve(sandbox, history, max_running=1)
        await service.start()
        try:
            blocker = await service.submit(sleeper(0.5, "a"))
            job = await service.submit(RunRequest(source='print("Hello,", input("Name? "))', user="b",
                                                  interactive=True))
            job.send_input("Ada\n")      # typed while it still waits in the queue
            await blocker.wait()
            result = await job.wait()
            with pytest.raises(ValueError, match="not asked for as interactive"):
                blocker.send_input("x")
            return result
        finally:
            await service.stop()

    result = asyncio.run(main())
    assert result.verdict is Verdict.OK and result.output == "Name? Hello, Ada\n"
    assert our_containers(sandbox) == []
    # What was typed is kept with the run, so it can be run again the same way.
    assert history.list(user="b")[0].stdin == "Ada\n"


def test_a_finished_run_keeps_its_result_not_its_stream(sandbox, history):
    async def main():
        service = serve(sandbox, history, max_running=1, finished_memory_bytes=64 << 10)
        await service.start()
        try:
            job = await service.submit(RunRequest(source="for i in range(3): print(i, flush=True)", user="ada"))
            asked_before = job.events()         # a watcher that asked before the end, read after it
            result = await job.wait()
            held = (service.jobs.finished_count, service.jobs.finished_bytes)
            flood = await service.submit(RunRequest(source="while True: print('x' * 1000)", user="ada"))
            await flood.wait()
            return (job, result, [e async for e in asked_before], [e async for e in job.events()], held,
                    service.jobs)
        finally:
            await service.stop()

    job, result, before, after, held, jobs = asyncio.run(main())
    assert isinstance(before[0], Started) and isinstance(before[-1], Finished)
    assert "".join(e.text for e in before if isinstance(e, Output)) == result.output == "0\n1\n2\n"
    assert job.log == after == [Finished(result)]          # after the end, only the end
    assert held[0] == 1 and 0 < held[1] <= 64 << 10
    # A megabyte of output is more than the whole budget: the flood is not held, nor is the
    # hello world it would have pushed out; both are the history's.
    assert (jobs.finished_count, jobs.finished_bytes, job.id in jobs) == (0, 0, False)
    assert [row.verdict for row in history.list(user="ada")] == ["output_limit", "ok"]
