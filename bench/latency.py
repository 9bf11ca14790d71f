#!/usr/bin/env python3
"""Hello-world latency, each against a bare `docker run --rm` with the same flags, all
measured in the same session and interleaved round by round so that load drifts hit
them alike:

- the engine in-process from a warm spare (what the app feels; target <= 0.25x),
- the engine in-process with a fresh container made for the run (the cold path), under
  each runtime the engine has registered (runc, and runsc, crun, ... where they are),
- `tui-sandbox run` as a whole process (target <= 0.8x),
- Python's start-up with what `run` imports (the CLI and the Docker backend) alone,
- the cost of watching the walls: the same programs with the init watching (the policy's
  calls, the network, the filesystem) and without (our profile handed over as a custom
  one, under which the init watches nothing), a hello world and an import-heavy program
  (target: within 1.05x), and 1,000 files written to /tmp (each open seen, no wall), and the
  command's own CPU for a program that hits a wall 100,000 times against a hello
  world's (target: within 2x).

    .venv/bin/python bench/latency.py [--runs 20] [--warmup 3] [--walls-runs 15]

Prints median and p90 of each and the ratios to the bare run, the program's own run
time inside the container (the floor), where the cold path's time goes under each
runtime (each Docker API call timed), and the memory an idle spare holds."""

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

from runner import BUILTIN, Limits, Sandbox  # noqa: E402
from runner.docker.images import image_ref  # noqa: E402
from runner.runtimes import ordered  # noqa: E402

SOURCE = 'print("hello")\n'


