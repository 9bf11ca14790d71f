#!/usr/bin/env python3
"""The service under a sustained mix, as long as a lesson: its memory must stay flat.

`tui-sandbox serve` on 127.0.0.1 (a free port, a temporary history, the default cap) and
six clients, each its own user, for --minutes (default 30), each sending in turn the mix
a school's server sees: a hello world, a 1 s timeout, an OOM, an output flood, a stream
closed midway (the run must end cancelled), a run cancelled by DELETE, a malformed body
(a 400 with {error, fix}). After each hello world the client reads back one of its
earlier runs (GET /runs/{id}): by then mostly one the server no longer holds, from the
history.

Every answer is checked; the wrong ones are counted and the first few printed. Every
--every seconds the server's RSS (VmRSS), its open files and what it holds of finished
runs (GET /health) are sampled and printed. The figure: RSS at the end against RSS after
the warm-up (2 minutes, or a third of a shorter run: the first minute is still filling
caches and pools), the baseline measured in the same run; target: flat within 10% (1.10x
or less). Then the server is stopped (SIGTERM) and none of its containers may be left.

    .venv/bin/python bench/soak.py [--minutes 30] [--clients 6] [--every 10]

Exit status 1 when an answer was wrong, a container was left, or RSS grew more than 10%."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from service import free_port, mib, rss_pss, server_containers, start_server  # noqa: E402

from runner.docker.backend import connect  # noqa: E402

TARGET = 1.10
WARM_UP_S = 120
SLEEPER = "import time\nprint('begun', flush=True)\ntime.sleep(30)\n"
READ_BACK = 20       # after a hello world, read back the client's run from this many runs before


@dataclass
class Tally:
    """What the clients did and got wrong, shared by their threads."""
    done: Counter = field(default_factory=Counter)
    wrong: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, kind: str, problem: str | None) -> None:
        with self.lock:
            self.done[kind] += 1
            if problem:
                self.wrong.append(f"{kind}: {problem}")


class Client:
    """One user sending the mix, each kind's answer checked; a kind says what was wrong, or None."""

    def __init__(self, base: str, number: int) -> None:
        # An idle connection is dropped before uvicorn's keep-alive (5 s) closes it: reusing one
        # just as the server closes it is a reset that is the client's race, not an answer.
        self.http = httpx.Client(base_url=base, timeout=120, headers={"X-Sandbox-User": f"soak{number}"},
                                 limits=httpx.Limits(keepalive_expiry=2))
        self.ended: list[tuple[str, str]] = []        # (id, verdict) of this client's runs, in order

    def run(self, body: dict, verdict: str, check=lambda answer: True) -> str | None:
        answer = self.http.post("/run", json=body)
        if answer.status_code != 200:
            return f"{answer.status_code} {answer.text[:200]}"
        data = answer.json()
        if data["verdict"] != verdict or not check(data):
            return f"verdict {data['verdict']} ({data['kill_reason']}), output {data['output'][:80]!r}"
        self.ended.append((data["id"], verdict))
        return None

    def hello(self) -> str | None:
        number = len(self.ended)
        problem = self.run({"code": f"print('hello', {number})"}, "ok",
                           lambda data: data["output"] == f"hello {number}\n")
        if problem or len(self.ended) < 2:
            return problem
        run_id, verdict = self.ended[max(0, len(self.ended) - READ_BACK)]
        row = self.http.get(f"/runs/{run_id}")
        if row.status_code != 200 or row.json()["verdict"] != verdict or row.json()["id"] != run_id:
            return f"read back {run_id}: {row.status_code} {row.text[:200]}"
        return None

    def timeout(self) -> str | None:
        return self.run({"code": "while True: pass", "timeout": 1}, "timeout")

    def oom(self) -> str | None:
        return self.run({"code": "x = ' ' * 2**30", "memory": "64m"}, "oom")

    def flood(self) -> str | None:
        return self.run({"code": "while True: print('x' * 1000)"}, "output_limit",
                        lambda data: data["truncated"] and data["output"].startswith("x" * 1000))

    def stream_closed(self) -> str | None:
        with self.http.stream("POST", "/runs", json={"code": SLEEPER}) as stream:
            run_id = stream.headers.get("x-run-id")
            if stream.status_code != 200 or not run_id:
                return f"{stream.status_code} {stream.read()[:200]!r}"
            for line in stream.iter_lines():
                if line and json.loads(line)["event"] == "output":
                    break                  # and the connection closes, midway
        deadline, row = time.monotonic() + 30, {"state": "unread"}
        while time.monotonic() < deadline:
            row = self.http.get(f"/runs/{run_id}").json()
            if row["state"] in ("finished", "failed"):
                return None if row["verdict"] == "cancelled" else f"ended {row['verdict']}, not cancelled"
            time.sleep(0.2)
        return f"run {run_id} still {row['state']} 30 s after its stream closed"

    def cancelled(self) -> str | None:
        with self.http.stream("POST", "/runs", json={"code": SLEEPER}) as stream:
            run_id = stream.headers.get("x-run-id")
            if stream.status_code != 200 or not run_id:
                return f"{stream.status_code} {stream.read()[:200]!r}"
            last, deleted = None, False
            for line in stream.iter_lines():
                if not line:
                    continue
                last = json.loads(line)
                if last["event"] == "output" and not deleted:
                    deleted, answer = True, self.http.delete(f"/runs/{run_id}")
                    if answer.status_code != 202:
                        return f"DELETE: {answer.status_code} {answer.text[:200]}"
        if last is None or last["event"] != "finished" or last["verdict"] != "cancelled":
            return f"the stream ended with {last}"
        return None

    def malformed(self) -> str | None:
        answer = self.http.post("/run", content=b'{"code": "print(1)"', headers={"Content-Type": "application/json"})
        body = answer.json() if answer.headers.get("content-type", "").startswith("application/json") else {}
        if answer.status_code != 400 or "not valid JSON" not in body.get("error", "") or not body.get("fix"):
            return f"{answer.status_code} {answer.text[:200]}"
        return None

    MIX = ("hello", "timeout", "oom", "flood", "stream_closed", "cancelled", "malformed")


