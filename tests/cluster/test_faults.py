"""The cluster's faults, each with real parts: a worker killed or stopped, Redis
restarted, PostgreSQL away for a while, a front killed, and bad configuration."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import psycopg
import pytest
import redis

from tests.conftest import containers_owned_by

from .conftest import ROOT, free_port, run, wait_for

SLEEP = "import time; print('begun', flush=True); time.sleep({}); print('done')"


def test_a_worker_killed_mid_run(cluster, sandbox, tmp_path):
    killed = cluster.worker("w1", 1)
    _front, client = cluster.front()
    with ThreadPoolExecutor(2) as pool:
        doomed = pool.submit(run, client, SLEEP.format(30), "ada", timeout=8)
        wait_for(lambda: containers_owned_by(sandbox, killed.pid), 20, "the run did not start")
        time.sleep(1)
        waiting = pool.submit(run, client, "print('after')", "bob")
        time.sleep(0.5)
        killed.stop(signal.SIGKILL)
        began = time.monotonic()
        answer = doomed.result(30)
        assert time.monotonic() - began < 10, "the client waited too long"
        assert answer.status_code == 503 and "w1" in answer.json()["error"], answer.text
        cluster.worker("w2", 1)
        after = waiting.result(60).json()
    assert (after["output"], after["worker"]) == ("after\n", "w2")
    history = client.get("/runs", params={"verdict": "engine_error"}).json()["runs"]
    assert any("w1" in (row["kill_reason"] or "") for row in history), history
    # Its container ends by its init's deadline (8 s); the worker's next start sweeps it.
    restarted = cluster.worker("w1", 1)
    wait_for(lambda: not containers_owned_by(sandbox, killed.pid), 30, "the dead worker's container was not swept")
    assert restarted.proc.poll() is None


def test_a_run_a_dead_worker_took_and_never_started_is_run_by_another(cluster):
    from tui_sandbox.cluster.broker import Broker

    _front, client = cluster.front()
    with ThreadPoolExecutor(1) as pool:
        asked = pool.submit(run, client, "print('rescued')", "ada")

        async def take_as_a_ghost() -> str:
            broker = Broker(cluster.redis.url)
            await broker.redis.hset(broker.keys.workers, "ghost", json.dumps({"cap": 1, "running": 1, "host": "x"}))
            got = await wait_async(lambda: broker.take("ghost"))
            await broker.close()
            return got.run_id

        taken = asyncio.run(take_as_a_ghost())
        cluster.worker("w2", 1)
        answer = asked.result(30).json()
    assert (answer["id"], answer["output"], answer["worker"]) == (taken, "rescued\n", "w2")


async def wait_async(call, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = await call()
        if got:
            return got
        await asyncio.sleep(0.05)
    raise AssertionError("nothing came")


def test_a_worker_stopped_with_sigterm_finishes_its_run_and_leaves(cluster, sandbox):
    worker = cluster.worker("w1", 1)
    _front, client = cluster.front()
    with ThreadPoolExecutor(1) as pool:
        asked = pool.submit(run, client, SLEEP.format(1.5), "ada")
        wait_for(lambda: containers_owned_by(sandbox, worker.pid), 20, "the run did not start")
        worker.proc.send_signal(signal.SIGTERM)
        answer = asked.result(30).json()
    assert (answer["verdict"], answer["output"], answer["worker"]) == ("ok", "begun\ndone\n", "w1")
    assert worker.proc.wait(30) == 0
    assert containers_owned_by(sandbox, worker.pid) == []
    broker = redis.Redis.from_url(cluster.redis.url, decode_responses=True)
    assert broker.hget("tui-sandbox:workers", "w1") is None
    assert [c["name"] for c in broker.xinfo_consumers("tui-sandbox:work", "workers")] == []


def test_redis_restarted_while_runs_wait_and_run(cluster):
    cluster.worker("w1", 1)
    _front, client = cluster.front()
    with ThreadPoolExecutor(4) as pool:
        running = pool.submit(run, client, SLEEP.format(3), "ada")
        time.sleep(1.5)
        waiting = [pool.submit(run, client, "print('w')", f"u{i}") for i in range(3)]
        time.sleep(0.5)
        cluster.redis.stop()
        cluster.redis.start()
        answers = [running.result(60)] + [f.result(60) for f in waiting]
    first = answers[0].json()
    assert (first["verdict"], first["output"]) == ("ok", "begun\ndone\n"), first
    for answer in answers[1:]:          # lost with Redis's data, or run after it: one end each
        assert answer.status_code in (200, 503), answer.text
        if answer.status_code == 503:
            assert "broker" in answer.json()["error"]
    # Both reconnected by themselves: a new run goes through.
    assert run(client, "print('again')").json()["output"] == "again\n"


def test_postgresql_away_for_a_while(cluster, postgres):
    url = postgres.new_database()
    cluster.worker("w1", 2)
    _front, client = cluster.front(url)
    assert run(client, "print(0)").json()["verdict"] == "ok"
    postgres.stop()
    try:
        ids = [run(client, f"print({i})", "ada").json()["id"] for i in range(3)]
        # Reading the history meanwhile is a 503 that says why, never a 500.
        for path in ("/runs", f"/runs/{ids[0]}", "/class"):
            answer = client.get(path)
            assert answer.status_code == 503, (path, answer.text)
            assert "PostgreSQL" in answer.json()["error"] and answer.json()["fix"], answer.json()
            assert "Retry-After" in answer.headers
    finally:
        postgres.start()

    def rows():
        with psycopg.connect(url) as db:
            return db.execute("SELECT id, COUNT(*) FROM runs GROUP BY id").fetchall()
    wait_for(lambda: set(ids) <= {row[0] for row in rows()}, 30, "the spooled rows were not written")
    assert all(count == 1 for _id, count in rows())
    assert client.get(f"/runs/{ids[0]}").json()["output"] == "0\n"


def test_a_front_killed_its_runs_finish_and_another_front_reads_them(cluster, postgres):
    url = postgres.new_database()
    cluster.worker("w1", 2)
    doomed, first = cluster.front(url)
    _other, second = cluster.front(url)
    with first.stream("POST", "/runs", json={"code": SLEEP.format(2), "language": "python"}) as stream:
        run_id = stream.headers["X-Run-Id"]
        doomed.stop(signal.SIGKILL)
    found = wait_for(lambda: (lambda a: a.status_code == 200 and a.json().get("verdict") and a.json())(
        second.get(f"/runs/{run_id}")), 30, "the other front could not read the run")
    assert (found["verdict"], found["output"], found.get("worker")) == ("ok", "begun\ndone\n", "w1")


def one_line(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "tui_sandbox", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    return lines[0]


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_a_broker_that_does_not_answer_is_one_line(command):
    line = one_line(command, "--broker", f"redis://127.0.0.1:{free_port()}/0")
    assert "does not answer" in line and "redis-server" in line


def test_a_wrong_password_is_one_line(tmp_path):
    from .conftest import RedisServer

    server = RedisServer(tmp_path, password="right")
    server.start()
    try:
        line = one_line("serve", "--port", "0", "--broker", f"redis://:wrong@127.0.0.1:{server.port}/0")
        assert "password" in line and "redis://:PASSWORD@" in line
        assert "password" in one_line("worker", "--broker", f"redis://127.0.0.1:{server.port}/0")
    finally:
        server.stop()


def test_a_history_url_with_no_database_is_one_line(redis_server, postgres):
    line = one_line("serve", "--port", "0", "--broker", redis_server.url, "--history", postgres.url("nosuchdb"))
    assert "does not exist" in line and "createdb nosuchdb" in line


def kept_row(front, path: str) -> dict | None:
    answer = front.get(path)
    return answer.json() if answer.status_code == 200 and "verdict" in answer.json() else None


def test_a_front_stopped_with_sigterm_hands_its_runs_over(cluster):
    """SIGTERM on a front cancels nothing: its clients get their results (within its
    grace), and the runs are readable from another front."""
    cluster.worker("w1", 1)
    stopped, first = cluster.front()
    _other, second = cluster.front()
    with ThreadPoolExecutor(2) as pool:
        running = pool.submit(run, first, SLEEP.format(1.5), "ada")
        wait_for(lambda: first.get("/health").json()["queue"]["running"] == 1, 20, "the run did not start")
        waiting = pool.submit(run, first, "print('next')", "bob")
        wait_for(lambda: first.get("/health").json()["queue"]["queued"] == 1, 10, "the second did not queue")
        stopped.proc.send_signal(signal.SIGTERM)
        answers = [running.result(30), waiting.result(30)]
    assert [(a.status_code, a.json()["verdict"]) for a in answers] == [(200, "ok"), (200, "ok")], answers
    assert [a.json()["output"] for a in answers] == ["begun\ndone\n", "next\n"]
    # It exits by itself, as uvicorn does on SIGTERM (the signal raised again once it is done).
    assert stopped.proc.wait(30) in (0, -signal.SIGTERM)
    for answer in answers:
        # The stopped front's history writer may not have written the row: another front
        # takes such rows over (after its grace), and a client that asks again finds it.
        path = f"/runs/{answer.json()['id']}"
        again = wait_for(partial(kept_row, second, path), 40, f"{path} readable from the other front")
        assert (again["verdict"], again["worker"]) == ("ok", "w1"), again
