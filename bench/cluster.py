#!/usr/bin/env python3
"""More than one host, measured on this one, against the embedded service and a bare
`docker run --rm` in the same session.

1. Sequential hello world, interleaved: `POST /run` through a front, a broker (a real
   redis-server) and one worker; the same against the embedded `serve`; a bare
   `docker run --rm` with the same flags. Median, p90, and the ratios to the bare run
   (target: the cluster within 1.5x of the embedded path).
2. Throughput: 200 short runs from 20 concurrent clients, each its own user, with one
   worker and then with two: runs per second, every result right, each worker's cap
   held (from the history's rows: no more of a worker's runs overlapped than its cap),
   and nothing left (no container of a worker, nothing waiting, live or pending in the
   broker).
3. The broker's own ceiling: the exact calls one run makes of Redis (admit, take, the
   started event, the end with its history row, the front reading the run's stream),
   with no-op workers that answer without Docker: runs per second one Redis carries.

    .venv/bin/python bench/cluster.py [--sequential 20] [--runs 200] [--clients 20] [--broker-runs 2000]

Every process (redis-server, fronts, workers, the embedded server) is started on
127.0.0.1 and free ports, with temporary data, and stopped at the end."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from latency import bare_command, percentile  # noqa: E402
from service import HELLO, free_port, server_containers, start_server  # noqa: E402

from runner import Limits  # noqa: E402
from runner.docker.backend import connect  # noqa: E402

TUI_SANDBOX = str(ROOT / ".venv" / "bin" / "tui-sandbox")
CAP = 2                       # each worker's --max-running: this machine's cores


class Parts:
    """The cluster's processes, each stopped by close() (SIGTERM, then SIGKILL)."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.env = {**os.environ, "XDG_DATA_HOME": str(tmp / "data"), "PYTHONUNBUFFERED": "1"}
        self.redis_port = free_port()
        self.broker = f"redis://127.0.0.1:{self.redis_port}/0"
        self.processes: list[subprocess.Popen] = []
        self.workers: dict[str, subprocess.Popen] = {}

    def _start(self, command: list[str], log: str) -> subprocess.Popen:
        process = subprocess.Popen(command, stdout=(self.tmp / log).open("w"), stderr=subprocess.STDOUT, env=self.env)
        self.processes.append(process)
        return process

    def _wait(self, process: subprocess.Popen, log: str, word: str) -> None:
        deadline = time.monotonic() + 60
        while word not in (self.tmp / log).read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{log} did not start: {(self.tmp / log).read_text()[-2000:]}")
            time.sleep(0.1)

    def redis(self) -> None:
        process = self._start([shutil.which("redis-server") or "redis-server", "--port", str(self.redis_port),
                               "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.tmp)],
                              "redis.log")
        self._wait(process, "redis.log", "Ready to accept connections")

    def worker(self, name: str) -> None:
        log = f"worker-{name}.log"
        self.workers[name] = self._start([TUI_SANDBOX, "worker", "--broker", self.broker, "--name", name,
                                          "--max-running", str(CAP)], log)
        self._wait(self.workers[name], log, f"worker {name}:")

    def front(self) -> str:
        port = free_port()
        log = f"front-{port}.log"
        self._wait(self._start([TUI_SANDBOX, "serve", "--broker", self.broker, "--host", "127.0.0.1", "--port",
                                str(port), "--history", str(self.history), "--per-user", "5"], log), log, "serving on")
        return f"http://127.0.0.1:{port}"

    @property
    def history(self) -> Path:
        return self.tmp / "history.sqlite3"

    def close(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def wait_for_cap(base: str, cap: int) -> None:
    deadline = time.monotonic() + 30
    while httpx.get(f"{base}/health", timeout=5).json().get("queue", {}).get("cap") != cap:
        if time.monotonic() > deadline:
            raise SystemExit(f"the front did not see a cap of {cap}")
        time.sleep(0.2)


def timed_post(client: httpx.Client) -> float:
    began = time.perf_counter()
    answer = client.post("/run", json={"code": HELLO})
    elapsed = time.perf_counter() - began
    assert answer.status_code == 200 and answer.json()["output"] == "hello\n", answer.text
    return elapsed


def timed_bare(command: list[str]) -> float:
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - began
    assert done.returncode == 0 and done.stdout == b"hello\n", done
    return elapsed


def sequential(cluster: str, embedded: str, rounds: int) -> None:
    bare = bare_command(Limits())
    paths = {"bare docker run --rm": lambda: timed_bare(bare)}
    with httpx.Client(base_url=embedded, timeout=60) as one_host, httpx.Client(base_url=cluster, timeout=60) as front:
        paths["POST /run, embedded serve"] = lambda: timed_post(one_host)
        paths["POST /run, front+broker+worker"] = lambda: timed_post(front)
        for _ in range(3):            # warm-up: the first runs make the spares
            timed_post(one_host), timed_post(front)
            time.sleep(0.3)
        times: dict[str, list[float]] = {name: [] for name in paths}
        for _ in range(rounds):
            for name, measure in paths.items():
                time.sleep(0.3)       # a spare is made between runs, as between a learner's runs
                times[name].append(measure())
    medians = {name: statistics.median(values) for name, values in times.items()}
    bare_median = medians["bare docker run --rm"]
    print(f"sequential hello world, {rounds} each, interleaved")
    for name, values in times.items():
        print(f"  {name:<32} {medians[name] * 1000:7.1f} ms median, {percentile(values, 0.9) * 1000:7.1f} ms p90"
              f"   {medians[name] / bare_median:.2f}x bare")
    ratio = medians["POST /run, front+broker+worker"] / medians["POST /run, embedded serve"]
    verdict = "met" if ratio <= 1.5 else "NOT met"
    print(f"  cluster / embedded             {ratio:.2f}x (target 1.5x or less: {verdict})")


def throughput(base: str, runs: int, clients: int, history: Path, workers: list[str]) -> bool:
    wrong: list[str] = []
    refused: list[int] = []
    ids: list[str] = []

    def one_client(number: int) -> None:
        with httpx.Client(base_url=base, timeout=120, headers={"X-Sandbox-User": f"student{number}"}) as mine:
            for i in range(number, runs, clients):
                answer = mine.post("/run", json={"code": f"print({i} * 2)"})
                if answer.status_code != 200:
                    refused.append(answer.status_code)
                elif answer.json()["output"] != f"{i * 2}\n":
                    wrong.append(answer.text)
                else:
                    ids.append(answer.json()["id"])

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one_client, range(clients)))
    elapsed = time.perf_counter() - began
    rows = history_rows(history, set(ids))
    most = {name: most_at_once([(r["started_at"], r["finished_at"]) for r in rows if r["worker"] == name])
            for name in workers}
    share = {name: sum(1 for r in rows if r["worker"] == name) for name in workers}
    print(f"\nthroughput: {runs} runs from {clients} clients, {len(workers)} worker(s) of cap {CAP}")
    print(f"  {runs / elapsed:.1f} runs/s ({elapsed:.1f} s), wrong results {len(wrong)}, refused {len(refused)}, "
          f"in the history {len(rows)}/{len(ids)}")
    print("  " + ", ".join(f"{name} ran {share[name]}, at most {most[name]} at once (cap {CAP})" for name in workers))
    held = all(value <= CAP for value in most.values())
    print(f"  each worker's cap {'held' if held else 'NOT held'}")
    return not wrong and not refused and len(rows) == len(ids) == runs and held


