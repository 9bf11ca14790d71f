"""Where a phase's CPU goes, by part of the stack, from a system-wide perf sample.

    profile = CpuProfile({server.pid: "server", os.getpid(): "bench's clients"})
    profile.start()                  # False (and says why) when perf is missing or refused
    began = time.monotonic(); ...; ended = time.monotonic()
    print("\\n".join(profile.report(began, ended, runs)))

`perf record -a -F 997 -k CLOCK_MONOTONIC` samples every core 997 times a second, the
idle task included ("swapper"), with CLOCK_MONOTONIC timestamps: only the samples taken
between the phase's own begin and end count, so perf's start-up and the teardown after
the phase do not. Each sample is 1/997 s of one core's time."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

FREQUENCY = 997

IDLE = "idle"
OTHER = "other"
DAEMONS = "Docker's daemons"
RUNTIME = "the runtime"
PROGRAMS = "the programs"

# A process is named by its command (comm, at most 15 characters) unless its pid is given.
# Docker's daemons: dockerd, containerd and its shim (containerd-shim-runc-v2, cut to 15).
# The runtime: runc and the stages of its container's first process (runc:[0:PARENT],
# runc:[1:CHILD], runc:[2:INIT] until it executes the init), crun, gVisor's runsc*.
# The programs: what runs inside the containers, the init (/opt/tui-sandbox/init) and the
# program (the benches run python3 in the containers; the host's own Pythons run as
# "python", and the bench and the server are counted by pid). Anything else (the kernel's
# threads, perf itself, other people's work on a shared machine) is "other".
COMM_PARTS = {"dockerd": DAEMONS, "containerd": DAEMONS, "containerd-shim": DAEMONS, "docker-proxy": DAEMONS,
              "runc": RUNTIME, "crun": RUNTIME, "init": PROGRAMS, "python3": PROGRAMS, "swapper": IDLE}
COMM_PREFIX_PARTS = (("containerd-shim", DAEMONS), ("runc:[", RUNTIME), ("runsc", RUNTIME))


def part_of(comm: str) -> str:
    if comm in COMM_PARTS:
        return COMM_PARTS[comm]
    for prefix, part in COMM_PREFIX_PARTS:
        if comm.startswith(prefix):
            return part
    return OTHER


class CpuProfile:
    def __init__(self, parts_by_pid: dict[int, str]) -> None:
        """parts_by_pid: processes counted as a part of their own, whatever their comm
        (their threads too: perf reports the process's pid)."""
        self.parts_by_pid = parts_by_pid
        self._dir = Path(tempfile.mkdtemp(prefix="tui-sandbox-perf-"))
        self._data = self._dir / "perf.data"
        self._perf: subprocess.Popen | None = None
        self.unavailable: str | None = None

    def start(self) -> bool:
        if shutil.which("perf") is None:
            self.unavailable = "perf is not installed (apt-get install linux-perf): no CPU table"
            return False
        self._perf = subprocess.Popen(
            ["perf", "record", "-a", "-q", "-F", str(FREQUENCY), "-k", "CLOCK_MONOTONIC", "-o", str(self._data)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return True

    def stop(self) -> None:
        if self._perf is None:
            return
        self._perf.send_signal(signal.SIGINT)
        try:
            _, err = self._perf.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self._perf.kill()
            _, err = self._perf.communicate()
        if self._perf.returncode not in (0, -signal.SIGINT) or not self._data.exists():
            self.unavailable = f"perf record failed: {err.decode(errors='replace').strip()[-300:]}"

    def discard(self) -> None:
        """Stop perf and remove its data, with no table (the phase failed)."""
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def samples(self, began: float, ended: float) -> Counter[tuple[str, str]]:
        """(part, comm) -> samples taken between began and ended (time.monotonic())."""
        done = subprocess.run(["perf", "script", "-i", str(self._data), "-F", "comm,pid,time"],
                              capture_output=True, text=True, errors="replace")
        counts: Counter[tuple[str, str]] = Counter()
        for line in done.stdout.splitlines():
            # "<comm, which may hold spaces> <pid> <seconds>:"
            head, _, stamp = line.rstrip().rstrip(":").rpartition(" ")
            comm, _, pid = head.strip().rpartition(" ")
            try:
                when, process = float(stamp), int(pid)
            except ValueError:
                continue
            if began <= when <= ended:
                comm = comm.strip()
                counts[(self.parts_by_pid.get(process) or part_of(comm), comm)] += 1
        return counts

    def report(self, began: float, ended: float, runs: int,
               quiet: tuple[float, float] | None = None) -> list[str]:
        """The table: each part's CPU per run, in ms, and the cores' idle share. quiet: a
        while before the phase with the service idle, whose busy share says how much of
        the machine others were using (the table counts processes by name, theirs too)."""
        try:
            if self.unavailable or self._perf is None:
                return [f"  CPU by part: {self.unavailable or 'not measured'}"]
            counts = self.samples(began, ended)
            before = self.samples(*quiet) if quiet else None
        finally:
            shutil.rmtree(self._dir, ignore_errors=True)
        by_part: Counter[str] = Counter()
        for (part, _), n in counts.items():
            by_part[part] += n
        total = sum(by_part.values())
        if not total:
            return ["  CPU by part: perf took no samples in the phase"]
        cores = os.cpu_count() or 1
        ms_per_run = 1000 / FREQUENCY / max(runs, 1)
        lines = [f"  CPU by part over the phase ({total} samples on {cores} cores at {FREQUENCY} Hz; "
                 f"{total / FREQUENCY / cores / (ended - began):.0%} of the expected were taken):"]
        order = [DAEMONS, RUNTIME, *dict.fromkeys(self.parts_by_pid.values()), PROGRAMS, OTHER]
        for part in order:
            # A comm under 0.05 ms a run is left out: perf names a thread it saw no comm for
            # ":-1", which would read as a part of its own.
            top = [(comm, n) for comm, n in Counter({comm: n for (p, comm), n in counts.items()
                                                     if p == part}).most_common(4) if n * ms_per_run >= 0.05]
            detail = "   (" + ", ".join(f"{comm} {n * ms_per_run:.1f}" for comm, n in top) + ")" if top else ""
            lines.append(f"    {part:<20} {by_part[part] * ms_per_run:6.1f} ms a run  "
                         f"{by_part[part] / total:5.1%} of the cores{detail}")
        lines.append(f"    {IDLE:<20} {by_part[IDLE] * ms_per_run:6.1f} ms a run  "
                     f"{by_part[IDLE] / total:5.1%} of the cores idle")
        if before:
            busy = Counter({comm: n for (part, comm), n in before.items() if part != IDLE})
            top = ", ".join(f"{comm} {n / sum(before.values()):.0%}" for comm, n in busy.most_common(3))
            lines.append(f"  before the phase, the service idle: {sum(busy.values()) / sum(before.values()):.0%} "
                         f"of the cores busy ({top}): others' work, on a shared machine, counts above too")
        return lines
