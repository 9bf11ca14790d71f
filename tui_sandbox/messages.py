"""What the run controller (run_controller.py) posts to the app. Its threads only ever
block on the engine; the app's handlers, on the UI thread, do all the drawing."""

from __future__ import annotations

from textual.message import Message

from runner import EngineInfo, Event, SandboxError, Stats


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
