"""One run in one fresh container: create, put the code in, attach, start, stream,
decide, remove. `ContainerRun.events()` yields events as they happen; `cancel()` may
be called from any thread."""

from __future__ import annotations

import atexit
import os
import queue
import secrets
import select
import socket
import threading
import time
from typing import Iterator

import docker.errors
from docker.types import LogConfig, Ulimit

from .errors import ImageMissing, SandboxError
from .events import Event, Finished, Output, Phase, RunResult, Started
from .images import build_command
from .languages import CODE_DIR, Language
from .limits import Limits
from .stats import DockerStatsFeed, StatsTracker
from .stream import STREAMS as STREAM_NAMES, FrameSplitter, Record, RecordExtractor, TextDecoder
from .verdicts import Observed, decide, signal_name

INIT = "/opt/tui-sandbox/init"
SANDBOX_USER = "10001:10001"
LABEL = "tui-sandbox"
OWNER_LABEL = "tui-sandbox.owner"
SAMPLE_INTERVAL_MS = 250
COMPILE_TIMEOUT_S = 30.0
# The init enforces the deadline; the host kills too, this much later, in case it cannot.
HOST_GRACE_S = 5.0
# Output is handed on in batches: at most this often, or when this much has gathered.
BATCH_SECONDS = 0.05
BATCH_BYTES = 64 * 1024
STDERR_TAIL = 4096


