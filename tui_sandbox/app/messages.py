"""What the run controller (run_controller.py), the report's worker (report_worker.py)
and the demo feed (demo.py) post to the main screen, through an outbox. Their threads
only ever block on the engine (or the server); the screen's handlers, on the UI thread,
hand each to what shows it, which does all the drawing."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Callable

from textual.message import Message

from runner import EngineInfo, Event, Limits, RunResult, SandboxError, Stats

if TYPE_CHECKING:
    from textual.dom import DOMNode
    from textual.timer import Timer


class Outbox:
    """Where a worker's messages go: the screen that shows what it does, once it is
    there (`screen`); its workers and timers are that screen's too. Before, nothing runs
    and nothing is said. post and warn are thread-safe (post_message is)."""

    def __init__(self, screen: DOMNode | None = None) -> None:
        self.screen = screen

    def post(self, message: Message) -> None:
        if self.screen is not None:
            self.screen.post_message(message)

    def warn(self, text: str) -> None:
        if self.screen is not None:
            self.screen.log.warning(text)

    def run_worker(self, work: Callable[[], None], name: str, group: str) -> None:
        """work() in a thread worker of the screen's; a failure is its own to tell."""
        if self.screen is None:
            raise RuntimeError("no screen to run the work on yet")
        self.screen.run_worker(work, name=name, group=group, thread=True, exit_on_error=False)

    def set_timer(self, delay: float, callback: Callable[[], None], name: str) -> Timer | None:
        return self.screen.set_timer(delay, callback, name=name) if self.screen is not None else None

    async def wait_for_workers(self, group: str, timeout: float) -> bool:
        """Wait (at most timeout) for the group's workers to end; False if they did not."""
        if self.screen is None:
            return True
        manager = self.screen.workers
        workers = [worker for worker in manager if worker.group == group and not worker.is_finished]
        if not workers:       # (given none, the manager would wait for every worker)
            return True
        try:
            await asyncio.wait_for(manager.wait_for_complete(workers), timeout)
        except asyncio.TimeoutError:
            return False
        return True


class EngineReady(Message):
    """The engine answered: what it is and can give (its runtimes, CPUs, minimum memory)."""

    def __init__(self, info: EngineInfo) -> None:
        super().__init__()
        self.info = info


class EngineFailed(Message):
    def __init__(self, error: SandboxError) -> None:
        super().__init__()
        self.error = error


class RunEvent(Message):
    """One engine event of one run (runner.events: Started, Phase, Output, Stats, Finished).
    run_id lets the app drop a late message of an old run."""

    def __init__(self, run_id: int, event: Event) -> None:
        super().__init__()
        self.run_id = run_id
        self.event = event

    def can_replace(self, message: Message) -> bool:
        # A stats sample followed by another of the same run: only the newest matters if
        # the UI falls behind. The sparkline loses a point, nothing more.
        return (isinstance(self.event, Stats) and isinstance(message, RunEvent)
                and isinstance(message.event, Stats) and message.run_id == self.run_id)


class RunFailed(Message):
    """The engine could not run the program at all (no Docker, no image, bad limits)."""

    def __init__(self, run_id: int, error: SandboxError) -> None:
        super().__init__()
        self.run_id = run_id
        self.error = error


class PairSide(Message):
    """One side of an F6 pair has ended: its result, or why it could not run."""

    def __init__(self, run_id: int, side: int, limits: Limits, result: RunResult | None,
                 error: SandboxError | None) -> None:
        super().__init__()
        self.run_id = run_id
        self.side = side
        self.limits = limits
        self.result = result
        self.error = error


class HistoryFailed(Message):
    """A run could not be written to the history (a full disk, a locked file)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class ReportProgress(Message):
    """One more of the report's runs has ended."""

    def __init__(self, done: int, total: int, text: str) -> None:
        super().__init__()
        self.done = done
        self.total = total
        self.text = text


class DemoPushed(Message):
    """What the teacher has pushed so far (demo.py), as the server lists it."""

    def __init__(self, pushes: list[dict]) -> None:
        super().__init__()
        self.pushes = pushes


class ReportDone(Message):
    """The report is written (markdown), or could not be (error)."""

    def __init__(self, path: str, markdown: str | None, error: str | None) -> None:
        super().__init__()
        self.path = path
        self.markdown = markdown
        self.error = error
