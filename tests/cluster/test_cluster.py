"""A front with two workers, each a process of its own, on the real Docker engine: the
seeds' requests, runs spread over both, each worker's cap, and one fair queue for two
fronts."""

from __future__ import annotations

import json
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

from runner.walls import WALL_KINDS

from .conftest import run, wait_for


def rows(path) -> list[dict]:
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute("SELECT * FROM runs")]


def test_the_seeds_requests_through_a_front_with_two_workers(cluster):
    cluster.worker("w1", 2)
    cluster.worker("w2", 2)
    _front, client = cluster.front()
    answer = run(client, "print(6 * 7)")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["output"], body["verdict"]) == ("42\n", "ok")
    assert body["worker"] in ("w1", "w2")
    # No runtime named: the worker ran it under its engine's default, and says which.
    assert body["runtime"] == body["limits"]["runtime"] == "crun"
    with client.stream("POST", "/runs", json={"code": "import sys; print(sys.stdin.read())", "language": "python",
                                              "stdin": "hello"}) as stream:
        events = [json.loads(line) for line in stream.iter_lines() if line.strip()]
    assert [e["event"] for e in events][0] == "started" or events[0]["event"] == "queued"
    assert events[-1]["event"] == "finished" and events[-1]["output"] == "hello\n"
    got = client.get(f"/runs/{body['id']}").json()
    assert got["verdict"] == "ok"
    health = client.get("/health").json()
    assert health["ok"] and health["queue"]["cap"] == 4
    assert "python" in [language["name"] for language in client.get("/languages").json()]


def test_runs_spread_over_both_workers(cluster):
    cluster.worker("w1", 2)
    cluster.worker("w2", 2)
    _front, client = cluster.front("", "--max-waiting", "100")
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda i: run(client, f"import time; time.sleep(0.3); print({i})", user=f"u{i % 6}"),
                                range(12)))
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers if a.status_code != 200]
    assert [a.json()["output"] for a in answers] == [f"{i}\n" for i in range(12)]
    assert {a.json()["worker"] for a in answers} == {"w1", "w2"}


def test_each_workers_cap_holds_under_50_concurrent_runs(cluster, tmp_path):
    caps = {"w1": 2, "w2": 3}
    for name, cap in caps.items():
        cluster.worker(name, cap)
    _front, client = cluster.front(None, "--per-user", "5", "--max-waiting", "100")
    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(lambda i: run(client, "import time; time.sleep(0.2); print('x')", user=f"u{i % 10}"),
                                range(50)))
    assert [a.status_code for a in answers] == [200] * 50, [a.text for a in answers if a.status_code != 200][:3]
    assert all(a.json()["output"] == "x\n" for a in answers)
    ids = {a.json()["id"] for a in answers}

    def written():
        return {row["id"] for row in rows(tmp_path / "history.sqlite3")} >= ids
    wait_for(written, 15, "every run reached the history")
    history = [row for row in rows(tmp_path / "history.sqlite3") if row["id"] in ids]
    for name, cap in caps.items():
        spans = sorted((row["started_at"], row["finished_at"]) for row in history if row["worker"] == name)
        assert spans, f"{name} ran nothing"
        most = max(sum(1 for start, end in spans if start <= moment < end) for moment, _ in spans)
        assert most <= cap, f"{name} ran {most} at once, over its cap of {cap}"


def test_one_fair_queue_for_two_fronts(cluster, tmp_path):
    cluster.worker("w1", 1)
    _one, first = cluster.front()
    _two, second = cluster.front()
    slow = "import time; time.sleep(0.6); print('{}')"
    with ThreadPoolExecutor(4) as pool:
        many = [pool.submit(run, first, slow.format(f"ada{i}"), "ada") for i in range(3)]
        time.sleep(0.3)
        one = pool.submit(run, second, slow.format("bob"), "bob")
        results = [f.result().json() for f in many] + [one.result().json()]
    assert all(r["verdict"] == "ok" for r in results)
    ended = {r["output"].strip(): r for r in results}

    wait_for(lambda: all(r["id"] in {row["id"] for row in rows(tmp_path / "history.sqlite3")} for r in results), 10,
             "the history")
    history = {row["id"]: row for row in rows(tmp_path / "history.sqlite3")}
    started = {name: history[r["id"]]["started_at"] for name, r in ended.items()}
    # bob asked after ada's three, through another front: he is served before ada's last.
    assert started["bob"] < max(started[f"ada{i}"] for i in range(3)), started


