#!/usr/bin/env python3
"""The service under load, measured against a bare `docker run --rm` in the same session.

1. Sequential hello world: `POST /run` over HTTP (the service keeps warm spares) against
   a bare `docker run --rm` with the same flags, interleaved (target: 0.3x or less).
2. Throughput: 200 short runs from 20 concurrent clients, each its own user, with the
   default cap: runs per second, every result correct, the number of runs executing
   never above the cap (the service's own count, polled every 250 ms) nor Docker's
   running containers above the cap plus the warm spares (followed from Docker's event
   stream: docker_events.py), and no container left afterwards. Then the same phase again
   under perf (cpu_parts.py, when perf is installed and allowed), for the CPU each part used
   per run (Docker's daemons, the runtime, the server, the programs, the bench's own
   clients) and the cores' idle share: perf's own sampling is not in the first figure.

    .venv/bin/python bench/service.py [--sequential 20] [--runs 200] [--clients 20] [--runtime crun]

The server is `tui-sandbox serve` on 127.0.0.1 and a free port, with a temporary
history; it is stopped (SIGTERM) at the end."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from cpu_parts import CpuProfile  # noqa: E402
from docker_events import RunningContainers  # noqa: E402
from latency import bare_command, percentile  # noqa: E402

from runner import Limits  # noqa: E402
from runner.docker.backend import connect  # noqa: E402
from runner.docker.cleanup import LABEL, OWNER_LABEL  # noqa: E402

HELLO = 'print("hello")\n'
MIB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data: Path, port: int) -> subprocess.Popen:
    """`tui-sandbox serve` answering on the port. Its output goes to data/server.log: a
    pipe nobody reads would fill, and stop it, in a long run."""
    data.mkdir(parents=True, exist_ok=True)
    log = data / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "tui-sandbox"), "serve", "--host", "127.0.0.1", "--port", str(port),
             "--history", str(data / "history.sqlite3")],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "XDG_DATA_HOME": str(data)})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    server.wait(10)
    raise SystemExit(f"the server did not answer: {log.read_text(errors='replace')[-2000:]}")


def rss_pss(pid: int) -> tuple[int, int | None]:
    """Bytes: VmRSS from status; Pss from smaps_rollup (None when not readable)."""
    rss, pss = 0, None
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) * 1024
    except OSError:
        return 0, None
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss, pss


def mib(n: float | None) -> str:
    return "n/a" if n is None else f"{n / MIB:.1f} MiB"


def owner_prefix(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}:"


def server_containers(api, pid: int) -> list[dict]:
    return [c for c in api.containers(all=True, filters={"label": LABEL})
            if (c.get("Labels") or {}).get(OWNER_LABEL, "").startswith(owner_prefix(pid))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sequential", type=int, default=20)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--runtime", help="the runtime the runs ask for (default: the server's)")
    args = parser.parse_args()
    asked = {"runtime": args.runtime} if args.runtime else {}

    api = connect()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="tui-sandbox-bench-") as tmp:
        server = start_server(Path(tmp), port)
        # Followed from before the server makes its first container.
        docker_running = RunningContainers(owner_prefix(server.pid))
        try:
            docker_running.open()
            health = httpx.get(f"{base}/health").json()
            cap = health["queue"]["cap"] if "queue" in health else health.get("cap")
            client = httpx.Client(base_url=base, timeout=60)
            bare = bare_command(Limits())
            if args.runtime:
                bare[2:2] = ["--runtime", args.runtime]

            def post_run() -> float:
                began = time.perf_counter()
                answer = client.post("/run", json={"code": HELLO, **asked})
                elapsed = time.perf_counter() - began
                assert answer.status_code == 200 and answer.json()["output"] == "hello\n", answer.text
                return elapsed

            def bare_run() -> float:
                began = time.perf_counter()
                done = subprocess.run(bare, capture_output=True, stdin=subprocess.DEVNULL)
                elapsed = time.perf_counter() - began
                assert done.returncode == 0 and done.stdout == b"hello\n", done
                return elapsed

            for _ in range(3):          # warm-up: the first runs make the spares
                post_run()
                time.sleep(0.3)
            http_times, bare_times = [], []
            for _ in range(args.sequential):
                time.sleep(0.3)         # a spare is made between runs, as between a learner's runs
                http_times.append(post_run())
                bare_times.append(bare_run())
            if http_times:      # --sequential 0: the throughput alone
                http_median, bare_median = statistics.median(http_times), statistics.median(bare_times)
                print(f"sequential hello world, {args.sequential} each, interleaved")
                print(f"  bare docker run --rm   {bare_median * 1000:7.1f} ms median, "
                      f"{percentile(bare_times, 0.9) * 1000:7.1f} ms p90")
                print(f"  POST /run (HTTP)       {http_median * 1000:7.1f} ms median, "
                      f"{percentile(http_times, 0.9) * 1000:7.1f} ms p90   {http_median / bare_median:.2f}x "
                      f"(target 0.3x or less: {'met' if http_median / bare_median <= 0.3 else 'NOT met'})")

            # Throughput: every client its own user, one request at a time.
            peaks = {"executing": 0}
            stop_polling = threading.Event()

            def poll() -> None:
                # /health asks the engine for its images each time: every 250 ms, not 20,
                # so that the bench's own asking stays out of what it measures.
                with httpx.Client(base_url=base, timeout=10) as poller:
                    while not stop_polling.wait(0.25):
                        queue = poller.get("/health").json().get("queue", {})
                        peaks["executing"] = max(peaks["executing"], queue.get("running", 0))

            poller = threading.Thread(target=poll, daemon=True)
            poller.start()
            wrong: list[str] = []
            refused: list[int] = []

            def one_client(number: int) -> None:
                # The standard library's client over one kept-alive connection: a quarter of
                # httpx's CPU a request (1.6 against 7 ms a run), on the server's own two cores.
                mine = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                headers = {"Content-Type": "application/json", "X-Sandbox-User": f"student{number}"}
                try:
                    for i in range(number, args.runs, args.clients):
                        mine.request("POST", "/run", json.dumps({"code": f"print({i} * 2)", **asked}), headers)
                        answer = mine.getresponse()
                        body = answer.read()
                        if answer.status != 200:
                            refused.append(answer.status)
                        elif json.loads(body)["output"] != f"{i * 2}\n":
                            wrong.append(body.decode(errors="replace"))
                finally:
                    mine.close()

            def phase(profile: CpuProfile | None) -> tuple[float, float, tuple[float, float] | None, float]:
                """All the runs from all the clients: (began, ended, the quiet sample, load)."""
                quiet = None
                if profile is not None and profile.start():   # perf's start-up, then what others use
                    time.sleep(0.5)
                    quiet = (time.monotonic(), time.monotonic() + 1.5)
                    time.sleep(1.5)
                load = os.getloadavg()[0]
                docker_running.count(True)
                began = time.monotonic()
                try:
                    with ThreadPoolExecutor(args.clients) as pool:
                        list(pool.map(one_client, range(args.clients)))
                except BaseException:
                    if profile is not None:
                        profile.discard()   # perf record -a must not outlive the bench
                    raise
                ended = time.monotonic()
                docker_running.count(False)
                if profile is not None:
                    profile.stop()
                return began, ended, quiet, load

            # The figure comes from a phase nobody watches; perf record -a costs a few per
            # cent of the cores, so the CPU by part comes from a second, identical phase.
            began, ended, _, load = phase(None)
            time.sleep(2)      # the spares the first phase used are made again
            profile = CpuProfile({server.pid: "the server", os.getpid(): "the bench's clients"})
            p_began, p_ended, quiet, _ = phase(profile)
            stop_polling.set()
            poller.join()
            elapsed = ended - began
            spares = max(0, docker_running.peak - cap)
            print(f"\nthroughput: {args.runs} runs from {args.clients} clients, cap {cap} "
                  f"(load average before it {load:.2f}, a shared machine's noise)")
            print(f"  {args.runs / elapsed:.1f} runs/s ({elapsed:.1f} s), wrong results {len(wrong)}, "
                  f"refused {len(refused)}")
            print(f"  runs executing at once, at most {peaks['executing']} (cap {cap}); Docker's running "
                  f"containers at most {docker_running.peak} (the cap plus {spares} warm spares)")
            print(f"  the same phase again under perf record: {args.runs / (p_ended - p_began):.1f} runs/s")
            print("\n".join(profile.report(p_began, p_ended, args.runs, quiet)))
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(60)
            docker_running.close()
        left = server_containers(api, server.pid)
        print(f"  containers left after the server stopped: {len(left)}")
        return 0 if not wrong and not refused and not left and peaks["executing"] <= cap else 1


if __name__ == "__main__":
    sys.exit(main())