def bare_command(limits: Limits) -> list[str]:
    """The same limits and hardening the engine applies, as docker CLI flags. With the
    network off the engine also tells Docker to skip its network set-up (the container
    still gets a namespace of its own with only lo), which the docker CLI cannot say:
    that is most of why the cold path is quicker than this."""
    return ["docker", "run", "--rm", "-i", "--network", "none", "--read-only",
            "--tmpfs", f"/tmp:rw,exec,nosuid,nodev,size={limits.tmp_size}",
            "--memory", str(limits.memory), "--memory-swap", str(limits.memory),
            "--cpus", str(limits.cpus), "--pids-limit", str(limits.pids), "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges", "--user", "10001:10001", "--ipc", "none",
            "--ulimit", f"fsize={limits.file_size}", "--ulimit", f"nofile={limits.open_files}",
            "--ulimit", "msgqueue=0", "--ulimit", "core=0", "--log-driver", "none",
            image_ref(BUILTIN["python"]), "python3", "-c", SOURCE]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--walls-runs", type=int, default=15, help="rounds of the watching-cost runs (0: skip)")
    args = parser.parse_args()

    limits = Limits()
    cold_box, warm_box = Sandbox(), Sandbox()
    api = cold_box.backend.api
    runtimes = ordered(cold_box.info.runtimes)
    cold_runtime: list[str | None] = [None]    # whose cold run is being timed now
    calls: dict[tuple[str, str], list[float]] = defaultdict(list)
    # The calls on a cold run's path, and only there: waiting for Docker's auto-removal
    # happens between rounds, untimed. A runc run never waits for its exit (the init
    # reports it); a runtime whose guest cannot see its cgroup (gVisor) waits and inspects.
    for name in ("create_container", "attach_socket", "start", "wait", "inspect_container"):
        original = getattr(api, name)

        def timed(*a, _original=original, _name=name, **k):
            t = time.perf_counter()
            try:
                return _original(*a, **k)
            finally:
                if cold_runtime[0]:
                    calls[(cold_runtime[0], _name)].append(time.perf_counter() - t)
        setattr(api, name, timed)

    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(SOURCE)
    cli = [str(ROOT / ".venv" / "bin" / "tui-sandbox"), "run", f.name, "--json"]
    if not Path(cli[0]).exists():
        cli = [sys.executable, "-m", "tui_sandbox", "run", f.name, "--json"]
    bare = bare_command(limits)
    program_times: list[float] = []
    kind = (warm_box.language("python"), warm_box.check(limits))     # spares are kept by the runtime that runs

    def in_process(box: Sandbox, run_limits: Limits = limits) -> None:
        result = box.run(SOURCE, "python", run_limits)
        assert result.output == "hello\n", result
        if run_limits == limits:
            program_times.append(result.duration_s)

    def cold(runtime: str):
        def measure() -> None:
            cold_runtime[0] = runtime
            try:
                in_process(cold_box, limits.with_(runtime=runtime))
            finally:
                cold_runtime[0] = None
        return measure

    def whole_process(command: list[str]) -> None:
        done = subprocess.run(command, capture_output=True, stdin=subprocess.DEVNULL)
        assert done.returncode == 0 and b"hello" in done.stdout, done

    startup = [sys.executable, "-c", "import tui_sandbox.cli, runner.docker.backend, sys; "
               "assert not any(m.startswith(('textual', 'fastapi', 'requests')) for m in sys.modules)"]

    def python_startup() -> None:
        subprocess.run(startup, check=True, cwd=ROOT)

    def ready_spare() -> None:
        """Untimed: the spare is made between runs, as it is while a learner reads."""
        warm_box.warm("python", limits)
        deadline = time.monotonic() + 30
        while not warm_box.backend.spares.ids(kind):
            if time.monotonic() > deadline:
                raise SystemExit("no warm spare within 30 s")
            time.sleep(0.002)

    measures = {"bare docker run --rm": (None, lambda: whole_process(bare)),
                "engine, warm spare": (ready_spare, lambda: in_process(warm_box)),
                **{f"engine, cold, {runtime}": (None, cold(runtime)) for runtime in runtimes},
                "tui-sandbox run (process)": (None, lambda: whole_process(cli)),
                "python start + run's imports": (None, python_startup)}
    times: dict[str, list[float]] = defaultdict(list)
    for round_number in range(args.warmup + args.runs):
        for name, (prepare, measure) in measures.items():
            cold_box.wait_for_cleanup()   # no removal of the last run overlaps the next
            warm_box.wait_for_cleanup()
            if prepare:
                prepare()
            start = time.perf_counter()
            measure()
            if round_number >= args.warmup:
                times[name].append(time.perf_counter() - start)
        if round_number == args.warmup - 1:
            calls.clear()
            program_times.clear()

    base = statistics.median(times["bare docker run --rm"])
    print(f"hello-world latency, {args.runs} runs after {args.warmup} warm-up, interleaved")
    print(f"{'':28} {'median':>9} {'p90':>9} {'ratio':>7}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:28} {median * 1000:7.1f}ms {percentile(values, 0.9) * 1000:7.1f}ms {median / base:6.2f}x")
    print(f"{'the program itself (inside)':28} {statistics.median(program_times) * 1000:7.1f}ms"
          "            (the floor: python3 printing hello, timed by the init)")
    for runtime in runtimes:
        print(f"\nwhere the cold path's time goes under {runtime} (median per run):")
        for (of, name), values in calls.items():
            if of == runtime:
                print(f"  {name:30} {statistics.median(values) * 1000:6.1f} ms  ({len(values)} calls)")
    print("  the rest: the program itself, the init, reading the stream, Python")

    ready_spare()
    spare_id = warm_box.backend.spares.ids(kind)[0]
    memory = (api.stats(spare_id, stream=False).get("memory_stats") or {})
    inactive = (memory.get("stats") or {}).get("total_inactive_file", 0)
    print(f"\nan idle spare holds {((memory.get('usage') or 0) - inactive) / 1024:.0f} KiB "
          "(docker stats' memory: usage less inactive file cache)")

    warm = statistics.median(times["engine, warm spare"]) / base
    command = statistics.median(times["tui-sandbox run (process)"]) / base
    print(f"\nwarm target 0.25x or less: {'met' if warm <= 0.25 else 'NOT met'} ({warm:.2f}x)")
    print(f"command target 0.8x or less: {'met' if command <= 0.8 else 'NOT met'} ({command:.2f}x)")
    cold_box.close()
    warm_box.close()
    Path(f.name).unlink()
    if args.walls_runs:
        watching_cost(args.walls_runs)
    return 0


