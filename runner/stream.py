"""Reading a container's attach stream: Docker's 8-byte frame headers, then the
init's records pulled out of stderr so that only the program's bytes remain."""

from __future__ import annotations

import codecs
import struct
from dataclasses import dataclass

RECORD_START = b"\x1e"
STREAMS = {1: "stdout", 2: "stderr"}


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


@dataclass(frozen=True)
class Record:
    kind: str                     # "S" (a stats sample) or "E" (a phase ended)
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
    """Splits stderr into the program's bytes and the init's nonce-tagged records.

    A record is one write by the init, so it is never interleaved inside, but it may
    arrive split across frames: hold back a tail that could be the start of one."""

    def __init__(self, nonce: str) -> None:
        self._marker = RECORD_START + nonce.encode() + b" "
        self._pending = b""

    def feed(self, data: bytes, final: bool = False) -> tuple[bytes, list[Record]]:
        buf = self._pending + data
        program = bytearray()
        records: list[Record] = []
        while True:
            at = buf.find(self._marker)
            if at < 0:
                break
            end = buf.find(b"\n", at)
            if end < 0:
                program += buf[:at]
                buf = buf[at:]
                self._pending = b"" if final else buf
                if final:
                    program += buf
                return bytes(program), records
            program += buf[:at]
            records.append(_parse(buf[at + len(self._marker):end]))
            buf = buf[end + 1:]
        keep = 0 if final else _partial_marker_tail(buf, self._marker)
        program += buf[:len(buf) - keep]
        self._pending = buf[len(buf) - keep:]
        return bytes(program), records


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


class TextDecoder:
    """UTF-8 across chunk boundaries; bad bytes become U+FFFD rather than an error."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def decode(self, data: bytes, final: bool = False) -> str:
        return self._decoder.decode(data, final)
