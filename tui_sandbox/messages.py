"""Messages the workers post to the app: one per engine event, so the UI thread does all
the drawing and the workers only ever block on Docker."""

from __future__ import annotations

from textual.message import Message

from runner import Output, RunResult, Sandbox, SandboxError, Started, Stats


class EngineReady(Message):
    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__()
        self.sandbox = sandbox


class EngineFailed(Message):
    def __init__(self, error: SandboxError) -> None:
        super().__init__()
        self.error = error


class RunMessage(Message):
    """Base of the messages about one run; run_id lets late messages of an old run be dropped."""

    def __init__(self, run_id: int) -> None:
        super().__init__()
        self.run_id = run_id


class RunStarted(RunMessage):
    def __init__(self, run_id: int, started: Started) -> None:
        super().__init__(run_id)
        self.started = started


class RunPhase(RunMessage):
    def __init__(self, run_id: int, name: str) -> None:
        super().__init__(run_id)
        self.name = name


class RunOutput(RunMessage):
    def __init__(self, run_id: int, output: Output) -> None:
        super().__init__(run_id)
        self.output = output


class RunStats(RunMessage):
    def __init__(self, run_id: int, stats: Stats) -> None:
        super().__init__(run_id)
        self.stats = stats

    def can_replace(self, message: Message) -> bool:
        # Only the newest sample matters if the UI falls behind; the sparkline loses a
        # point, nothing more.
        return isinstance(message, RunStats) and message.run_id == self.run_id


class RunFinished(RunMessage):
    def __init__(self, run_id: int, result: RunResult) -> None:
        super().__init__(run_id)
        self.result = result


class RunFailed(RunMessage):
    """The engine could not run the program at all (no Docker, no image, bad limits)."""

    def __init__(self, run_id: int, error: SandboxError) -> None:
        super().__init__(run_id)
        self.error = error