IMPORTS = "import json, email, http.client, asyncio\nprint('hello')\n"
# Watched but no wall: 1,000 files written where writing is allowed (each open is seen).
WRITES = "for i in range(1000):\n    open(f'/tmp/f{i}', 'w').close()\nprint('hello')\n"
FLOOD = ("import ctypes\nlibc = ctypes.CDLL(None)\nfor _ in range(100_000):\n"
         "    libc.unshare(0x10000000)\nprint('hello')\n")


def run_command(path: Path, env: dict) -> tuple[dict, float, float]:
    """`tui-sandbox run --json` once: its result, its wall time, and its own CPU seconds."""
    import json
    import os

    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "tui_sandbox", "run", str(path), "--json"], cwd=ROOT,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    out = child.stdout.read()
    _, _, usage = os.wait4(child.pid, 0)
    child.stdout.close()
    result = json.loads(out)
    assert result["verdict"] == "ok", result
    return result, time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def watching_cost(rounds: int) -> None:
    import json
    import os

    from runner.docker.seccomp import profile

    folder = Path(tempfile.mkdtemp(prefix="tui-sandbox-walls-"))
    ours = folder / "ours.json"
    ours.write_text(json.dumps(profile()))
    programs = {"hello": SOURCE, "imports": IMPORTS, "writes": WRITES, "flood": FLOOD}
    for name, text in programs.items():
        (folder / f"{name}.py").write_text(text)
    modes = {"watching": {k: v for k, v in os.environ.items() if k != "TUI_SANDBOX_SECCOMP"},
             "not watching": {**os.environ, "TUI_SANDBOX_SECCOMP": str(ours)}}
    inside: dict[tuple[str, str], list[float]] = defaultdict(list)
    whole: dict[tuple[str, str], list[float]] = defaultdict(list)
    cpu: dict[str, list[float]] = defaultdict(list)
    for round_number in range(rounds + 1):          # the first round warms up, untimed
        for mode, env in modes.items():
            for name in ("hello", "imports", "writes"):
                result, wall, _ = run_command(folder / f"{name}.py", env)
                if round_number:
                    inside[mode, name].append(result["duration_s"])
                    whole[mode, name].append(wall)
        for name in ("hello", "flood"):
            result, _, used = run_command(folder / f"{name}.py", modes["watching"])
            if name == "flood":
                assert [wall["count"] for wall in result["blocked"]] == [100_000], result["blocked"]
            if round_number:
                cpu[name].append(used)
    print(f"\nthe cost of watching the walls, {rounds} rounds, interleaved (median):")
    print(f"{'':22} {'inside, on':>11} {'off':>9} {'ratio':>7} {'whole, on':>11} {'off':>9} {'ratio':>7}")
    for name in ("hello", "imports", "writes"):
        on_in, off_in = (statistics.median(inside[mode, name]) for mode in modes)
        on_all, off_all = (statistics.median(whole[mode, name]) for mode in modes)
        print(f"{name:22} {on_in * 1000:9.1f}ms {off_in * 1000:7.1f}ms {on_in / off_in:6.2f}x "
              f"{on_all * 1000:9.1f}ms {off_all * 1000:7.1f}ms {on_all / off_all:6.2f}x")
    flood, hello = statistics.median(cpu["flood"]), statistics.median(cpu["hello"])
    print(f"the command's own CPU: 100,000 walls {flood:.3f} s, a hello world {hello:.3f} s: {flood / hello:.2f}x "
          f"(target 2x or less: {'met' if flood / hello <= 2 else 'NOT met'})")
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()


if __name__ == "__main__":
    sys.exit(main())
