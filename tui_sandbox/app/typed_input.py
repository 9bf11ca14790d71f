"""What the learner types to a running program: sent to the run that takes it, held
while that run is still being set up, and noted per run so that its history row has
the input it was given."""

from __future__ import annotations

import threading
from typing import Callable

from runner import RunHandle, SandboxError


class TypedInput:
    """Thread-safe: the UI thread gives, the run's worker takes the run on and off."""

    def __init__(self, warn: Callable[[str], None]) -> None:
        self._warn = warn
        self._lock = threading.Lock()
        self._run: RunHandle | None = None            # the one that takes what the learner types
        self._pending: list[str | None] = []          # typed before that run existed; None: EOF
        self._typed: dict[RunHandle, list[str]] = {}  # what each run was sent, for the history

    def reset(self) -> None:
        """A new run: nothing typed yet, and no run takes it until one is attached."""
        with self._lock:
            self._pending = []
            self._run = None

    def attach(self, run: RunHandle) -> None:
        """This run takes the input from now on, starting with what was typed while it
        was being set up."""
        with self._lock:
            self._run = run
            pending, self._pending = self._pending, []
        for text in pending:
            self._deliver(run, text)

    def detach(self, run: RunHandle) -> None:
        with self._lock:
            if self._run is run:
                self._run = None
            self._typed.pop(run, None)

    def give(self, text: str | None) -> None:
        """A line typed (None: end of file), to the run, or held for the run being set up."""
        with self._lock:
            run = self._run
            if run is None:
                self._pending.append(text)
                return
        self._deliver(run, text)

    def given(self, run: RunHandle, stdin: str | bytes | None) -> str | bytes | None:
        """What the program was given to read: its prepared input, then what was typed."""
        with self._lock:
            typed = "".join(self._typed.get(run, ()))
        if not typed:
            return stdin
        return stdin + typed.encode("utf-8") if isinstance(stdin, bytes) else (stdin or "") + typed

    def _deliver(self, run: RunHandle, text: str | None) -> None:
        # Noted before it is sent: the program may read it and end at once, and its
        # history row is written as it ends.
        if text is not None:
            with self._lock:
                self._typed.setdefault(run, []).append(text)
        try:
            if text is None:
                run.close_input()
            else:
                run.send_input(text)
        except (ValueError, SandboxError, OSError) as exc:   # the run is over: nothing reads it
            self._warn(f"input not delivered: {exc!r}")
