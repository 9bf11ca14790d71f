"""One run, the same under every backend: hand the program to a container's init,
read its output and records, keep the output within its cap, enforce the deadline from
outside too, and decide the verdict. `Run.events()` yields events as they happen;
`cancel()` may be called from any thread."""

from __future__ import annotations

import threading
import time
from typing import Callable, Iterator

from .backend import Container, ExitFacts
from .events import Blocked, Event, Finished, Phase, RunResult, Started, Stream
from .expected import judge
from .front import RunHandle
from .languages import Language
from .limits import Limits
from .output import BATCH_SECONDS, OutputBudget
from .protocol import Record, RecordExtractor, host_deadline_s, new_nonce, stdin_preamble
from .stats import StatsTracker
from .verdicts import Observed, decide, signal_name
from .walls import WallLedger

# The init enforces the deadline; the host kills too, this much later, in case it cannot.
HOST_GRACE_S = 5.0
# The init's E record says which of its watchers ran (init.c's end_record): the wall kinds
# this run could see besides the PID limit's.
WATCHED_BY_FIELD = {"calls_watched": "syscall", "net_watched": "network", "files_watched": "filesystem"}


class Run(RunHandle):
    def __init__(self, make_container: Callable[[], Container], *, language: Language, source: bytes,
                 limits: Limits, stdin: bytes | None = None, interactive: bool = False,
                 expected_output: str | None = None) -> None:
        self._make_container = make_container
        self._container: Container | None = None
        self._language = language
        self._source = source
        self._limits = limits
        self._stdin = stdin or b""
        # Interactive: the program's standard input stays open for send_input, until
        # close_input; otherwise it is `stdin` and then end of file at once.
        self._interactive = interactive
        self._expected_output = expected_output
        self._early_input: list[tuple[bytes, bool]] = []
        self._program_sent = False
        self._nonce = new_nonce()
        self._cancelled = threading.Event()
        self._killed = threading.Event()
        self._lock = threading.Lock()
        self._started = False
        self.result: RunResult | None = None

    def cancel(self) -> None:
        """Stop the run: the container is killed, the result says cancelled."""
        self._cancelled.set()
        with self._lock:
            if self._started:
                self._kill()

    def send_input(self, data: bytes | str) -> None:
        """More of the program's standard input (an interactive run only). Any thread."""
        self._input(data.encode("utf-8") if isinstance(data, str) else data, end=False)

    def close_input(self) -> None:
        """End of file on the program's standard input (ctrl+d). Any thread."""
        self._input(b"", end=True)

    def _input(self, data: bytes, end: bool) -> None:
        if not self._interactive:
            raise ValueError("this run's input was given whole at its start: it is not interactive")
        with self._lock:
            if not self._program_sent:
                self._early_input.append((data, end))   # sent right after the program
                return
        self._made.send_input(data, end)

    @property
    def _made(self) -> Container:
        """The run's container, for what happens only once _run has made it: the input
        after the program, reading, and a kill (from cancel only once started)."""
        assert self._container is not None, "the run's container is made first"
        return self._container

    def events(self) -> Iterator[Event]:
        try:
            yield from self._run()
        finally:
            if self._container is not None:
                self._container.release()

    # --- the run ---------------------------------------------------------------------

    def _run(self) -> Iterator[Event]:
        limits, language = self._limits, self._language
        self._container = self._make_container()
        if self._cancelled.is_set():
            yield from self._finish(_Facts(), StatsTracker(), OutputBudget(limits.output))
            return
        container = self._container
        container.start()
        with self._lock:
            # A cancel from here on finds something to kill; one that came just before
            # start saw nothing running, so it is carried out now.
            self._started = True
            if self._cancelled.is_set():
                self._kill()
        facts, tracker, budget = _Facts(), StatsTracker(), OutputBudget(limits.output)
        facts.started_at = time.monotonic()
        with self._lock:
            container.send_input(stdin_preamble(self._nonce, self._source) + self._stdin,
                                 end=not self._interactive)
            for data, end in self._early_input:
                container.send_input(data, end)
            self._early_input.clear()
            self._program_sent = True
        yield Started(container.id, language.name, limits.runtime, limits)
        if language.compile:
            yield Phase("compiling")
        host_deadline = facts.started_at + host_deadline_s(language, limits) + HOST_GRACE_S
        yield from self._pump(facts, tracker, budget, host_deadline)
        facts.exit = container.exit_facts(
            init_reported=facts.end is not None and facts.end.int("oom_kills") is not None)
        yield from self._finish(facts, tracker, budget)

    def _pump(self, facts: "_Facts", tracker: StatsTracker, budget: OutputBudget,
              host_deadline: float) -> Iterator[Event]:
        records: dict[Stream, RecordExtractor] = {"stdout": RecordExtractor(self._nonce),
                                                  "stderr": RecordExtractor(self._nonce)}
        done: set[str] = set()   # streams whose D record has come: nothing more will
        while True:
            if time.monotonic() > host_deadline and not self._killed.is_set():
                facts.timed_out = True
                self._kill()
            chunks = self._made.read(BATCH_SECONDS if budget else 0.5)
            ended = chunks is None
            for stream, payload in chunks or ():
                for piece in records[stream].feed(payload):
                    if isinstance(piece, bytes):
                        if budget.take(stream, piece):
                            self._kill()
                    elif piece.kind == "D":
                        done.add(stream)
                    elif events := self._on_record(piece, facts, tracker):
                        yield from budget.flush()
                        yield from events
            if ended or done == {"stdout", "stderr"}:
                # Both streams complete (or closed): what is held back is the program's.
                late: list[Event] = []
                for stream, extractor in records.items():
                    for piece in extractor.feed(b"", final=True):
                        if isinstance(piece, bytes):
                            budget.take(stream, piece)
                        elif piece.kind != "D":
                            late += self._on_record(piece, facts, tracker)
                yield from budget.flush(final=True)
                yield from (event for event in late if isinstance(event, Blocked))   # a wall is never left out
                return
            if not chunks or budget.due():
                yield from budget.flush()

    def _on_record(self, record: Record, facts: "_Facts", tracker: StatsTracker) -> list[Event]:
        """The events one of the init's records makes (none, or a few)."""
        if record.kind == "S":
            stats = tracker.sample(record)
            host = self._made.host_stats
            wall = facts.walls.forks_refused(record.int("pids_refused"), stats.elapsed_s)
            return [host.fill(stats) if host else stats, *([wall] if wall else [])]
        if record.kind == "W":
            fields = record.fields
            wall = facts.walls.reported(fields.get("kind"), fields.get("call"), fields.get("target", ""),
                                        fields.get("errno"), record.int("exact") != 0, record.int("count"),
                                        (record.int("t_ms") or 0) / 1000)
            return [wall] if wall else []
        if record.kind != "E":
            return []
        facts.walls.watched.update(kind for field, kind in WATCHED_BY_FIELD.items() if record.int(field))
        # The report's count is the last word: forks refused since the last sample.
        wall = facts.walls.forks_refused(record.int("pids_refused"), (record.int("elapsed_ms") or 0) / 1000)
        walls: list[Event] = [wall] if wall else []
        if record.fields.get("phase") == "compile":
            if record.int("code") == 0 and not record.int("signal") and record.int("timed_out") == 0:
                # Not the run's end: if the run's never comes, the run went unreported.
                tracker.reset()
                return [*walls, Phase("running")]
            facts.compile_failed = True
        facts.end = record
        return walls

    def _finish(self, facts: "_Facts", tracker: StatsTracker, budget: OutputBudget) -> Iterator[Event]:
        end, limits = facts.end, self._limits
        if end is not None:
            exit_code, signal_number = end.int("code"), end.int("signal") or None
            duration = (end.int("elapsed_ms") or 0) / 1000
            peak = end.int("peak") or tracker.peak_memory
            cpu_ns, throttled_ns = end.int("cpu_ns"), end.int("throttled_ns")
            if cpu_ns is None:   # no cgroup to read (gVisor): the program's own rusage
                cpu_ns = end.int("rusage_cpu_ns")
            maxrss_kb = end.int("maxrss_kb")
            if peak is None and maxrss_kb:
                peak = maxrss_kb * 1024
            timed_out = facts.timed_out or end.int("timed_out") == 1
            oom = (end.int("oom_kills") or 0) > 0 or facts.exit.oom_killed
            output_limited = budget.limited or end.int("output_limited") == 1
        else:
            # No report: we killed the container (output cap, host deadline, cancel) or the
            # sandbox itself died (gVisor's dies whole on OOM). Time it from here; a kill of
            # ours or the kernel's is a SIGKILL, not an exit.
            exit_code, signal_number = facts.exit.exit_code, None
            if exit_code == 137 and (self._killed.is_set() or facts.exit.oom_killed):
                exit_code, signal_number = None, 9
            duration = round(time.monotonic() - facts.started_at, 3) if facts.started_at else 0.0
            peak, cpu_ns, timed_out, oom = tracker.peak_memory, None, facts.timed_out, facts.exit.oom_killed
            throttled_ns = tracker.throttled_ns     # the last sample's: the best there is
            output_limited = budget.limited
        host = self._container.host_stats if self._container is not None else None
        if host is not None and host.peak is not None:
            peak = max(peak or 0, host.peak)
        if oom and end is None:
            # The whole sandbox was killed for memory before it could report (gVisor
            # dies whole): the kernel acts at the limit, so the peak was the limit, whatever
            # the last sample had caught.
            peak = max(peak or 0, limits.memory)
        observed = Observed(
            exit_code=exit_code, signal_number=signal_number, timed_out=timed_out, oom_killed=oom,
            output_limited=output_limited, cancelled=self._cancelled.is_set(),
            compile_failed=facts.compile_failed, stderr_tail=budget.stderr_tail,
            memory_limit=limits.memory, timeout=limits.timeout, output_limit=limits.output,
            no_report=end is None and not self._cancelled.is_set(), runtime=limits.runtime)
        verdict, reason = decide(observed)
        output = "".join(budget.stdout)
        checked = (judge(output, self._expected_output, verdict, reason)
                   if self._expected_output is not None else None)
        self.result = RunResult(
            verdict=verdict, exit_code=exit_code, signal=signal_name(signal_number), kill_reason=reason,
            output=output, error="".join(budget.stderr), duration_s=duration,
            peak_memory_bytes=peak, truncated=output_limited, language=self._language.name,
            runtime=limits.runtime, limits=limits, compile_failed=facts.compile_failed,
            cpu_seconds=cpu_ns / 1e9 if cpu_ns is not None else None,
            cpu_throttled_s=round(throttled_ns / 1e9, 3) if throttled_ns is not None else None,
            blocked=facts.walls.walls() if facts.walls.watched else None,
            walls_watched=tuple(sorted(facts.walls.watched)),
            passed=checked.passed if checked else None,
            first_difference=checked.first_difference if checked else None)
        yield Finished(self.result)

    def _kill(self) -> None:
        if not self._killed.is_set():
            self._killed.set()
            self._made.kill()


class _Facts:
    """What the pump and the engine learn, gathered for the verdict."""

    def __init__(self) -> None:
        self.timed_out = False
        self.compile_failed = False
        self.end: Record | None = None
        self.walls = WallLedger()
        self.exit = ExitFacts()
        self.started_at: float | None = None
