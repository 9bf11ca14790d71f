#!/usr/bin/env python3
"""Hello-world latency: the engine in-process (what the app feels) and `tui-sandbox run`
as a whole process, each against a bare `docker run --rm` with the same flags, measured
in the same session, interleaved round by round so that load drifts hit all three alike.

    .venv/bin/python bench/latency.py [--runs 20] [--warmup 3]

Prints median and p90 of each and the ratios to the bare run (target: engine <= 0.85x),
then where the engine's time goes, from timing each Docker API call it makes."""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runner import Limits, Sandbox  # noqa: E402
from runner.images import image_ref  # noqa: E402

SOURCE = 'print("hello")\n'


def bare_command(limits: Limits) -> list[str]:
    """The same limits and hardening the engine applies, as docker CLI flags."""
    return ["docker", "run", "--rm", "-i", "--network", "none", "--read-only",
            "--tmpfs", f"/tmp:rw,exec,nosuid,nodev,size={limits.tmp_size}",
            "--memory", str(limits.memory), "--memory-swap", str(limits.memory),
            "--cpus", str(limits.cpus), "--pids-limit", str(limits.pids), "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges", "--user", "10001:10001", "--ipc", "none",
            "--ulimit", f"fsize={limits.file_size}", "--ulimit", f"nofile={limits.open_files}",
            "--ulimit", "msgqueue=0", "--ulimit", "core=0", "--log-driver", "none",
            image_ref("python"), "python3", "-c", SOURCE]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()

    sandbox = Sandbox()
    limits = Limits()
    calls: dict[str, list[float]] = defaultdict(list)
    for name in ("create_container_from_config", "attach_socket", "start", "wait", "inspect_container"):
        original = getattr(sandbox.api, name)

        def timed(*a, _original=original, _name=name, **k):
            t = time.perf_counter()
            try:
                return _original(*a, **k)
            finally:
                calls[_name].append(time.perf_counter() - t)
        setattr(sandbox.api, name, timed)

    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(SOURCE)
    cli = [str(ROOT / ".venv" / "bin" / "tui-sandbox"), "run", f.name, "--json"]
    if not Path(cli[0]).exists():
        cli = [sys.executable, "-m", "tui_sandbox", "run", f.name, "--json"]
    bare = bare_command(limits)

    def engine() -> None:
        result = sandbox.run(SOURCE, "python", limits)
        assert result.output == "hello\n", result

    def whole_process(command: list[str]) -> None:
        done = subprocess.run(command, capture_output=True, stdin=subprocess.DEVNULL)
        assert done.returncode == 0 and b"hello" in done.stdout, done

    startup = [sys.executable, "-c", "import tui_sandbox.cli, sys; "
               "assert not any(m.startswith('textual') for m in sys.modules)"]

    def python_startup() -> None:
        subprocess.run(startup, check=True, cwd=ROOT)

    measures = {"bare docker run --rm": lambda: whole_process(bare),
                "engine, in-process": engine,
                "tui-sandbox run (process)": lambda: whole_process(cli),
                "python start + CLI imports": python_startup}
    times: dict[str, list[float]] = defaultdict(list)
    for round_number in range(args.warmup + args.runs):
        for name, measure in measures.items():
            sandbox.wait_for_cleanup()   # no removal of the last run overlaps the next
            start = time.perf_counter()
            measure()
            if round_number >= args.warmup:
                times[name].append(time.perf_counter() - start)
        if round_number == args.warmup - 1:
            calls.clear()

    base = statistics.median(times["bare docker run --rm"])
    print(f"hello-world latency, {args.runs} runs after {args.warmup} warm-up, interleaved")
    print(f"{'':28} {'median':>9} {'p90':>9} {'ratio':>7}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:28} {median * 1000:7.0f}ms {percentile(values, 0.9) * 1000:7.0f}ms {median / base:6.2f}x")
    print("\nwhere the engine's time goes (median per run):")
    for name, values in calls.items():
        print(f"  {name:30} {statistics.median(values) * 1000:6.1f} ms  ({len(values)} calls)")
    print("  the rest: the program itself, the init, reading the stream, Python")
    extra = statistics.median(times["tui-sandbox run (process)"]) - statistics.median(times["engine, in-process"])
    print(f"the command's extra {extra * 1000:.0f} ms over the engine is mostly Python's start-up and imports "
          f"({statistics.median(times['python start + CLI imports']) * 1000:.0f} ms alone; no Textual is imported)")
    ratio = statistics.median(times["engine, in-process"]) / base
    print(f"\nengine target 0.85x or less: {'met' if ratio <= 0.85 else 'NOT met'} ({ratio:.2f}x)")
    Path(f.name).unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
