"""The jobs a service holds in memory: every run waiting or running, and the finished
ones while they fit in a byte budget.

    jobs = HeldJobs(budget_bytes=4 * MiB)
    jobs[job.id] = job          # when it ends, it counts against the budget
    jobs.finished_bytes         # about what the finished ones hold, never above the budget

A finished job keeps its result, not its events (Job.emit drops them at the end), so
what it holds is its program, its input and its result. Once the finished jobs hold
more than the budget, the oldest ended go: their results are the history's rows, read
back there (GET /runs/{id}). Bytes, not a count: a thousand hello worlds take less than
one run that filled its output limit.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING

from runner.units import MiB

if TYPE_CHECKING:
    from .job import Job

# The finished runs' share of a server's memory: a few floods' results, or thousands of
# small ones (serve --finished-memory).
DEFAULT_FINISHED_BYTES = 4 * MiB

# What a finished job holds besides its texts: the job, its request, its result and
# limits, their dicts (about 3.3 KiB for a hello world's, measured with tracemalloc).
JOB_OVERHEAD_BYTES = 3584


def held_bytes(job: Job) -> int:
    """About what a finished job holds: its texts as Python keeps them, and the rest."""
    request, result = job.request, job.result
    texts = [request.source, job.given_input, request.expected_output or ""]
    if result is not None:
        texts += [result.output, result.error, result.kill_reason, result.first_difference or ""]
    if job.failure is not None:
        texts += [job.failure.message, job.failure.fix or ""]
    return JOB_OVERHEAD_BYTES + sum(sys.getsizeof(text) for text in texts)


class HeldJobs(MutableMapping[str, "Job"]):
    """Job id -> job: each one live, and the finished ones, newest ended kept, within
    budget_bytes."""

    def __init__(self, budget_bytes: int = DEFAULT_FINISHED_BYTES) -> None:
        self.budget_bytes = budget_bytes
        self.finished_bytes = 0
        self._jobs: dict[str, Job] = {}
        self._finished: OrderedDict[str, int] = OrderedDict()    # id -> its bytes, oldest ended first

    @property
    def finished_count(self) -> int:
        return len(self._finished)

    def __getitem__(self, job_id: str) -> Job:
        return self._jobs[job_id]

    def __setitem__(self, job_id: str, job: Job) -> None:
        if job_id in self._jobs:
            del self[job_id]
        self._jobs[job_id] = job
        job.on_end = self._ended
        if job.done:
            self._ended(job)

    def __delitem__(self, job_id: str) -> None:
        del self._jobs[job_id]
        self.finished_bytes -= self._finished.pop(job_id, 0)

    def __iter__(self) -> Iterator[str]:
        return iter(self._jobs)

    def __len__(self) -> int:
        return len(self._jobs)

    def _ended(self, job: Job) -> None:
        if self._jobs.get(job.id) is not job or job.id in self._finished:
            return                       # forgotten already (Judge0's DELETE), or counted
        size = held_bytes(job)
        self._finished[job.id] = size
        self.finished_bytes += size
        while self.finished_bytes > self.budget_bytes:
            del self[next(iter(self._finished))]
