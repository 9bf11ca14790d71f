"""Two questions the app asks before it acts: where to write (and whether to replace a
file there), and whether unsaved changes in the editor may go."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from runner import SourceError

from ..source_file import confine
from .screens.confirm import ConfirmScreen

if TYPE_CHECKING:
    from .app import SandboxApp
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
