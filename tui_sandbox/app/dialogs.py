"""The questions the app asks before it acts: where to write (and whether to replace a
file there), whether unsaved changes in the editor may go, and what the next runs read
(F8)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from runner import SourceError

from ..source_file import confine
from .screens.confirm import ConfirmScreen
from .screens.prepared_input import PreparedInput, PreparedInputScreen

if TYPE_CHECKING:
    from .app import SandboxApp
    from .screens.main import MainScreen
    from .screens.save import SaveAsScreen


def ask_for_a_path(app: SandboxApp, screen: SaveAsScreen, then: Callable[[Path], None]) -> None:
    """then(path) with the name given, after a yes if it would replace a file; in a
    class, only inside the student's folder (a path outside it is refused, said so)."""
    def chosen(name: str | None) -> None:
        if not name:
            return
        try:
            path = confine(Path(name).expanduser())
        except SourceError as exc:
            app.notify(str(exc), title="Not there", severity="error", timeout=10)
            return
        if path.exists():
            app.push_screen(ConfirmScreen(f"{path} exists. Replace it?"), lambda yes: then(path) if yes else None)
        else:
            then(path)

    app.push_screen(screen, chosen)


def unless_changes_are_kept(app: SandboxApp, question: str, then: Callable[[], None]) -> None:
    """then() at once; or, with unsaved changes in the editor, once the learner says
    they may go ("Your changes are not saved." and the question)."""
    if app.main_screen.program.unsaved:
        app.push_screen(ConfirmScreen(f"Your changes are not saved. {question}"),
                        lambda yes: then() if yes else None)
    else:
        then()


def ask_for_input(app: SandboxApp, main: MainScreen) -> None:
    """F8: a prepared input (and expected output) for the next runs, or back to typing."""
    def chosen(answer: PreparedInput | None | bool) -> None:
        if answer is None:
            return
        prepared = answer if isinstance(answer, PreparedInput) else None
        main.prepare_input(prepared)
        app.notify("The next runs read " + ("the prepared input, then end of file" if prepared
                                            else "what you type as they run"), timeout=3)

    app.push_screen(PreparedInputScreen(main.prepared), chosen)