def test_a_worker_takes_only_runs_of_a_runtime_it_offers(cluster):
    cluster.worker("plain", 2, "--runtime", "runc")
    cluster.worker("gvisor", 2, "--runtime", "runsc")
    _front, client = cluster.front(None, "--per-user", "10")
    asked = [("runsc" if i % 2 else "runc", i) for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda a: run(client, f"print({a[1]})", user=f"u{a[1] % 2}", runtime=a[0]), asked))
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers if a.status_code != 200]
    for (runtime, i), answer in zip(asked, answers, strict=True):
        body = answer.json()
        assert (body["output"], body["runtime"]) == (f"{i}\n", runtime), body
        assert body["worker"] == ("gvisor" if runtime == "runsc" else "plain"), body
    # A run that names none goes to a worker with a runtime as isolated as runc, and runs
    # under the default among those it offers: runc there (it does not offer crun).
    for i in range(2):
        body = run(client, "print('by default')", user=f"d{i}").json()
        assert (body["output"], body["worker"], body["runtime"]) == ("by default\n", "plain", "runc"), body


def test_a_run_that_names_no_runtime_is_refused_where_no_worker_has_a_default(cluster):
    cluster.worker("gvisor", 1, "--runtime", "runsc")
    _front, client = cluster.front()
    refused = run(client, "print(1)")
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == ("no worker has a runtime as isolated as runc to run by default (they offer "
                                       "runsc)")
    assert run(client, "print(1)", runtime="runsc").json()["runtime"] == "runsc"


def test_a_wall_crosses_the_broker_as_it_happens_and_into_the_history(cluster):
    """A worker's run that hits the PID limit: the front streams its `blocked` event before
    the output after it, and the result and the front's history keep the wall."""
    from ..engine.test_walls import FORKS

    cluster.worker("w1", 1)
    _front, client = cluster.front()
    code = FORKS.replace('print("refused"', 'time.sleep(0.6)\nprint("refused"')
    with client.stream("POST", "/runs", json={"code": code, "language": "python", "pids": 16}) as stream:
        events = [json.loads(line) for line in stream.iter_lines() if line.strip()]
    kinds = [event["event"] for event in events]
    said = next(i for i, e in enumerate(events) if e["event"] == "output" and "refused" in e["text"])
    assert "blocked" in kinds and kinds.index("blocked") < said
    finished = events[-1]
    refused = int(finished["output"].split()[1])
    assert [wall["count"] for wall in finished["blocked"]] == [refused]
    kept = wait_for(lambda: (row := client.get(f"/runs/{finished['id']}").json()).get("blocked") and row, 20,
                    "the run never reached the history")
    assert kept["blocked"] == finished["blocked"] and kept["walls_watched"] == sorted(WALL_KINDS)


def test_every_kind_of_wall_crosses_the_broker(cluster):
    from ..engine.test_walls import EVERY_KIND, EVERY_KIND_WALLS

    cluster.worker("w1", 1)
    _front, client = cluster.front()
    with client.stream("POST", "/runs", json={"code": EVERY_KIND, "language": "python", "pids": 16}) as stream:
        events = [json.loads(line) for line in stream.iter_lines() if line.strip()]
    walls = {(e["kind"], e["call"], e["target"]) for e in events if e["event"] == "blocked"}
    assert walls == EVERY_KIND_WALLS
    assert {(w["kind"], w["call"], w["target"]) for w in events[-1]["blocked"]} == EVERY_KIND_WALLS
