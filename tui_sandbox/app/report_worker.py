"""The app's report, in a thread worker beside the run controller: the same flow as
`tui-sandbox report` (report/flow.py) on the app's own engine, its progress and its end
posted to the main screen as messages (ReportProgress, ReportDone), which hands them
back to be shown in the banner (and the report itself in its screen). One report at a
time; the app's quitting stops its runs."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from runner import SandboxError

from .messages import Outbox, ReportDone, ReportProgress

if TYPE_CHECKING:
    from ..report import Stopper
    from .run_view import RunView

REPORT_GROUP = "report"


class ReportWorker:
    def __init__(self, view: RunView) -> None:
        self.view = view              # its screen hears the worker; its banner shows how it goes
        self.screen = view.screen
        self.runs = view.runs
        self.outbox = Outbox(view.screen)
        self._stopper: Stopper | None = None      # set while a report is being written

    @property
    def busy(self) -> bool:
        return self._stopper is not None

    def start(self, path: Path, from_history: bool) -> None:
        """Run the experiments (or read the history) in a thread, and write the report."""
        from ..report import Stopper

        self.screen.notify("Running the experiments in fresh containers: about half a minute." if not from_history
                           else "Reading your runs from the history…", title="Report", timeout=5)
        self._stopper = Stopper()
        self.outbox.run_worker(partial(self._write, path, from_history, self._stopper), "report", REPORT_GROUP)

    def show_progress(self, message: ReportProgress) -> None:
        banner = self.view.banner
        if not self.runs.running and banner.is_attached:
            banner.show_message(f"REPORT {message.done}/{message.total}", [message.text])

    def show_end(self, message: ReportDone) -> bool:
        """The report is done: True if it was written (the screen then shows it)."""
        self._stopper = None
        if message.error is not None:
            self.screen.notify(message.error, title="No report", severity="error", timeout=10)
            return False
        if not self.runs.running:
            self.view.banner.show_message("REPORT", [f"written to {message.path}"])
        return True

    def _write(self, path: Path, from_history: bool, stopper: Stopper) -> None:
        from ..report import NotWritten, write_report

        def progress(done: int, total: int, line: str) -> None:
            self.outbox.post(ReportProgress(done, total, line))

        try:
            text = write_report(self.runs.engine(), path, from_history=from_history, progress=progress,
                                stopper=stopper, history_path=self.runs.history.path)
        except SandboxError as exc:
            self.outbox.post(ReportDone(str(path), None, exc.message))
        except NotWritten as exc:
            self.outbox.post(ReportDone(str(path), None, str(exc)))
        else:
            self.outbox.post(ReportDone(str(path), text, None))

    def stop(self) -> None:
        """Its runs going now are cancelled (their containers killed); no more begin."""
        if self._stopper is not None:
            self._stopper.stop()

    async def quit(self, timeout: float) -> None:
        """Stop, and wait (at most timeout) for the worker to end."""
        self.stop()
        await self.outbox.wait_for_workers(REPORT_GROUP, timeout)
