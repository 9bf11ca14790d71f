"""What the run controller (run_controller.py) and the report's worker (report_worker.py)
post to the app. Their threads only ever block on the engine; the app's handlers, on the
UI thread, hand each to what shows it, which does all the drawing."""

from __future__ import annotations

from textual.message import Message

from runner import EngineInfo, Event, Limits, RunResult, SandboxError, Stats


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


class ReportDone(Message):
    """The report is written (markdown), or could not be (error)."""

    def __init__(self, path: str, markdown: str | None, error: str | None) -> None:
        super().__init__()
        self.path = path
        self.markdown = markdown
        self.error = error
