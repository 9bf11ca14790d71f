"""The benchmark scripts still run end to end, at their smallest. Their figures are theirs
to print and compare within one run: nothing here asserts a time. What is asserted is
what makes a figure worth reading: each ran, every result was right, nothing was left."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def bench(script: str, *args: str) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def test_latency_bench_measures_every_path(sandbox):
    out = bench("latency.py", "--runs", "1", "--warmup", "0", "--walls-runs", "1")
    for row in ("bare docker run --rm", "engine, warm spare", "engine, cold", "tui-sandbox run (process)",
                "the program itself (inside)", "an idle spare holds", "warm target", "command target",
                "the cost of watching the walls", "the command's own CPU: 100,000 walls"):
        assert row in out, row
    # The cold path under every runtime the engine has registered, and where its time goes.
    for runtime in sandbox.info.runtimes:
        assert f"engine, cold, {runtime}" in out and f"time goes under {runtime}" in out, runtime


def test_service_bench_gets_every_result_right_and_leaves_nothing(sandbox):
    out = bench("service.py", "--sequential", "2", "--runs", "6", "--clients", "3")
    assert "POST /run (HTTP)" in out
    assert "wrong results 0, refused 0" in out
    assert "containers left after the server stopped: 0" in out


def test_classroom_bench_gets_every_result_right_and_leaves_nothing(sandbox):
    out = bench("classroom.py", "--students", "2", "--runs", "1", "--every", "1")
    assert "sessions connected 2" in out and "failed 0" in out
    assert "runs done 2 of 2" in out and "wrong results 0" in out
    assert "containers left of the server or its 2 app processes: 0" in out


def test_cluster_bench_measures_every_path_and_leaves_nothing(sandbox):
    out = bench("cluster.py", "--sequential", "2", "--runs", "6", "--clients", "3", "--broker-runs", "20")
    for row in ("bare docker run --rm", "POST /run, embedded serve", "POST /run, front+broker+worker",
                "cluster / embedded", "1 worker(s) of cap", "2 worker(s) of cap", "the broker's ceiling"):
        assert row in out, row
    assert out.count("wrong results 0, refused 0, in the history 6/6") == 2
    assert out.count("each worker's cap held") == 2
    assert "left afterwards: 0 containers, in the broker {'waiting': 0, 'live': 0, 'pending': 0}" in out
