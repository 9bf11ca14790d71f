"""Warm spares: containers created, attached and started ahead of need, each with its
init waiting for a program. A spare has never run anything, so a run that takes one
still gets a fresh container; it only skips Docker's create and start (most of a run).

A kind is one (language, limits) pair: a spare serves only a run of exactly its kind,
since limits cannot change on a running container. The pool keeps `per_kind` spares of
the `kinds` most recently wanted kinds and drops the rest."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Callable, Generic, Protocol, TypeVar


class Spare(Protocol):
    """What the pool needs of a container it keeps."""

    @property
    def id(self) -> str: ...

    @property
    def alive(self) -> bool: ...

    def start(self) -> None: ...

    def release(self) -> None: ...


KindT = TypeVar("KindT", bound=Hashable)
SpareT = TypeVar("SpareT", bound=Spare)


class SparePool(Generic[KindT, SpareT]):
    def __init__(self, make: Callable[[KindT], SpareT], *, per_kind: int, kinds: int, max_age_s: float,
                 total: int | None = None) -> None:
        """max_age_s: a spare older than this is replaced, before its init stops waiting;
        total: the most spares of all kinds together (a server keeps them within its cap)."""
        self._make = make
        self.total = total
        self.max_age_s = max_age_s
        self.per_kind, self.kinds = per_kind, kinds
        self._spares: OrderedDict[KindT, list[tuple[float, SpareT]]] = OrderedDict()
        self._cond = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None
        self.failures = 0

    def want(self, kind: KindT) -> None:
        """Keep spares of this kind from now on (it becomes the most recent kind)."""
        if self.per_kind <= 0:
            return
        dropped: list[SpareT] = []
        with self._cond:
            if self._closed:
                return
            self._spares.setdefault(kind, [])
            self._spares.move_to_end(kind)
            while len(self._spares) > self.kinds:
                _, old = self._spares.popitem(last=False)
                dropped += [container for _, container in old]
            self._ensure_thread()
            self._cond.notify()
        for container in dropped:
            container.release()

    def take(self, kind: KindT) -> SpareT | None:
        """A live spare of this kind, or None; its place is refilled in the background."""
        stale: list[SpareT] = []
        found: SpareT | None = None
        with self._cond:
            spares = self._spares.get(kind)
            while spares:
                made_at, container = spares.pop(0)
                if time.monotonic() - made_at < self.max_age_s and container.alive:
                    found = container
                    break
                stale.append(container)
            if spares is not None:
                self._spares.move_to_end(kind)
                self._cond.notify()
        for container in stale:
            container.release()
        return found

    def ids(self, kind: KindT) -> list[str]:
        """The container ids of this kind's ready spares, oldest first."""
        with self._cond:
            return [container.id for _, container in self._spares.get(kind, [])]

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._fill, daemon=True, name="tui-sandbox-spares")
            self._thread.start()

    def _next_job(self) -> tuple[KindT | None, list[SpareT]]:
        """Under the lock: a kind that needs a spare, after expiring old ones."""
        now = time.monotonic()
        expired: list[SpareT] = []
        for spares in self._spares.values():
            while spares and now - spares[0][0] >= self.max_age_s:
                expired.append(spares.pop(0)[1])
        if self.total is not None and sum(map(len, self._spares.values())) >= self.total:
            return None, expired
        for kind, spares in reversed(self._spares.items()):
            if len(spares) < self.per_kind:
                return kind, expired
        return None, expired

    def _fill(self) -> None:
        while True:
            with self._cond:
                kind, expired = self._next_job()
                while kind is None and not self._closed and not expired:
                    self._cond.wait(timeout=self.max_age_s / 4)
                    kind, expired = self._next_job()
                if self._closed:
                    return
            for old in expired:
                old.release()
            if kind is None:
                continue
            container: SpareT | None = None
            try:
                container = self._make(kind)
                container.start()
            except Exception:  # noqa: BLE001 - a run without a spare makes its own and reports
                if container is not None:
                    container.release()      # made, then it could not start (the engine went away)
                self.failures += 1
                time.sleep(min(5.0, 0.1 * 2 ** min(self.failures, 6)))
                continue
            self.failures = 0
            with self._cond:
                spares = self._spares.get(kind)
                if spares is not None and not self._closed and len(spares) < self.per_kind:
                    spares.append((time.monotonic(), container))
                    container = None
            if container is not None:   # no longer wanted while it was being made
                container.release()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            spares = [c for kind in self._spares.values() for _, c in kind]
            self._spares.clear()
            self._cond.notify_all()
        thread = self._thread
        if thread is not None:
            thread.join(10)
        for container in spares:
            container.release()
