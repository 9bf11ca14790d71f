"""The walls a program hits: each thing the sandbox refused it, folded and worded once for
every front.

A wall is a Blocked event (runner.events): its kind (network, filesystem, process or
syscall), the call, what it was aimed at, the errno the program got, whether that answer
is exact or predicted, when it was first hit and how often. Repeats of one wall fold into
one with a count, and a run keeps at most MAX_WALLS distinct ones, so a flood (a fork
bomb, a loop of a hundred thousand refused connects) stays a handful of lines.

What is watched depends on the runtime: the PID limit's refusals come from the pids
cgroup's own counter (exact), which the init reads wherever it can read its cgroup (not
under gVisor); refused calls, refused changes to the filesystem and, with the network
off, connections and name look-ups from the init's seccomp listener (not under gVisor
either). A target (a path, an address) is read from the program's memory as the call
began: the program's own claim, shown for what it is. A run's result lists the kinds it
watched, so an empty list is never read as "nothing was blocked" where nothing could be
seen."""

from __future__ import annotations

from .events import Blocked
from .limits import Limits

WALL_KINDS = ("network", "filesystem", "process", "syscall")
MAX_WALLS = 64


class WallLedger:
    """One run's walls, folded. Each method returns the wall as it now stands when it is
    new or its count moved (the event to send), else None."""

    def __init__(self) -> None:
        self._walls: dict[tuple[str, str, str, str], Blocked] = {}
        self.watched: set[str] = set()

    def forks_refused(self, total: int | None, at_s: float) -> Blocked | None:
        """The pids cgroup's count of refused forks so far (None: it cannot be read)."""
        if total is None:
            return None
        self.watched.add("process")
        if total <= 0:
            return None
        return self._count(Blocked(wall="process", call="fork", target="", errno="EAGAIN", exact=True,
                                   at_s=round(at_s, 3), count=total), total)

    def reported(self, kind: str | None, call: str | None, target: str, errno: str | None, exact: bool,
                 total: int | None, at_s: float) -> Blocked | None:
        """A wall the init saw (a W record): a call it refused itself (exact), a connection
        or a name look-up while the network is off, a change to the files the sandbox
        refused; its count so far."""
        if kind not in WALL_KINDS or not call or not total:
            return None
        return self._count(Blocked(wall=kind, call=call, target=target, errno=errno or "EPERM", exact=exact,
                                   at_s=round(at_s, 3), count=total), total)

    def _count(self, wall: Blocked, total: int) -> Blocked | None:
        key = (wall.wall, wall.call, wall.target, wall.errno)
        known = self._walls.get(key)
        if known is None:
            if len(self._walls) >= MAX_WALLS:
                return None
            self._walls[key] = wall
            return wall
        if total <= known.count:
            return None
        self._walls[key] = moved = Blocked(**{**known.__dict__, "count": total})
        return moved

    def walls(self) -> tuple[Blocked, ...]:
        return tuple(sorted(self._walls.values(), key=lambda wall: wall.at_s))


def describe(wall: Blocked, limits: Limits) -> str:
    """One line for a wall, the same in every front:
    'process  fork  blocked (EAGAIN): the PID limit of 64  ×51'."""
    why = {
        "process": f"the PID limit of {limits.pids}",
        "network": "the network is off",
        "filesystem": "the root is read-only" if wall.errno == "EROFS" else "not the sandbox user's to change",
        "syscall": "the sandbox's policy refuses it",
    }.get(wall.wall, "refused")
    target = f"  {wall.target}" if wall.target else ""
    # A predicted errno is the kernel's answer as the init expects it (it let the call go on).
    errno = wall.errno if wall.exact else f"{wall.errno}, predicted"
    times = f"  ×{wall.count}" if wall.count > 1 else ""
    return f"{wall.wall}  {wall.call}{target}  blocked ({errno}): {why}{times}"


def not_watched(runtime: str) -> str:
    """What a front says where a run's walls could not be seen (its result's blocked is None)."""
    return f"walls not observable under {runtime}"


def count_line(blocked: tuple[Blocked, ...] | None) -> str:
    """'2 walls hit, 53 times' for a banner or a summary; '' when none was (or none could be seen)."""
    if not blocked:
        return ""
    times = sum(wall.count for wall in blocked)
    walls = f"{len(blocked)} wall{'s' if len(blocked) > 1 else ''} hit"
    return walls if times == len(blocked) else f"{walls}, {times:,} times"
