"""The program's output on its way to the caller: cut at the output cap, decoded as
UTF-8 across chunk boundaries, kept for the result, and handed on in batches."""

from __future__ import annotations

import codecs
import time
from typing import Iterator

from .events import Output, Stream

# Output is handed on in batches: at most this often, or when this much has gathered.
BATCH_SECONDS = 0.05
BATCH_BYTES = 64 * 1024
STDERR_TAIL = 4096


class OutputBudget:
    """Adjacent pieces of the same stream leave as one event: a flood becomes a few large
    events, not millions. Past the cap, bytes are drained and dropped."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.used = 0
        self.limited = False
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.stderr_tail = ""
        self._pieces: list[tuple[Stream, str]] = []
        self._pending_bytes, self._since = 0, time.monotonic()
        # Bad bytes become U+FFFD rather than an error.
        self._decoders: dict[Stream, codecs.IncrementalDecoder] = {
            name: codecs.getincrementaldecoder("utf-8")(errors="replace") for name in ("stdout", "stderr")}

    def __bool__(self) -> bool:
        return bool(self._pieces)

    def take(self, stream: Stream, payload: bytes) -> bool:
        """Add a payload; True when this one crossed the output cap."""
        if not payload or self.limited:
            return False
        crossed = False
        room = self.cap - self.used
        if len(payload) > room:   # room may be 0: a chunk that filled it exactly came before
            payload, crossed = payload[:room], True
            self.limited = True
        self.used += len(payload)
        self._add(stream, self._decoders[stream].decode(payload))
        self._pending_bytes += len(payload)
        return crossed

    def _add(self, stream: Stream, text: str) -> None:
        if not text:
            return
        (self.stdout if stream == "stdout" else self.stderr).append(text)
        if stream == "stderr":
            self.stderr_tail = (self.stderr_tail + text)[-STDERR_TAIL:]
        if self._pieces and self._pieces[-1][0] == stream:
            self._pieces[-1] = (stream, self._pieces[-1][1] + text)
        else:
            self._pieces.append((stream, text))

    def due(self) -> bool:
        return bool(self._pieces) and (self._pending_bytes >= BATCH_BYTES
                                       or time.monotonic() - self._since >= BATCH_SECONDS)

    def flush(self, final: bool = False) -> Iterator[Output]:
        if final:
            for stream, decoder in self._decoders.items():
                self._add(stream, decoder.decode(b"", True))
        pieces, self._pieces = self._pieces, []
        self._pending_bytes, self._since = 0, time.monotonic()
        for stream, text in pieces:
            yield Output(stream, text)
