"""One container on a Docker engine: created with every limit and hardening flag,
attached before it starts (so no byte of output is missed), read as Docker's
multiplexed stream, killed, and removed."""

from __future__ import annotations

import queue
import select
import socket
import struct
import threading

from ..backend import ExitFacts
from ..errors import ImageMissing, SandboxError
from ..events import Stream
from ..languages import CODE_DIR, Language
from ..limits import Limits
from ..protocol import CONTAINER_USER, INIT_CAPABILITIES, STREAMS
from ..runtimes import runtime
from .cleanup import LABEL, OWNER_LABEL, Removals
from .client import APIError, EngineClient, ImageNotFound
from .connection import RawStream
from .images import build_command
from .stats import DockerStatsFeed

HOSTNAME = "sandbox"
# Small enough to send before the program could fill a pipe the other way.
INLINE_INPUT_BYTES = 16 * 1024


class FrameSplitter:
    """Docker multiplexes stdout and stderr as [stream, 0, 0, 0, size32] + payload."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self._buffer += data
        frames = []
        while len(self._buffer) >= 8:
            stream, size = self._buffer[0], struct.unpack(">I", self._buffer[4:8])[0]
            if len(self._buffer) < 8 + size:
                break
            frames.append((stream, bytes(self._buffer[8:8 + size])))
            del self._buffer[:8 + size]
        return frames


class DockerContainer:
    def __init__(self, api: EngineClient, removals: Removals, *, image: str, language: Language, limits: Limits,
                 command: list[str], owner: str, host_pids: int, ulimits: list[dict[str, int | str]],
                 seccomp: str | None, sysctls: dict[str, str] | None = None) -> None:
        self._api, self._removals = api, removals
        self._runtime = runtime(limits.runtime)
        self._started = False
        self._ended = False
        self._released = False
        # Where the init sees the cgroup it reports everything Docker would, so Docker may
        # remove the container by itself as soon as it ends: nobody waits for that removal.
        self._auto_remove = self._runtime.guest_sees_cgroup
        self._killed = threading.Event()
        self._input_lock = threading.Lock()
        self._input_ended = False
        self._writer: queue.Queue[tuple[bytes, bool]] | None = None
        self._frames = FrameSplitter()
        self.host_stats: DockerStatsFeed | None = None
        self.id = self._create(image, language, limits, command, owner, host_pids, ulimits, seccomp, sysctls)
        try:
            self._sock: RawStream = self._api.attach_socket(self.id, params={"stdin": 1, "stdout": 1, "stderr": 1,
                                                                                   "stream": 1})
        except Exception:
            self.release()
            raise

    def _create(self, image: str, language: Language, limits: Limits, command: list[str], owner: str,
                host_pids: int, ulimits: list[dict[str, int | str]], seccomp: str | None,
                sysctls: dict[str, str] | None) -> str:
        host_config = {
            "Memory": limits.memory, "MemorySwap": limits.memory, "NanoCpus": int(limits.cpus * 1e9),
            "PidsLimit": host_pids, "NetworkMode": "bridge" if limits.network else "none",
            "ReadonlyRootfs": limits.read_only,
            "Tmpfs": {"/tmp": f"rw,exec,nosuid,nodev,size={limits.tmp_size},mode=1777"},
            "CapDrop": ["ALL"], "CapAdd": list(INIT_CAPABILITIES),
            "SecurityOpt": ["no-new-privileges"] + ([seccomp] if seccomp else []), "Ulimits": ulimits,
            "IpcMode": "none",                                    # no writable /dev/shm
            **({"Sysctls": sysctls} if sysctls else {}),
            "AutoRemove": self._auto_remove,
            "LogConfig": {"Type": "none", "Config": {}},          # output is read from the attach stream
            "Runtime": limits.runtime}
        environment = {"HOME": "/home/sandbox", "LANG": "C.UTF-8", "TERM": "dumb", **dict(language.env)}
        config = {
            "Image": image, "Cmd": command, "User": CONTAINER_USER, "WorkingDir": CODE_DIR,
            "Env": [f"{key}={value}" for key, value in environment.items()], "Hostname": HOSTNAME, "Tty": False,
            # Attached before it starts; Docker closes the program's stdin when we close
            # ours: end of file at once.
            "OpenStdin": True, "StdinOnce": True, "AttachStdin": True, "AttachStdout": True, "AttachStderr": True,
            # Network off: the container still gets a network namespace of its own with
            # only lo, but Docker skips libnetwork's sandbox and hook for it, which is
            # over half of its start (about 130 of 230 ms here). No /etc/hosts either:
            # the images resolve localhost with libnss-myhostname.
            "NetworkDisabled": not limits.network,
            "Labels": {LABEL: "1", OWNER_LABEL: owner, "tui-sandbox.language": language.name},
            "HostConfig": host_config}
        try:
            container_id: str = self._api.create_container(config)["Id"]
            return container_id
        except ImageNotFound:
            raise ImageMissing(f"the {language.name} runner image {image} is not built",
                               build_command()) from None
        except APIError as exc:
            raise SandboxError(f"Docker refused to create the container: {exc.explanation or exc}") from None

    # --- the Container protocol ------------------------------------------------------

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        try:
            self._api.start(self.id)
        except APIError as exc:
            raise SandboxError(f"Docker could not start the container: {exc.explanation or exc}") from None
        if not self._runtime.guest_sees_cgroup:
            # The guest cannot read the container's cgroup (gVisor): Docker's stream fills in.
            self.host_stats = DockerStatsFeed(self._api, self.id).start()

    @property
    def alive(self) -> bool:
        """Still waiting, as a spare must be: its init has not ended (nothing to read yet)."""
        try:
            readable, _, _ = select.select([self._sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    def send_input(self, data: bytes, end: bool = True) -> None:
        """Write to the init's standard input, in order; with end, end of file follows.
        A small first write goes at once; anything else goes through a writer thread, so
        a large input never blocks while nobody reads the output."""
        with self._input_lock:
            if self._input_ended:
                return
            self._input_ended = end
            if self._writer is None and len(data) <= INLINE_INPUT_BYTES:
                self._write(data, end)
                return
            if self._writer is None:
                self._writer = queue.Queue()
                threading.Thread(target=self._write_queued, args=(self._writer,), daemon=True,
                                 name="tui-sandbox-stdin").start()
            self._writer.put((data, end))

    def close_input(self) -> None:
        self.send_input(b"", end=True)

    def _write_queued(self, writes: queue.Queue[tuple[bytes, bool]]) -> None:
        while True:
            data, end = writes.get()
            if not self._write(data, end) or end:
                return

    def _write(self, data: bytes, end: bool) -> bool:
        """False once the other side is gone (the program ended without reading it all)."""
        sock, view = self._sock, memoryview(data)
        try:
            while view:
                try:
                    view = view[sock.send(view):]
                except BlockingIOError:   # the reader made the socket non-blocking
                    select.select([], [sock], [], 1.0)
            if end:
                sock.shutdown(socket.SHUT_WR)
            return True
        except OSError:
            return False

    def read(self, timeout: float) -> list[tuple[Stream, bytes]] | None:
        sock = self._sock
        sock.setblocking(False)
        if not getattr(sock, "pending", lambda: 0)():
            readable, _, _ = select.select([sock], [], [], timeout)
            if not readable:
                return []
        try:
            data = sock.recv(256 * 1024)
        except (BlockingIOError, InterruptedError):
            return []
        except OSError:
            data = b""
        if not data:
            return None
        return [(STREAMS[stream], payload) for stream, payload in self._frames.feed(data)
                if stream in STREAMS]

    def kill(self) -> None:
        if self._killed.is_set():
            return
        self._killed.set()

        def kill() -> None:
            try:
                self._api.kill(self.id)
            except Exception:  # noqa: BLE001 - already gone, or the engine went away (its init's deadline holds)
                pass

        threading.Thread(target=kill, daemon=True, name="tui-sandbox-kill").start()

    def exit_facts(self, init_reported: bool) -> ExitFacts:
        """The init's report comes after every process of the program is dead, so where it
        sees the cgroup there is nothing to wait for. gVisor's guest cannot see OOM kills: ask."""
        self._ended = True
        if init_reported and self._runtime.guest_sees_cgroup:
            return ExitFacts()
        exit_code = None
        try:
            exit_code = self._api.wait(self.id, timeout=30).get("StatusCode")
        except Exception:  # noqa: BLE001 - a wedged container is killed and removed anyway
            self.kill()
        try:
            state = self._api.inspect_container(self.id)["State"]
            return ExitFacts(exit_code=state.get("ExitCode", exit_code),
                             oom_killed=bool(state.get("OOMKilled")))
        except APIError:
            return ExitFacts(exit_code=exit_code)

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        sock = getattr(self, "_sock", None)       # None: the attach itself failed
        if sock is not None:
            sock.close()
        if self._started and self._ended and self._auto_remove:
            self._removals.expect(self.id)
        else:
            self._removals.submit(self.id)
