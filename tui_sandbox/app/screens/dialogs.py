"""The questions the main screen asks before it acts: where to write (and whether to
replace a file there; a report too), whether unsaved changes in the editor may go, and
what the next runs read (F8)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from runner import SourceError

from ...source_file import confine
from ..next_run import PreparedInput
from .confirm import ConfirmScreen
from .prepared_input import PreparedInputScreen
from .save import SaveAsScreen

if TYPE_CHECKING:
    from textual.screen import Screen

    from ..next_run import NextRun
    from ..program import Program
    from ..report_worker import ReportWorker


def ask_for_a_path(screen: Screen, dialog: SaveAsScreen, then: Callable[[Path], None]) -> None:
    """then(path) with the name given, after a yes if it would replace a file; in a
    class, only inside the student's folder (a path outside it is refused, said so)."""
    def chosen(name: str | None) -> None:
        if not name:
            return
        try:
            path = confine(Path(name).expanduser())
        except SourceError as exc:
            screen.notify(str(exc), title="Not there", severity="error", timeout=10)
            return
        if path.exists():
            screen.app.push_screen(ConfirmScreen(f"{path} exists. Replace it?"),
                                   lambda yes: then(path) if yes else None)
        else:
            then(path)

    screen.app.push_screen(dialog, chosen)


def unless_changes_are_kept(screen: Screen, program: Program, question: str, then: Callable[[], object]) -> None:
    """then() at once; or, with unsaved changes in the editor, once the learner says
    they may go ("Your changes are not saved." and the question)."""
    if program.unsaved:
        def answered(yes: bool | None) -> None:
            if yes:
                then()

        screen.app.push_screen(ConfirmScreen(f"Your changes are not saved. {question}"), answered)
    else:
        then()


def ask_for_a_report(screen: Screen, report: ReportWorker, from_history: bool) -> None:
    """Where to write it (REPORT.md, or MY-RUNS.md for the learner's runs), then start."""
    if report.busy:
        screen.notify("A report is being written already.", severity="warning")
        return
    what = "your runs' report" if from_history else "the report (enter runs the experiments for real)"
    ask_for_a_path(screen, SaveAsScreen("MY-RUNS.md" if from_history else "REPORT.md",
                                        f"Write {what} to (esc cancels):"),
                   lambda path: report.start(path, from_history))


def ask_for_input(screen: Screen, next_run: NextRun) -> None:
    """F8: a prepared input (and expected output) for the next runs, or back to typing."""
    def chosen(answer: PreparedInput | None | bool) -> None:
        if answer is None:
            return
        prepared = answer if isinstance(answer, PreparedInput) else None
        next_run.prepare_input(prepared)
        screen.notify("The next runs read " + ("the prepared input, then end of file" if prepared
                                               else "what you type as they run"), timeout=3)

    screen.app.push_screen(PreparedInputScreen(next_run.prepared), chosen)
