"""A fair queue: each user has a line of their own, and the next run is taken from the
users in turn (round robin), so one user who submits fifty runs cannot starve another
who submits one. Bounded per user and in total: a full queue refuses, never waits."""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Generic, Iterator, TypeVar

T = TypeVar("T")


class QueueFull(Exception):
    """The whole queue is full: come back later."""


class UserQueueFull(Exception):
    """This user already has as many runs waiting as one user may."""


class FairQueue(Generic[T]):
    def __init__(self, per_user: int = 3, total: int = 100) -> None:
        self.per_user, self.total = per_user, total
        # user -> their waiting items; the order of users is the round robin's: the user
        # at the front is served next, then goes to the back if they still wait.
        self._lines: OrderedDict[str, deque[T]] = OrderedDict()
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def put(self, user: str, item: T) -> None:
        line = self._lines.get(user)
        if line is not None and len(line) >= self.per_user:
            raise UserQueueFull(f"{user} already has {len(line)} runs waiting (the most is {self.per_user})")
        if self._size >= self.total:
            raise QueueFull(f"the queue is full ({self._size} runs waiting)")
        if line is None:
            line = self._lines[user] = deque()
        line.append(item)
        self._size += 1

    def pop(self) -> T | None:
        """The next item in round-robin order, or None."""
        if not self._lines:
            return None
        user, line = next(iter(self._lines.items()))
        item = line.popleft()
        self._size -= 1
        del self._lines[user]
        if line:
            self._lines[user] = line     # to the back of the round
        return item

    def remove(self, user: str, item: T) -> bool:
        line = self._lines.get(user)
        if line is None or item not in line:
            return False
        line.remove(item)
        self._size -= 1
        if not line:
            del self._lines[user]
        return True

    def order(self) -> Iterator[T]:
        """Every waiting item in the order pop() would take them."""
        return round_robin([list(line) for line in self._lines.values()])

    def waiting(self, user: str) -> int:
        return len(self._lines.get(user, ()))


def round_robin(lines: list[list[T]]) -> Iterator[T]:
    """The items of lines (each user's, the next user's first) in the order a fair queue
    serves them: the first of each line in turn, then the second of each, and so on. The
    cluster's queue (in Redis) is read back in this same order."""
    depth = 0
    while True:
        taken = False
        for line in lines:
            if depth < len(line):
                taken = True
                yield line[depth]
        if not taken:
            return
        depth += 1
