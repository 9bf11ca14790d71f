"""The app's report command: where to write it asked, then, in a thread worker beside
the run controller, the same flow as `tui-sandbox report` (report/flow.py) on the app's
own engine, its progress and its end posted as messages (ReportProgress, ReportDone)
and shown in the banner, the report itself in its screen. One report at a time; the
app's quitting stops its runs."""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from runner import SandboxError

from .dialogs import ask_for_a_path
from .messages import ReportDone, ReportProgress
from .screens.report import ReportScreen
from .screens.save import SaveAsScreen

if TYPE_CHECKING:
    from ..report import Stopper
    from .app import SandboxApp
    from .run_controller import RunController

REPORT_GROUP = "report"


class ReportWorker:
    def __init__(self, app: SandboxApp, runs: RunController) -> None:
        self.app = app
        self.runs = runs
        self._stopper: Stopper | None = None      # set while a report is being written

    @property
    def busy(self) -> bool:
        return self._stopper is not None

    def ask(self, from_history: bool) -> None:
        """Where to write it (REPORT.md, or MY-RUNS.md for the learner's runs), then start."""
        if self.busy:
            self.app.notify("A report is being written already.", severity="warning")
            return
        what = "your runs' report" if from_history else "the report (enter runs the experiments for real)"
        ask_for_a_path(self.app, SaveAsScreen("MY-RUNS.md" if from_history else "REPORT.md",
                                             f"Write {what} to (esc cancels):"),
                                lambda path: self.start(path, from_history))

    def start(self, path: Path, from_history: bool) -> None:
        """Run the experiments (or read the history) in a thread, and write the report."""
        from ..report import Stopper

        self.app.notify("Running the experiments in fresh containers: about half a minute." if not from_history
                        else "Reading your runs from the history…", title="Report", timeout=5)
        self._stopper = Stopper()
        self.app.run_worker(partial(self._write, path, from_history, self._stopper),
                            name="report", group=REPORT_GROUP, thread=True, exit_on_error=False)

    def show_progress(self, message: ReportProgress) -> None:
        banner = self.app.main_screen.banner
        if not self.runs.running and banner.is_attached:
            banner.show_message(f"REPORT {message.done}/{message.total}", [message.text])

    def show_end(self, message: ReportDone) -> None:
        self._stopper = None
        if message.error is not None:
            self.app.notify(message.error, title="No report", severity="error", timeout=10)
            return
        if not self.runs.running:
            self.app.main_screen.banner.show_message("REPORT", [f"written to {message.path}"])
        self.app.push_screen(ReportScreen(message.markdown or "", message.path))

    def _write(self, path: Path, from_history: bool, stopper: Stopper) -> None:
        from ..report import NotWritten, write_report

        def progress(done: int, total: int, line: str) -> None:
            self.app.post_message(ReportProgress(done, total, line))

        try:
            text = write_report(self.runs.engine(), path, from_history=from_history, progress=progress,
                                stopper=stopper, history_path=self.runs.history.path)
        except SandboxError as exc:
            self.app.post_message(ReportDone(str(path), None, exc.message))
        except NotWritten as exc:
            self.app.post_message(ReportDone(str(path), None, str(exc)))
        else:
            self.app.post_message(ReportDone(str(path), text, None))

    def stop(self) -> None:
        """Its runs going now are cancelled (their containers killed); no more begin."""
        if self._stopper is not None:
            self._stopper.stop()

    async def quit(self, timeout: float) -> None:
        """Stop, and wait (at most timeout) for the worker to end."""
        self.stop()
        workers = [w for w in self.app.workers if w.group == REPORT_GROUP and not w.is_finished]
        try:
            await asyncio.wait_for(self.app.workers.wait_for_complete(workers), timeout)
        except asyncio.TimeoutError:
            pass
