"""A backend for tests that need no engine: each container plays back a script of what
its init would write, and keeps what the run sent it.

    container = FakeContainer([out(b"hi\\n"), *finish(code=0)])
    sandbox = Sandbox(backend=FakeBackend(container), languages=dict(BUILTIN))
    result = sandbox.run("print('hi')", "python")

A script is a list of steps, played one per read(): a Write (one chunk, or several
together), a Pause, Hang (nothing more until killed), AwaitInput (until the program's
input holds some bytes) or Fail (read raises). The init's records are written as
runner/images/init.c frames them, with the nonce the run sent in its preamble; a record
may carry a nonce of its own, to play a program that forges one. When the script runs
out, or once the container is killed, both streams end (read returns None), as they do
when Docker's container is gone; test_fake_backend.py holds the records to init.c's.
`play` runs one script to its end; `engine_stats` stands for the engine's own figures.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from runner import BUILTIN, Sandbox
from runner.backend import ExitFacts, HostStats
from runner.docker.stats import DockerStatsFeed
from runner.info import EngineInfo
from runner.languages import Language
from runner.limits import Limits
from runner.units import GiB

# No step of a test should wait this long: a run that never ends fails, not hangs.
PATIENCE_S = 10.0


@dataclass(frozen=True)
class InitRecord:
    """One record as the init writes it: '\\x1e NONCE KIND key=value ...\\n'."""
    kind: str
    fields: tuple[tuple[str, object], ...] = ()
    nonce: str | None = None    # None: the nonce of the run's preamble

    def render(self, nonce: str) -> bytes:
        words = [self.kind, *(f"{key}={value}" for key, value in self.fields)]
        return b"\x1e" + (self.nonce or nonce).encode() + b" " + " ".join(words).encode() + b"\n"


def sample(t_ms: int, *, cpu_ns: int = -1, memory: int = -1, pids: int = -1, stdin_wait: int = -1,
           throttled_ns: int = -1, pids_refused: int = -1, nonce: str | None = None) -> InitRecord:
    """An S record (init.c's emit_sample): -1 is what the init writes for 'not known'."""
    return InitRecord("S", (("t_ms", t_ms), ("cpu_ns", cpu_ns), ("memory", memory), ("pids", pids),
                            ("stdin_wait", stdin_wait), ("throttled_ns", throttled_ns),
                            ("pids_refused", pids_refused)), nonce)


def end(phase: str = "run", *, code: int = 0, signal: int = 0, timed_out: int = 0, output_limited: int = 0,
        elapsed_ms: int = 0, cpu_ns: int = -1, memory: int = -1, peak: int = -1, oom_kills: int = 0,
        maxrss_kb: int = 0, rusage_cpu_ns: int = 0, throttled_ns: int = -1, pids_refused: int = -1,
        calls_watched: int = 0, net_watched: int = 0, files_watched: int = 0,
        nonce: str | None = None) -> InitRecord:
    """An E record (init.c's end_record). A signal means the program did not exit: the
    init then writes exited=0 and code=-1, whatever code says."""
    exited = 0 if signal else 1
    return InitRecord("E", (("phase", phase), ("exited", exited), ("code", code if exited else -1),
                            ("signal", signal), ("timed_out", timed_out), ("output_limited", output_limited),
                            ("elapsed_ms", elapsed_ms), ("cpu_ns", cpu_ns), ("memory", memory),
                            ("peak", peak), ("oom_kills", oom_kills), ("maxrss_kb", maxrss_kb),
                            ("rusage_cpu_ns", rusage_cpu_ns), ("throttled_ns", throttled_ns),
                            ("pids_refused", pids_refused), ("calls_watched", calls_watched),
                            ("net_watched", net_watched), ("files_watched", files_watched)), nonce)


def wall(call: str, count: int, t_ms: int = 0, nonce: str | None = None) -> InitRecord:
    """A W record (init.c's answer_watched and say_walls): a watched call refused."""
    return InitRecord("W", (("kind", "syscall"), ("call", call), ("errno", "EPERM"), ("count", count),
                            ("t_ms", t_ms)), nonce)


def network_wall(call: str, target: str, count: int, *, errno: str = "ENETUNREACH", exact: int = 0,
                 t_ms: int = 0, nonce: str | None = None) -> InitRecord:
    """A W record of kind network (init.c's net_wall and say_walls): a connection, a datagram
    or a name look-up while the network is off."""
    return InitRecord("W", (("kind", "network"), ("call", call), ("target", target), ("errno", errno),
                            ("exact", exact), ("count", count), ("t_ms", t_ms)), nonce)


def done(nonce: str | None = None) -> InitRecord:
    return InitRecord("D", (), nonce)


# --- the steps of a script -------------------------------------------------------------

@dataclass(frozen=True)
class Write:
    """What one read() returns: chunks of (stream, parts), each part bytes or a record."""
    chunks: tuple[tuple[str, tuple[bytes | InitRecord, ...]], ...]

    def render(self, nonce: str) -> list[tuple[str, bytes]]:
        return [(stream, b"".join(p if isinstance(p, bytes) else p.render(nonce) for p in parts))
                for stream, parts in self.chunks]


@dataclass(frozen=True)
class Pause:
    seconds: float


@dataclass(frozen=True)
class Hang:
    """Nothing more comes until the container is killed (a program that runs on)."""


@dataclass(frozen=True)
class AwaitInput:
    """Nothing more comes until the program's input holds these bytes, or has ended
    (data None: until it has ended)."""
    data: bytes | None = None


@dataclass(frozen=True)
class Fail:
    error: BaseException


def out(*parts: bytes | InitRecord) -> Write:
    return Write((("stdout", parts),))


def err(*parts: bytes | InitRecord) -> Write:
    return Write((("stderr", parts),))


def together(*writes: Write) -> Write:
    """Several chunks in one read, as one recv from Docker's socket can bring."""
    return Write(tuple(chunk for write in writes for chunk in write.chunks))


def finish(phase: str = "run", **fields) -> list[Write]:
    """The init's end of a run: its E record on stderr, then D on stdout and on stderr."""
    return [err(end(phase, **fields)), out(done()), err(done())]


# --- the container and the backend ------------------------------------------------------

def engine_stats(*, peak: int | None = None, memory: int | None = None, pids: int | None = None,
                 cpu_percent: float | None = None) -> DockerStatsFeed:
    """The engine's own figures, as Docker's stats stream holds them under gVisor (never
    started: these are its last frame's)."""
    feed = DockerStatsFeed(api=None, container_id="fake")
    feed.peak, feed.memory, feed.pids, feed.cpu_percent = peak, memory, pids, cpu_percent
    return feed


class FakeContainer:
    """Plays back one script. exit_code and oom_killed are what the engine says at the end;
    a container we killed with no exit code given exits 137, as a SIGKILLed one does.
    split: deliver every Write in chunks of at most this many bytes, one per read."""

    _ids = 0

    def __init__(self, script: list[Write | Pause | Hang | AwaitInput | Fail] | None = None, *,
                 exit_code: int | None = None, oom_killed: bool = False,
                 host_stats: HostStats | None = None, split: int | None = None,
                 start_error: BaseException | None = None) -> None:
        FakeContainer._ids += 1
        self.id = f"fake{FakeContainer._ids:04d}"
        self.host_stats = host_stats
        self._script = list(script or [])
        self._exit_code, self._oom_killed = exit_code, oom_killed
        self._split, self._start_error = split, start_error
        self._pending: list[list[tuple[str, bytes]]] = []
        self._step_began: float | None = None
        self._cond = threading.Condition()
        self._killed = threading.Event()
        # What the run did to it.
        self.starts = 0
        self.writes: list[tuple[bytes, bool]] = []   # send_input's (data, end), in order
        self.kills = 0
        self.releases = 0
        self.exit_facts_asked: list[bool] = []       # each call's init_reported
        self.reads = 0

    # --- what the run sent ------------------------------------------------------------

    @property
    def received(self) -> bytes:
        with self._cond:
            return b"".join(data for data, _ in self.writes)

    @property
    def preamble(self) -> bytes:
        """The header line the init reads first, 'NONCE SIZE', without its newline."""
        line, newline, _ = self.received.partition(b"\n")
        assert newline, "the run never sent the init its header"
        return line

    @property
    def nonce(self) -> str:
        return self.preamble.split(b" ")[0].decode()

    @property
    def source(self) -> bytes:
        return self._after_header()[0]

    @property
    def stdin(self) -> bytes:
        """The program's standard input: everything after the source."""
        return self._after_header()[1]

    def _after_header(self) -> tuple[bytes, bytes]:
        """(the source, the program's input), as the init splits them by the header's size."""
        header, _, rest = self.received.partition(b"\n")
        size = int(header.split(b" ")[1])
        return rest[:size], rest[size:]

    @property
    def input_ended(self) -> bool:
        with self._cond:
            return any(end for _, end in self.writes)

    @property
    def released(self) -> bool:
        return self.releases > 0

    # --- the Container protocol -------------------------------------------------------

    def start(self) -> None:
        self.starts += 1
        if self._start_error is not None:
            raise self._start_error

    def send_input(self, data: bytes, end: bool = True) -> None:
        with self._cond:
            self.writes.append((bytes(data), end))
            self._cond.notify_all()

    def close_input(self) -> None:
        self.send_input(b"", end=True)

    def kill(self) -> None:
        with self._cond:
            self.kills += 1
            self._killed.set()
            self._cond.notify_all()

    def exit_facts(self, init_reported: bool) -> ExitFacts:
        self.exit_facts_asked.append(init_reported)
        code = self._exit_code
        if code is None and self._killed.is_set():
            code = 137
        return ExitFacts(exit_code=code, oom_killed=self._oom_killed)

    def release(self) -> None:
        self.releases += 1

    def read(self, timeout: float) -> list[tuple[str, bytes]] | None:
        self.reads += 1
        deadline = time.monotonic() + timeout
        while not self._killed.is_set():
            if self._pending:
                return self._pending.pop(0)
            if not self._script:
                return None
            step = self._script[0]
            if isinstance(step, Write):
                self._pending = self._chunked(step.render(self.nonce))
            elif isinstance(step, Fail):
                self._script.pop(0)
                raise step.error
            elif not self._wait(step, deadline):
                return []
            self._script.pop(0)
            self._step_began = None
        return None

    def _chunked(self, chunks: list[tuple[str, bytes]]) -> list[list[tuple[str, bytes]]]:
        if not self._split:
            return [chunks]
        size = self._split
        return [[(stream, data[at:at + size])] for stream, data in chunks for at in range(0, len(data), size)]

    def _wait(self, step: Pause | Hang | AwaitInput, deadline: float) -> bool:
        """Wait for the step to be over, or a kill: False if the read's timeout came first."""
        now = time.monotonic()
        if self._step_began is None:
            self._step_began = now
        began = self._step_began
        assert now - began < PATIENCE_S, f"{step} waited {PATIENCE_S} s: the run never moved on"

        def over() -> bool:
            if self._killed.is_set():
                return True
            if isinstance(step, Pause):
                return time.monotonic() >= began + step.seconds
            if isinstance(step, AwaitInput):
                ended = any(end for _, end in self.writes)
                return ended or (step.data is not None and step.data in self._after_header()[1])
            return False

        wake = deadline if not isinstance(step, Pause) else min(deadline, began + step.seconds)
        with self._cond:
            return self._cond.wait_for(over, max(0.0, wake - now))


class FakeBackend:
    """Hands out the given containers in order, one per run."""

    def __init__(self, *containers: FakeContainer, check_error: BaseException | None = None,
                 container_error: BaseException | None = None) -> None:
        self.containers = list(containers)
        self.check_error, self.container_error = check_error, container_error
        self.asked, self.warmed, self.closed = [], [], 0

    def info(self) -> EngineInfo:
        return EngineInfo(product="Fake", name="Fake 1.0", cpus=2, memory_bytes=4 * GiB,
                          runtimes={"runc": []})

    def known_info(self) -> EngineInfo:
        return self.info()

    def check(self, limits: Limits) -> None:
        if self.check_error is not None:
            raise self.check_error
        limits.validate(self.info())

    def container(self, language: Language, limits: Limits) -> FakeContainer:
        self.asked.append((language, limits))
        if self.container_error is not None:
            raise self.container_error
        assert self.containers, "the test gave this backend fewer containers than it asked for"
        return self.containers.pop(0)

    def warm(self, language: Language, limits: Limits) -> None:
        self.warmed.append((language, limits))

    def wait_for_cleanup(self, timeout: float) -> bool:
        return True

    def close(self) -> None:
        self.closed += 1


# --- driving a run -----------------------------------------------------------------------

def fake_sandbox(*containers: FakeContainer, **backend_options) -> Sandbox:
    """A Sandbox on these containers, with the built-in languages (no user's config)."""
    return Sandbox(backend=FakeBackend(*containers, **backend_options), languages=dict(BUILTIN))


def play(script: list, source: str = "print(1)", language: str = "python", limits: Limits | None = None,
         stdin: str | bytes | None = None, **container_options) -> tuple[list, FakeContainer]:
    """Run one script to its end: (every event, the container it played in)."""
    container = FakeContainer(script, **container_options)
    run = fake_sandbox(container).start(source, language, limits, stdin)
    return list(run.events()), container
