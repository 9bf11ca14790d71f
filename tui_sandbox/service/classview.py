"""GET /class: the class as the teacher sees it, live.

What runs and waits comes from the service's jobs (each running one's last Stats sample
gives its time and memory); what has ended comes from the history, two aggregate queries;
who is connected comes from the class's roster, when a class runs with this server
(`serve --ssh` and/or `--web`: server.py puts the roster's `seated` on
app.state.class_sessions, and the fronts that run on app.state.class_fronts).

The live part is read on the event loop (the jobs change there); only the queries go to
a thread.
"""

from __future__ import annotations

import asyncio
import time
from typing import Callable, Iterable, Protocol

from runner import Started, Stats

from ..history.store import UserTally
from .interface import Service
from .job import Job
from .models import ClassConnected, ClassRunning, ClassStudent, ClassTotals, ClassView, ClassWorker, QueueHealth
from .requests import Refused


class Session(Protocol):
    """One student's session, as the class's roster keeps it (classroom.roster.Seat)."""
    student: str
    front: str          # "ssh" or "web"
    peer: str           # the address they connect from

    @property
    def since(self) -> float: ...     # Unix time it began


# What server.py's class_sessions gives: every session now, in the order they began.
Sessions = Callable[[], Iterable[Session]]


class NotTheTeacher(Refused):
    status = 403


def refuse_unless_teacher() -> NotTheTeacher:
    return NotTheTeacher("only the teacher may see the whole class",
                         "use the token of the user named teacher (serve --token teacher=TOKEN)")


def last_stats(job: Job) -> Stats | None:
    """The job's latest sample: its memory and time now, or None before the first."""
    for event in reversed(job.log):
        if isinstance(event, Stats):
            return event
    return None


def _language(job: Job, service: Service) -> str:
    for event in job.log:
        if isinstance(event, Started):
            return event.language
    try:
        return service.sandbox.language(job.request.language).name
    except Exception:  # noqa: BLE001 - a language the table no longer has: its name as asked
        return job.request.language


def _running(job: Job, service: Service, now: float) -> ClassRunning:
    stats = last_stats(job)
    since_start = max(0.0, now - job.started_at) if job.started_at else 0.0
    return ClassRunning(id=job.id, language=_language(job, service), started_at=job.started_at,
                        elapsed_s=round(max(since_start, stats.elapsed_s if stats else 0.0), 3),
                        memory_bytes=stats.memory_bytes if stats else None,
                        cpu_percent=round(stats.cpu_percent, 1) if stats and stats.cpu_percent is not None else None)


async def class_view(service: Service, sessions: Sessions | None, since: float | None,
                     fronts: tuple[str, ...] = ()) -> ClassView:
    """fronts: the class's fronts that run with this server ("ssh", "web")."""
    now = time.time()
    since = service.started_at if since is None else since
    # On the loop: the jobs, the queue and the sessions, as they are at this moment.
    live = [job for job in service.jobs.values() if not job.done]
    running = sorted((job for job in live if job.state == "running"), key=lambda j: j.started_at or now)
    queued = {job.request.user: service.queue.waiting(job.request.user) for job in live if job.state == "queued"}
    connected = [ClassConnected(user=session.student, front=session.front, address=session.peer,
                                since=session.since)
                 for session in (sessions() if sessions is not None else ())]
    status = QueueHealth(**service.status())
    running_now = {job.id: _running(job, service, now) for job in running}
    # In a thread: the history's two queries. A live run's row may already be written (just
    # before its end is told): it counts once, as live.
    live_ids = [job.id for job in live]
    if service.history is not None:
        totals, tallies = await asyncio.to_thread(
            lambda: (service.history.totals(since=since, exclude=live_ids),
                     service.history.by_user(since=since, exclude=live_ids)))
    else:
        totals, tallies = _from_jobs(service, since)

    by_user = {tally.user: tally for tally in tallies}
    live_count: dict[str, int] = {}
    for job in live:
        live_count[job.request.user] = live_count.get(job.request.user, 0) + 1
    runs_of: dict[str, list[Job]] = {}
    for job in running:
        runs_of.setdefault(job.request.user, []).append(job)
    fronts_of: dict[str, set[str]] = {}
    for entry in connected:
        fronts_of.setdefault(entry.user, set()).add(entry.front)
    students = []
    for user in sorted(set(by_user) | set(live_count) | set(fronts_of)):
        tally = by_user.get(user)
        mine = runs_of.get(user, [])
        students.append(ClassStudent(
            user=user, connected=user in fronts_of, fronts=sorted(fronts_of.get(user, ())),
            running=running_now[mine[0].id] if mine else None,
            running_count=len(mine), queued=queued.get(user, 0),
            last_verdict=tally.last_verdict if tally else None,
            last_kill_reason=tally.last_kill_reason if tally else None,
            runs=(tally.runs if tally else 0) + live_count.get(user, 0),
            timeouts=tally.timeouts if tally else 0, oom_kills=tally.oom_kills if tally else 0,
            walls=tally.walls if tally else {}))
    class_walls: dict[str, int] = {}
    for tally in tallies:
        for kind, times in tally.walls.items():
            class_walls[kind] = class_walls.get(kind, 0) + times
    return ClassView(connected=connected, students=students, queue=status,
                     totals=ClassTotals(runs=sum(totals.values()) + len(live), timeouts=totals.get("timeout", 0),
                                        oom_kills=totals.get("oom", 0), by_verdict=totals, walls=class_walls),
                     ssh="ssh" in fronts, web="web" in fronts, since=since, now=now,
                     workers=_workers(service))


def _workers(service: Service) -> list[ClassWorker]:
    """A cluster's front (cluster.front.ClusterService) knows its workers; one host has none."""
    known = getattr(service, "workers", None) or {}
    return [ClassWorker(name=name, running=int(w.get("running", 0)), cap=int(w.get("cap", 0)), up=bool(w.get("up")),
                        host=w.get("host"), runtimes=list(w.get("runtimes") or ()))
            for name, w in sorted(known.items())]


def _from_jobs(service: Service, since: float) -> tuple[dict[str, int], list[UserTally]]:
    """Without a history (a service made in code): the ended jobs it still holds."""
    totals: dict[str, int] = {}
    tallies: dict[str, UserTally] = {}
    ended = sorted((job for job in service.jobs.values() if job.done and job.queued_at >= since),
                   key=lambda j: j.queued_at)
    for job in ended:
        verdict = job.result.verdict.value if job.result is not None else "engine_error"
        reason = job.result.kill_reason if job.result is not None else (job.failure.message if job.failure else "")
        totals[verdict] = totals.get(verdict, 0) + 1
        before = tallies.get(job.request.user)
        walls = dict(before.walls) if before else {}
        for wall in (job.result.blocked if job.result is not None else None) or ():
            walls[wall.wall] = walls.get(wall.wall, 0) + wall.count
        tallies[job.request.user] = UserTally(
            user=job.request.user, runs=(before.runs if before else 0) + 1,
            timeouts=(before.timeouts if before else 0) + (verdict == "timeout"),
            oom_kills=(before.oom_kills if before else 0) + (verdict == "oom"),
            last_verdict=verdict, last_kill_reason=reason, last_at=job.queued_at, walls=walls)
    return totals, list(tallies.values())