def client_loop(base: str, number: int, until: float, tally: Tally) -> None:
    client = Client(base, number)
    turn = number                          # each client starts the mix at its own place
    with client.http:
        while time.monotonic() < until:
            kind = Client.MIX[turn % len(Client.MIX)]
            turn += 1
            try:
                problem = getattr(client, kind)()
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            tally.count(kind, problem)


@dataclass
class Sample:
    at_s: float
    rss: int
    open_files: int
    runs: int
    held_bytes: int


def sample(base: str, pid: int, began: float, tally: Tally) -> Sample:
    try:
        held = httpx.get(f"{base}/health", timeout=30).json()["finished"]["bytes"]
    except (httpx.HTTPError, KeyError, ValueError):
        held = -1
    with tally.lock:
        runs = sum(tally.done.values())
    return Sample(time.monotonic() - began, rss_pss(pid)[0], len(os.listdir(f"/proc/{pid}/fd")), runs, held)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--every", type=float, default=10, help="seconds between samples (default 10)")
    args = parser.parse_args()

    api = connect()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    duration = args.minutes * 60
    warm_up = min(WARM_UP_S, duration / 3)
    tally = Tally()
    samples: list[Sample] = []
    with tempfile.TemporaryDirectory(prefix="tui-sandbox-soak-") as tmp:
        server = start_server(Path(tmp), port)
        try:
            print(f"soak: {args.clients} clients for {args.minutes:g} min against serve (pid {server.pid}); "
                  f"warm-up {warm_up:.0f} s; a sample every {args.every:g} s")
            print(f"  {'time':>7}  {'RSS':>10}  {'open files':>10}  {'runs':>6}  {'held (finished)':>15}")
            began = time.monotonic()
            until = began + duration
            pool = ThreadPoolExecutor(args.clients)
            clients = [pool.submit(client_loop, base, n, until, tally) for n in range(args.clients)]
            while True:
                now = sample(base, server.pid, began, tally)
                samples.append(now)
                print(f"  {now.at_s:6.0f}s  {mib(now.rss):>10}  {now.open_files:>10}  {now.runs:>6}  "
                      f"{mib(now.held_bytes) if now.held_bytes >= 0 else '?':>15}", flush=True)
                if all(c.done() for c in clients):
                    break
                time.sleep(max(1.0, min(args.every, until - time.monotonic())))   # then each second, to the end
            for c in clients:
                c.result()
            pool.shutdown()
            samples.append(sample(base, server.pid, began, tally))      # at the end, every client done
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(60)
        left = server_containers(api, server.pid)

    baseline = next(s for s in samples if s.at_s >= warm_up)
    end = samples[-1]
    growth, peak = end.rss / baseline.rss, max(s.rss for s in samples if s.at_s >= warm_up) / baseline.rss
    runs = sum(tally.done.values())
    print(f"\n{runs} requests in {end.at_s / 60:.1f} min: " + ", ".join(f"{k} {tally.done[k]}" for k in Client.MIX))
    print(f"  wrong answers: {len(tally.wrong)}")
    for problem in tally.wrong[:10]:
        print(f"    {problem}")
    print(f"  containers left after the server stopped: {len(left)}")
    print(f"  open files: {baseline.open_files} after warm-up, {end.open_files} at the end")
    print(f"  RSS: {mib(baseline.rss)} after warm-up ({baseline.at_s:.0f} s), {mib(end.rss)} at the end, "
          f"peak {peak:.2f}x")
    print(f"  RSS at the end / after warm-up: {growth:.2f}x (target {TARGET:.2f}x or less: "
          f"{'met' if growth <= TARGET else 'NOT met'})")
    return 0 if not tally.wrong and not left and growth <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