def history_rows(path: Path, ids: set[str]) -> list[dict]:
    """The runs' rows, once the fronts' writer has written them all (it follows the results stream)."""
    deadline = time.monotonic() + 30
    while True:
        with sqlite3.connect(path) as db:
            db.row_factory = sqlite3.Row
            rows = [dict(row) for row in db.execute("SELECT id, worker, started_at, finished_at FROM runs")
                    if row["id"] in ids]
        if len(rows) == len(ids) or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def most_at_once(spans: list[tuple[float, float]]) -> int:
    return max((sum(1 for start, end in spans if start <= moment < end) for moment, _ in spans), default=0)


def left_in_broker(url: str) -> dict[str, int]:
    import redis

    r = redis.Redis.from_url(url, decode_responses=True)
    try:
        return {"waiting": int(r.get("tui-sandbox:waiting") or 0), "live": r.scard("tui-sandbox:live"),
                "pending": r.xpending("tui-sandbox:work", "workers")["pending"]}
    finally:
        r.close()


# --- the broker's ceiling ------------------------------------------------------------------

async def broker_ceiling(url: str, runs: int, clients: int, workers: int = 2) -> float:
    """Runs per second through the broker alone: fronts that admit a run and read its
    stream to the end, no-op workers that take it and answer at once."""
    from tui_sandbox.cluster.broker import Broker
    from tui_sandbox.service.requests import RunRequest

    prefix = f"ceiling-{os.getpid()}"
    front, done = Broker(url, prefix), asyncio.Event()
    await front.ensure_groups()
    started = {"event": "started", "language": "python", "image": "-", "runtime": "runc"}
    record = {"id": "", "user": "", "language": "python", "verdict": "ok"}
    served = 0

    async def no_op_worker(name: str) -> None:
        nonlocal served
        broker = Broker(url, prefix)
        while not done.is_set():
            taken = await broker.take(name, ("runc",))
            if taken is None:
                await broker.redis.blpop([broker.keys.wake("runc")], timeout=0.2)
                continue
            async with broker.redis.pipeline(transaction=True) as pipe:      # as the worker marks it started
                pipe.hset(broker.keys.run(taken.run_id), mapping={"state": "running", "worker": name})
                pipe.xack(broker.keys.work, "workers", taken.entry_id)
                pipe.xdel(broker.keys.work, taken.entry_id)
                await pipe.execute()
            await broker.publish(taken.run_id, {**started, "id": taken.run_id})
            await broker.end(taken.run_id, {**record, "id": taken.run_id}, {"event": "finished", "id": taken.run_id})
            served += 1
        await broker.close()

    async def client(number: int) -> None:
        for i in range(number, runs, clients):
            run_id = f"{number}-{i}"
            # Named: the no-op workers offer runc alone (a run that names none needs a worker with a default).
            request = RunRequest(source=HELLO, language="python", limits=Limits(runtime="runc"), user=f"u{number}")
            code, _ = await front.admit(run_id, request, per_user=10, total=10_000, queued_at=time.time(),
                                        front="bench")
            assert code == 0
            last = "0"
            while True:
                answer = await front.redis.xread({front.keys.events(run_id): last}, block=5000)
                entries = [entry for _stream, got in answer or [] for entry in got]
                if not entries:
                    continue
                last = entries[-1][0]
                if any('"finished"' in fields["e"] for _id, fields in entries):
                    break

    loops = [asyncio.create_task(no_op_worker(f"noop{n}")) for n in range(workers)]
    began = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    elapsed = time.perf_counter() - began
    done.set()
    await asyncio.gather(*loops)
    keys = [key async for key in front.redis.scan_iter(f"{prefix}:*")]
    if keys:
        await front.redis.delete(*keys)
    await front.close()
    assert served == runs, (served, runs)
    return runs / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sequential", type=int, default=20)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--broker-runs", type=int, default=2000)
    args = parser.parse_args()

    api = connect()
    print(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    ok = True
    with tempfile.TemporaryDirectory(prefix="tui-sandbox-bench-cluster-") as tmp:
        parts = Parts(Path(tmp))
        embedded_port = free_port()
        (Path(tmp) / "one-host").mkdir()
        embedded = start_server(Path(tmp) / "one-host", embedded_port)
        worker_pids: list[int] = []
        try:
            parts.redis()
            parts.worker("w1")
            base = parts.front()
            wait_for_cap(base, CAP)
            sequential(base, f"http://127.0.0.1:{embedded_port}", args.sequential)
            embedded.send_signal(signal.SIGTERM)
            embedded.wait(60)
            ok &= throughput(base, args.runs, args.clients, parts.history, ["w1"])
            parts.worker("w2")
            wait_for_cap(base, 2 * CAP)
            ok &= throughput(base, args.runs, args.clients, parts.history, ["w1", "w2"])
            ceiling = asyncio.run(broker_ceiling(parts.broker, args.broker_runs, args.clients))
            print(f"\nthe broker's ceiling: {args.broker_runs} runs from {args.clients} clients through one Redis, "
                  f"no-op workers")
            print(f"  {ceiling:.0f} runs/s (admit, take, started, end with its row, the stream read to its end)")
            left = left_in_broker(parts.broker)
            worker_pids = [process.pid for process in parts.workers.values()]
        finally:
            if embedded.poll() is None:
                embedded.send_signal(signal.SIGTERM)
                embedded.wait(60)
            parts.close()
        containers = sum(len(server_containers(api, pid)) for pid in [*worker_pids, embedded.pid])
        print(f"\nleft afterwards: {containers} containers, in the broker {left}")
        ok &= containers == 0 and not any(left.values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