class ContainerRun:
    def __init__(self, api, *, image: str, language: Language, source: bytes, limits: Limits,
                 stdin: bytes | None, owner: str, pids_for_runtime: int, extra_ulimits=()) -> None:
        self._api = api
        self._image = image
        self._language = language
        self._source = source
        self._limits = limits
        self._stdin = stdin or b""
        self._owner = owner
        self._pids = pids_for_runtime
        self._extra_ulimits = list(extra_ulimits)
        self._nonce = secrets.token_hex(16)
        self._cancelled = threading.Event()
        self._container_id: str | None = None
        self._killed = threading.Event()
        self.result: RunResult | None = None
        self._docker_stats: DockerStatsFeed | None = None

    # --- public ----------------------------------------------------------------------

    def cancel(self) -> None:
        """Stop the run: the container is killed, the result says cancelled."""
        self._cancelled.set()
        self._kill_async()

    def events(self) -> Iterator[Event]:
        try:
            yield from self._run()
        finally:
            self._remove()

    # --- the run -----------------------------------------------------------------------

    def _run(self) -> Iterator[Event]:
        limits, language = self._limits, self._language
        compile_argv, run_argv = language.commands(limits.memory)
        container_id = self._create(compile_argv, run_argv)
        sock, keepalive = self._attach(container_id)
        try:
            if self._cancelled.is_set():
                yield from self._finish(_Facts(), StatsTracker())
                return
            self._api.start(container_id)
            started_at = time.monotonic()
            if self._cancelled.is_set():
                # Cancelled between the check above and start: that kill found nothing
                # running, so kill again now that there is something to kill.
                self._killed.clear()
                self._kill_async()
            if limits.runtime != "runc":
                self._docker_stats = DockerStatsFeed(self._api, container_id).start()
            self._send_stdin(sock)
            yield Started(container_id, language.name, limits.runtime, limits)
            if compile_argv:
                yield Phase("compiling")
            facts, tracker = _Facts(), StatsTracker()
            facts.started_at = started_at
            host_deadline = started_at + limits.timeout + HOST_GRACE_S + (
                COMPILE_TIMEOUT_S if compile_argv else 0)
            yield from self._pump(sock, facts, tracker, host_deadline)
        finally:
            _close(sock)
            del keepalive
        self._wait_and_inspect(container_id, facts)
        yield from self._finish(facts, tracker)

    def _create(self, compile_argv: list[str], run_argv: list[str]) -> str:
        limits = self._limits
        command = [INIT, str(int(limits.timeout * 1000)), str(SAMPLE_INTERVAL_MS),
                   str(int(COMPILE_TIMEOUT_S * 1000)), self._language.source_path, str(len(compile_argv)),
                   *compile_argv, *run_argv]
        ulimits = [Ulimit(name="fsize", soft=limits.file_size, hard=limits.file_size),
                   Ulimit(name="nofile", soft=limits.open_files, hard=limits.open_files),
                   Ulimit(name="msgqueue", soft=0, hard=0),   # /dev/mqueue stays writable otherwise
                   Ulimit(name="core", soft=0, hard=0), *self._extra_ulimits]
        host_config = self._api.create_host_config(
            mem_limit=limits.memory, memswap_limit=limits.memory, nano_cpus=int(limits.cpus * 1e9),
            pids_limit=self._pids, network_mode="bridge" if limits.network else "none",
            read_only=limits.read_only,
            tmpfs={"/tmp": f"rw,exec,nosuid,nodev,size={limits.tmp_size},mode=1777"},
            cap_drop=["ALL"], security_opt=["no-new-privileges"], ulimits=ulimits,
            ipc_mode="none",                               # no writable /dev/shm
            log_config=LogConfig(type="none"),             # output is read from the attach stream
            runtime=limits.runtime)
        environment = {"HOME": "/home/sandbox", "LANG": "C.UTF-8", "TERM": "dumb",
                       **dict(self._language.env)}
        try:
            config = self._api.create_container_config(
                self._image, command, user=SANDBOX_USER, working_dir=CODE_DIR,
                environment=environment, stdin_open=True, tty=False, hostname="sandbox",
                host_config=host_config,
                labels={LABEL: "1", OWNER_LABEL: self._owner, "tui-sandbox.language": self._language.name})
            # Docker closes the program's stdin when we close ours: end of file at once.
            config["StdinOnce"] = True
            created = self._api.create_container_from_config(config)
        except docker.errors.ImageNotFound:
            raise ImageMissing(f"the {self._language.name} runner image {self._image} is not built",
                               build_command()) from None
        except docker.errors.APIError as exc:
            raise SandboxError(f"Docker refused to create the container: {exc.explanation or exc}") from None
        self._container_id = created["Id"]
        return created["Id"]

    def _attach(self, container_id: str):
        """Attached before start, so no byte of output can be missed."""
        response_socket = self._api.attach_socket(
            container_id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
        raw = getattr(response_socket, "_sock", response_socket)
        return raw, response_socket

    def _send_stdin(self, sock) -> None:
        """The code goes in through the API, never a host bind mount, so a remote engine
        works too: a header line, the source (the init seals it), then the program's own
        standard input. End of file follows at once, so a program that reads stdin never
        waits for more."""
        data = f"{self._nonce} {len(self._source)}\n".encode() + self._source + self._stdin

        def send() -> None:
            view = memoryview(data)
            try:
                while view:
                    try:
                        view = view[sock.send(view):]
                    except BlockingIOError:   # the pump made the socket non-blocking
                        select.select([], [sock], [], 1.0)
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the program ended without reading it all

        if len(data) <= 16 * 1024:
            send()
        else:  # a large input could fill the pipe while nobody reads the output
            threading.Thread(target=send, daemon=True, name="tui-sandbox-stdin").start()

    def _pump(self, sock, facts: "_Facts", tracker: StatsTracker,
              host_deadline: float) -> Iterator[Event]:
        frames = FrameSplitter()
        records = {1: RecordExtractor(self._nonce), 2: RecordExtractor(self._nonce)}
        done: set[int] = set()   # streams whose D record has come: nothing more will
        batch = _Batch(self._limits.output, facts)
        sock.setblocking(False)
        while True:
            if time.monotonic() > host_deadline and not self._killed.is_set():
                facts.timed_out = True
                self._kill_async()
            if not getattr(sock, "pending", lambda: 0)():
                readable, _, _ = select.select([sock], [], [], BATCH_SECONDS if batch else 0.5)
                if not readable:
                    yield from batch.flush()
                    continue
            try:
                data = sock.recv(256 * 1024)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            for stream_id, payload in frames.feed(data):
                if stream_id not in records:
                    continue
                payload, found = records[stream_id].feed(payload)
                for record in found:
                    if record.kind == "D":
                        done.add(stream_id)
                        continue
                    event = self._on_record(record, facts, tracker)
                    if event is not None:
                        yield from batch.flush()
                        yield event
                if batch.take(STREAM_NAMES[stream_id], payload):
                    self._kill_async()
            if not data or done == {1, 2}:
                # Both streams complete (or closed): what is held back is the program's.
                for stream_id, extractor in records.items():
                    payload, found = extractor.feed(b"", final=True)
                    for record in found:
                        if record.kind != "D":
                            self._on_record(record, facts, tracker)
                    batch.take(STREAM_NAMES[stream_id], payload)
                yield from batch.flush(final=True)
                return
            if batch.due():
                yield from batch.flush()

    def _on_record(self, record: Record, facts: "_Facts", tracker: StatsTracker) -> Event | None:
        if record.kind == "S":
            stats = tracker.sample(record)
            return self._docker_stats.fill(stats) if self._docker_stats else stats
        if record.kind != "E":
            return None
        facts.end = record
        if record.fields.get("phase") == "compile":
            if record.int("code") == 0 and not record.int("signal") and record.int("timed_out") == 0:
                tracker.reset()
                return Phase("running")
            facts.compile_failed = True
        return None

    def _wait_and_inspect(self, container_id: str, facts: "_Facts") -> None:
        """Ask Docker only what the init could not tell. Its report comes after every
        process of the program is dead, so under runc there is nothing to wait for."""
        if facts.end is not None and facts.end.int("oom_kills") is not None and self._limits.runtime == "runc":
            return
        try:
            status = self._api.wait(container_id, timeout=30)
            facts.container_exit = status.get("StatusCode")
        except Exception:  # noqa: BLE001 - a wedged container is killed and removed anyway
            self._kill_async()
        try:
            state = self._api.inspect_container(container_id)["State"]
            facts.docker_oom = bool(state.get("OOMKilled"))
            facts.container_exit = state.get("ExitCode", facts.container_exit)
        except docker.errors.APIError:
            pass

    def _finish(self, facts: "_Facts", tracker: StatsTracker) -> Iterator[Event]:
        end, limits = facts.end, self._limits
        if end is not None:
            exit_code, signal_number = end.int("code"), end.int("signal") or None
            duration = (end.int("elapsed_ms") or 0) / 1000
            peak = end.int("peak") or tracker.peak_memory
            cpu_ns = end.int("cpu_ns")
            timed_out = facts.timed_out or end.int("timed_out") == 1
            oom = (end.int("oom_kills") or 0) > 0 or facts.docker_oom
        else:
            # No report: we killed the container (output cap, host deadline, cancel) or the
            # sandbox itself died. Time it from here; a kill of ours is a SIGKILL, not an exit.
            exit_code, signal_number = facts.container_exit, None
            if self._killed.is_set() and exit_code == 137:
                exit_code, signal_number = None, 9
            duration = round(time.monotonic() - facts.started_at, 3) if facts.started_at else 0.0
            peak, cpu_ns, timed_out, oom = tracker.peak_memory, None, facts.timed_out, facts.docker_oom
        observed = Observed(
            exit_code=exit_code, signal_number=signal_number, timed_out=timed_out, oom_killed=oom,
            output_limited=facts.output_limited, cancelled=self._cancelled.is_set(),
            compile_failed=facts.compile_failed, stderr_tail=facts.stderr_tail,
            memory_limit=limits.memory, timeout=limits.timeout, output_limit=limits.output,
            no_report=end is None and not self._cancelled.is_set(),
            runtime=limits.runtime)
        if peak is None and self._docker_stats is not None:
            peak = self._docker_stats.peak
        verdict, reason = decide(observed)
        self.result = RunResult(
            verdict=verdict, exit_code=exit_code, signal=signal_name(signal_number), kill_reason=reason,
            output="".join(facts.stdout), error="".join(facts.stderr), duration_s=duration,
            peak_memory_bytes=peak, truncated=facts.output_limited, language=self._language.name,
            runtime=limits.runtime, limits=limits, compile_failed=facts.compile_failed,
            cpu_seconds=cpu_ns / 1e9 if cpu_ns is not None else None)
        yield Finished(self.result)

    # --- cleanup -----------------------------------------------------------------------

    def _kill_async(self) -> None:
        """Kill from another thread: the caller must go on draining output meanwhile, or
        Docker's kill can hang behind a full pipe."""
        container_id = self._container_id
        if container_id is None or self._killed.is_set():
            return
        self._killed.set()

        def kill() -> None:
            try:
                self._api.kill(container_id)
            except docker.errors.APIError:
                pass  # already gone

        threading.Thread(target=kill, daemon=True, name="tui-sandbox-kill").start()

    def _remove(self) -> None:
        if self._container_id is not None:
            REMOVALS.submit(self._api, self._container_id)



class _Removals:
    """Removes finished containers off the result's path: a run's result is known before
    Docker has removed its container (about 10 ms). The queue is drained at exit, and
    whatever a killed process could not remove, the next start's reaper does."""

    def __init__(self) -> None:
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        atexit.register(self.wait, 30)

    def submit(self, api, container_id: str) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, daemon=True, name="tui-sandbox-remove")
                self._thread.start()
        self._queue.put((api, container_id))

    def _work(self) -> None:
        while True:
            api, container_id = self._queue.get()
            try:
                api.remove_container(container_id, v=True, force=True)
            except docker.errors.APIError:
                pass  # gone already, or the reaper takes it: it carries our owner label
            finally:
                self._queue.task_done()

    def wait(self, timeout: float = 30) -> bool:
        """Block until every submitted container is removed; False if time ran out."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True


REMOVALS = _Removals()


class _Facts:
    """What the pump and the inspection learn, gathered for the verdict."""

    def __init__(self) -> None:
        self.timed_out = False
        self.output_limited = False
        self.compile_failed = False
        self.output_bytes = 0
        self.stderr_tail = ""
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.end: Record | None = None
        self.container_exit: int | None = None
        self.docker_oom = False
        self.started_at: float | None = None


class _Batch:
    """Output gathered between hand-overs, cut at the output cap. Adjacent pieces of the
    same stream leave as one event: a flood becomes a few large events, not millions."""

    def __init__(self, budget: int, facts: _Facts) -> None:
        self._budget, self._facts = budget, facts
        self._pieces: list[tuple[str, str]] = []
        self._bytes, self._since = 0, time.monotonic()
        self._decoders = {"stdout": TextDecoder(), "stderr": TextDecoder()}

    def __bool__(self) -> bool:
        return bool(self._pieces)

    def take(self, stream: str | None, payload: bytes) -> bool:
        """Add a payload; True when this one crossed the output cap."""
        facts = self._facts
        if stream is None or not payload or facts.output_limited:
            return False  # past the cap: keep draining, keep nothing
        crossed = False
        room = self._budget - facts.output_bytes
        if len(payload) > room:   # room may be 0: a chunk that filled it exactly came before
            payload, crossed = payload[:room], True
            facts.output_limited = True
        facts.output_bytes += len(payload)
        self._add(stream, self._decoders[stream].decode(payload))
        self._bytes += len(payload)
        return crossed

    def _add(self, stream: str, text: str) -> None:
        if not text:
            return
        facts = self._facts
        (facts.stdout if stream == "stdout" else facts.stderr).append(text)
        if stream == "stderr":
            facts.stderr_tail = (facts.stderr_tail + text)[-STDERR_TAIL:]
        if self._pieces and self._pieces[-1][0] == stream:
            self._pieces[-1] = (stream, self._pieces[-1][1] + text)
        else:
            self._pieces.append((stream, text))

    def due(self) -> bool:
        return bool(self._pieces) and (self._bytes >= BATCH_BYTES
                                       or time.monotonic() - self._since >= BATCH_SECONDS)

    def flush(self, final: bool = False) -> Iterator[Output]:
        if final:
            for stream, decoder in self._decoders.items():
                self._add(stream, decoder.decode(b"", final=True))
        pieces, self._pieces = self._pieces, []
        self._bytes, self._since = 0, time.monotonic()
        for stream, text in pieces:
            yield Output(stream, text)


def _close(sock) -> None:
    try:
        sock.close()
    except OSError:
        pass


def owner_label() -> str:
    """host:pid:start-time, so the reaper can tell a live owner from a dead one (and a
    reused pid from the original)."""
    return f"{socket.gethostname()}:{os.getpid()}:{process_start_ticks(os.getpid())}"


def process_start_ticks(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "?"
