"""Warm spares: containers created, attached and started ahead of need, each with its
init waiting for a program. A spare has never run anything, so a run that takes one
still gets a fresh container; it only skips Docker's create and start (most of a run).

A kind is one (language, limits) pair: a spare serves only a run of exactly its kind,
since limits cannot change on a running container. The pool keeps `per_kind` spares of
the `kinds` most recently wanted kinds and drops the rest."""

from __future__ import annotations

import threading
import time
from collections import Counter, OrderedDict
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
    """Spares are made concurrently, each by a worker thread of its own: a spare is mostly
    waiting on the engine (Docker's create and start, ~100 ms, most of it in dockerd,
    containerd and the runtime), so one at a time gives ~10 a second however idle the
    cores. What bounds the making is what bounds the spares: `per_kind` of one kind and
    `total` of all kinds, each counting the ready ones and those in the making, so at most
    `total` are ever being made and no more containers exist than the bounds allow."""

    def __init__(self, make: Callable[[KindT], SpareT], *, per_kind: int, kinds: int, max_age_s: float,
                 total: int | None = None) -> None:
        """max_age_s: a spare older than this is replaced, before its init stops waiting;
        total: the most spares of all kinds together, made or in the making."""
        self._make = make
        self.total = total
        self.max_age_s = max_age_s
        self.per_kind, self.kinds = per_kind, kinds
        self._spares: OrderedDict[KindT, list[tuple[float, SpareT]]] = OrderedDict()
        self._making: Counter[KindT] = Counter()
        self._cond = threading.Condition()
        self._closed = False
        self._workers: list[threading.Thread] = []
        self._retry_at = 0.0       # after a failure, no make starts before this (monotonic)
        self.failures = 0          # failures in a row

    @property
    def most_in_making(self) -> int:
        """How many may be made at once: as many as may exist."""
        room = self.per_kind * self.kinds
        return max(0, min(room, self.total) if self.total is not None else room)

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
            self._ensure_workers()
            self._cond.notify_all()
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
                self._cond.notify_all()
        for container in stale:
            container.release()
        return found

    def ids(self, kind: KindT) -> list[str]:
        """The container ids of this kind's ready spares, oldest first."""
        with self._cond:
            return [container.id for _, container in self._spares.get(kind, [])]

    def making(self) -> int:
        """How many spares are being made now."""
        with self._cond:
            return sum(self._making.values())

    def _ensure_workers(self) -> None:
        """Under the lock: a worker for each spare that may be in the making at once,
        started with the first want. A worker ends only at close (a make's failure is
        caught), so none is looked for dead: want() comes with every run a server takes."""
        while len(self._workers) < self.most_in_making:
            worker = threading.Thread(target=self._fill, daemon=True, name="tui-sandbox-spares")
            self._workers.append(worker)
            worker.start()

    def _next_job(self) -> tuple[KindT | None, list[SpareT]]:
        """Under the lock: a kind that needs a spare, after expiring old ones."""
        now = time.monotonic()
        expired: list[SpareT] = []
        for spares in self._spares.values():
            while spares and now - spares[0][0] >= self.max_age_s:
                expired.append(spares.pop(0)[1])
        making = sum(self._making.values())
        held = sum(map(len, self._spares.values())) + making
        if now < self._retry_at or (self.total is not None and held >= self.total):
            return None, expired
        if self.failures and making:    # after a failure, one try at a time until one works
            return None, expired
        for kind, spares in reversed(self._spares.items()):
            if len(spares) + self._making[kind] < self.per_kind:
                return kind, expired
        return None, expired

    def _fill(self) -> None:
        while True:
            with self._cond:
                kind, expired = self._next_job()
                while kind is None and not self._closed and not expired:
                    wait = self.max_age_s / 4
                    if self._retry_at > time.monotonic():
                        wait = min(wait, self._retry_at - time.monotonic())
                    self._cond.wait(timeout=wait)
                    kind, expired = self._next_job()
                if self._closed:
                    return
                if kind is not None:
                    self._making[kind] += 1
            for old in expired:
                old.release()
            if kind is not None:
                self._make_one(kind)

    def _make_one(self, kind: KindT) -> None:
        container: SpareT | None = None
        try:
            container = self._make(kind)
            if not self._closed:     # closed meanwhile: it goes without being started
                container.start()
        except Exception:  # noqa: BLE001 - a run without a spare makes its own and reports
            if container is not None:
                container.release()      # made, then it could not start (the engine went away)
            with self._cond:
                self._done_making(kind)
                self.failures += 1
                # The engine is away or refuses: back off, all workers together.
                self._retry_at = time.monotonic() + min(5.0, 0.1 * 2 ** min(self.failures, 6))
                self._cond.notify_all()
            return
        with self._cond:
            self._done_making(kind)
            self.failures = 0
            spares = self._spares.get(kind)
            if spares is not None and not self._closed and len(spares) < self.per_kind:
                spares.append((time.monotonic(), container))
                container = None
            self._cond.notify_all()
        if container is not None:   # no longer wanted while it was being made
            container.release()

    def _done_making(self, kind: KindT) -> None:
        """Under the lock. A kind is not kept once nothing of it is in the making: a
        server's life sees many kinds come and go."""
        self._making[kind] -= 1
        if self._making[kind] <= 0:
            del self._making[kind]

    def close(self) -> None:
        """Release every spare; a spare still in the making is released by its worker,
        which this waits for (up to 10 s in all)."""
        with self._cond:
            self._closed = True
            spares = [c for kind in self._spares.values() for _, c in kind]
            self._spares.clear()
            self._cond.notify_all()
            workers = list(self._workers)
        deadline = time.monotonic() + 10
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        for container in spares:
            container.release()
