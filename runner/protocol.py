"""The init's wire protocol, the same under every backend: how the init is told what to
run, what goes in on its standard input, and the records it writes among the program's
bytes. The init itself is runner/images/init.c; its header comment is the reference."""

from __future__ import annotations

import os
from dataclasses import dataclass

from .events import Stream
from .languages import Language
from .limits import Limits

INIT = "/opt/tui-sandbox/init"
SANDBOX_UID = 10001
# The init's own real (and saved) uid: not the program's, so the program can neither signal
# nor trace it on any runtime (init.c, leave_root). The container starts as root, with only
# the capabilities the init needs to get there, which it then drops, bounding set and all.
INIT_UID = 10000
CONTAINER_USER = "0:0"
INIT_CAPABILITIES = ("SETPCAP", "SETUID", "SETGID")
RECORD_START = b"\x1e"
STREAMS: dict[int, Stream] = {1: "stdout", 2: "stderr"}
SAMPLE_INTERVAL_MS = 250
COMPILE_TIMEOUT_S = 30.0
# A warm spare whose program never comes ends itself after this long.
SPARE_IDLE_S = 60.0
# With the network off, the init answers the program's name look-ups on 127.0.0.1:53 (an
# empty resolv.conf points there). Port 53 is privileged; this lowers the bar in the
# container's own network namespace, where nothing else listens and nothing leaves.
NETWORK_WATCH_SYSCTLS = {"net.ipv4.ip_unprivileged_port_start": "53"}


def new_nonce() -> str:
    return os.urandom(16).hex()


def init_command(language: Language, limits: Limits, *, process_limit: bool,
                 idle_s: float = SPARE_IDLE_S, watch: tuple[str, ...] = (),
                 watch_network: bool = False, watch_files: bool = False) -> list[str]:
    """The init's command line for one run of this language under these limits.
    process_limit: whether the init must also cap the uid's process count (RLIMIT_NPROC),
    for runtimes whose host-side PID limit cannot see the program's processes. watch: the
    calls the init refuses itself and reports as walls (the profile must let them through).
    watch_network: with the network off, the init reports connections and name look-ups as
    walls (the container must let it bind port 53: NETWORK_WATCH_SYSCTLS). watch_files: the
    init reports the changes to the filesystem the sandbox refuses as walls."""
    compile_argv, run_argv = language.commands(limits.memory)
    options = {
        "timeout_ms": int(limits.timeout * 1000),
        "compile_timeout_ms": int(COMPILE_TIMEOUT_S * 1000),
        "interval_ms": SAMPLE_INTERVAL_MS,
        "source": language.source_path,
        "idle_ms": int(idle_s * 1000),
        "output_bytes": limits.output,
        "fsize": limits.file_size,
        "nofile": limits.open_files,
        # The same count as the PIDs limit elsewhere, where the init is one of the pids:
        # the init is not of the program's uid, and gVisor lets a uid have one process
        # more than RLIMIT_NPROC (measured: nproc=N, the program and N children).
        "nproc": max(limits.pids - 2, 1) if process_limit else 0,
        "uid": SANDBOX_UID,
        "init_uid": INIT_UID,
        **({"watch": ",".join(watch)} if watch else {}),
        **({"net": "off"} if watch_network and not limits.network else {}),
        **({"files": "watch"} if watch_files else {}),
    }
    return [INIT, *(f"{key}={value}" for key, value in options.items()), "--",
            str(len(compile_argv)), *compile_argv, *run_argv]


def stdin_preamble(nonce: str, source: bytes) -> bytes:
    """What the init reads first: 'NONCE SIZE\\n', then the source, which it seals."""
    return f"{nonce} {len(source)}\n".encode() + source


def host_deadline_s(language: Language, limits: Limits) -> float:
    """How long after the program arrives the host may assume the init failed to end it."""
    return limits.timeout + (COMPILE_TIMEOUT_S if language.compile else 0.0)


@dataclass(frozen=True)
class Record:
    kind: str                     # "S" (a stats sample), "E" (a phase ended), "D" (a stream is done)
    fields: dict[str, str]

    def int(self, key: str) -> int | None:
        value = self.fields.get(key)
        try:
            number = int(value) if value is not None else None
        except ValueError:
            return None
        # The init writes -1 for "not known" (no such cgroup file, or not exited).
        return number if number is not None and number >= 0 else None


class RecordExtractor:
    """Splits one stream into the program's bytes and the init's nonce-tagged records.

    A record is one write by the init, so it is never interleaved inside, but it may
    arrive split across chunks: hold back a tail that could be the start of one."""

    def __init__(self, nonce: str) -> None:
        self._marker = RECORD_START + nonce.encode() + b" "
        self._pending = b""

    def feed(self, data: bytes, final: bool = False) -> list[bytes | Record]:
        """The program's bytes and the init's records, in the order they came: bytes the
        program wrote before a record belong before it (a compiler's warning before the
        end of the compile)."""
        buf = self._pending + data
        pieces: list[bytes | Record] = []
        while True:
            at = buf.find(self._marker)
            if at < 0:
                break
            end = buf.find(b"\n", at)
            if end < 0:
                if at:
                    pieces.append(buf[:at])
                buf = buf[at:]
                self._pending = b"" if final else buf
                if final:
                    pieces.append(buf)
                return pieces
            if at:
                pieces.append(buf[:at])
            pieces.append(_parse(buf[at + len(self._marker):end]))
            buf = buf[end + 1:]
        keep = 0 if final else _partial_marker_tail(buf, self._marker)
        if len(buf) > keep:
            pieces.append(buf[:len(buf) - keep])
        self._pending = buf[len(buf) - keep:]
        return pieces


def _partial_marker_tail(buf: bytes, marker: bytes) -> int:
    """Length of the longest tail of buf that is a proper prefix of marker."""
    start = buf.rfind(RECORD_START, max(0, len(buf) - len(marker)))
    if start >= 0 and marker.startswith(buf[start:]):
        return len(buf) - start
    return 0


def _parse(line: bytes) -> Record:
    words = line.decode("ascii", "replace").split()
    kind = words[0] if words else "?"
    fields = dict(w.split("=", 1) for w in words[1:] if "=" in w)
    return Record(kind, fields)
