"""What every front is written against: a service that queues runs, carries them out and
keeps what they did. Two implement it, and the fronts (the HTTP API, Piston, Judge0,
codapi, the web page, the classroom's apps, the teacher's view, MCP through a server)
cannot tell which they were given:

- core.SandboxService: one host's runs, on its own engine, in its own fair queue;
- cluster.front.ClusterService: a cluster's, with the queue, the workers and the demo in
  Redis (any number of fronts share them).

Adding a front means writing against Service (and the engine-side ServiceEngine) alone;
adding a way to carry runs out means implementing both. Each is a Protocol, so neither
implementation inherits from anything here, and mypy checks that each still fits.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

from runner import EngineInfo, Language, Limits, RunResult
from runner.backend import ImageStatus

from ..history.store import History
from .demo_board import DemoBoard
from .held import HeldJobs
from .job import Job
from .requests import Ceilings, RunRequest

if TYPE_CHECKING:
    from ..history.postgres import PostgresHistory  # psycopg, only where a cluster uses it


class ServiceEngine(Protocol):
    """What the fronts ask of the engine behind a service: its languages and what it can
    give (checked before a run is queued), its images (/health), and a probe run outside
    the queue (a language's version, for Piston and Judge0)."""

    @property
    def languages(self) -> dict[str, Language]: ...

    def language(self, language: str | Language) -> Language:
        """One of its languages, by name or alias; LanguageError otherwise."""
        ...

    @property
    def info(self) -> EngineInfo: ...

    def check(self, limits: Limits) -> Limits:
        """These limits, or LimitError / RuntimeUnavailable for what it cannot give."""
        ...

    def run(self, source: str, language: str | Language, limits: Limits | None = None,
            stdin: str | None = None) -> RunResult: ...

    def images(self) -> list[ImageStatus]: ...


class RunLine(Protocol):
    """The queue as the fronts see it: who waits, in the order they will run."""
    total: int                     # the most runs that may wait

    def __len__(self) -> int: ...

    def order(self) -> Iterator[Job]: ...

    def waiting(self, user: str) -> int: ...


class Service(Protocol):
    # Read-only here (properties), so that each implementation may hold a narrower kind.
    @property
    def sandbox(self) -> ServiceEngine: ...

    @property
    def ceilings(self) -> Ceilings: ...

    @property
    def history(self) -> History | PostgresHistory | None: ...

    @property
    def demo(self) -> DemoBoard: ...

    @property
    def jobs(self) -> HeldJobs:
        """The runs it follows: every live one, and recent ended ones within a byte budget;
        an older one is read from the history."""
        ...

    @property
    def queue(self) -> RunLine: ...

    @property
    def started_at(self) -> float: ...

    async def start(self) -> None: ...

    async def stop(self) -> None:
        """Take no more runs; end or hand over those under way; remove what it made."""
        ...

    async def submit(self, request: RunRequest, *, job_id: str | None = None) -> Job:
        """Admit (requests.admit) and queue it; raises Refused or SandboxError for the client."""
        ...

    def cancel(self, job: Job) -> None: ...

    def get(self, job_id: str) -> Job | None: ...

    def status(self) -> dict[str, int]:
        """{running, queued, cap}, for /health."""
        ...

    @property
    def stopping(self) -> bool: ...

    @property
    def cap(self) -> int:
        """How many runs may be in containers at once (a cluster: its workers' caps)."""
        ...
