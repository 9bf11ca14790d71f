"""Redis down, for good or for a while, with real parts (a redis-server killed with
SIGKILL under a front and a worker): every front's answer is a 503 that names Redis or
a read of what it has, never a 500; each process says so once on stderr, with no
traceback; the run under way ends for its client with the reason, its container goes,
and its result reaches the history once Redis is back."""

from __future__ import annotations

import json
import signal
import threading

from tests.conftest import containers_owned_by

from .conftest import run, wait_for

SLEEP = "import time; print('begun', flush=True); time.sleep({}); print('done')"


def refused_for_redis(answer) -> None:
    assert answer.status_code == 503, answer.text
    body = answer.json()
    assert "Redis" in body["error"] and body["fix"], body
    assert "Retry-After" in answer.headers


def test_redis_killed_under_a_front_and_a_worker(cluster, sandbox):
    worker = cluster.worker("w1", 1)
    front, client = cluster.front()
    hello = run(client, "print('hello')").json()
    assert hello["output"] == "hello\n"
    lines: list[dict] = []

    def follow() -> None:
        body = {"code": SLEEP.format(4), "language": "python"}
        with client.stream("POST", "/runs", json=body, timeout=120) as stream:
            lines.extend(json.loads(line) for line in stream.iter_lines())

    follower = threading.Thread(target=follow)
    follower.start()
    wait_for(lambda: any(line["event"] == "output" for line in lines), 30, "the run did not begin")
    cluster.redis.kill()

    for path in ("/runs", "/run"):            # a new run: refused, with the reason
        refused_for_redis(client.post(path, json={"code": "print(1)"}))
    health = client.get("/health")
    assert health.status_code == 503 and "Redis" in health.json()["engine"]["error"], health.text
    # What the front has (its runs, the history) is still read.
    assert client.get(f"/runs/{hello['id']}").json()["output"] == "hello\n"
    assert hello["id"] in [row["id"] for row in client.get("/runs").json()["runs"]]

    follower.join(60)
    assert not follower.is_alive(), "the run's client was left waiting"
    last = lines[-1]
    assert last["event"] == "failed" and "Redis" in last["error"], last
    started = next(line["container_id"] for line in lines if line["event"] == "started")
    wait_for(lambda: started not in {c["Id"] for c in containers_owned_by(sandbox, worker.pid)}, 30,
             "the run's container stayed")
    for process in (front, worker):
        log = process.output()
        assert log.count("does not answer") == 1 and "Traceback" not in log, log

    cluster.redis.start()                     # back, empty: both reconnect, and nothing is lost
    wait_for(lambda: "answers again" in worker.output(), 30, "the worker did not say the broker is back")
    # Until its row is in, the front shows the run as it ended for its client (engine_error).
    kept = wait_for(lambda: (lambda row: row.get("verdict") == "ok" and row)(
        client.get(f"/runs/{last['id']}").json()), 40, "the run's result did not reach the history")
    assert (kept["output"], kept["worker"]) == ("begun\ndone\n", "w1"), kept
    assert run(client, "print('again')").json()["output"] == "again\n"
    assert "Traceback" not in front.output() + worker.output()


def test_a_worker_stopped_while_redis_is_down_leaves_cleanly(cluster, sandbox):
    worker = cluster.worker("w1", 1)
    cluster.redis.kill()
    wait_for(lambda: "does not answer" in worker.output(), 30, "the worker did not say the broker is down")
    assert worker.stop(signal.SIGTERM) == 0, worker.output()
    log = worker.output()
    assert "Traceback" not in log and "could not leave the broker's group" in log, log
    assert containers_owned_by(sandbox, worker.pid) == []
