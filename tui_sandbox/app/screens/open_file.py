"""ctrl+o: open a program from inside the app. A path to type (enter opens it; a folder
shows its files), and the folder's tree to walk with the arrow keys (enter opens)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Input, Label

from runner import SourceError

from ...source_file import confine


class ProgramTree(DirectoryTree):
    """Folders and files, without the hidden ones (.git, .venv) a learner never opens.
    Plain marks rather than emoji, which some terminals over SSH draw a cell too wide."""

    ICON_NODE = "▸ "
    ICON_NODE_EXPANDED = "▾ "
    ICON_FILE = "  "

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [path for path in paths if not path.name.startswith(".") and path.name != "__pycache__"]


class OpenFileScreen(ModalScreen[Path | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def compose(self) -> ComposeResult:
        self.path_input = Input(placeholder="a file's path, or a folder's", id="open-path", compact=True)
        self.files = ProgramTree(self.folder, id="open-tree")
        with Vertical(id="open-dialog"):
            yield Label("Open a program · enter opens · tab goes to the tree · esc cancels", id="open-title")
            yield self.path_input
            yield self.files

    def on_mount(self) -> None:
        self.files.border_title = str(self.folder)
        self.files.focus()

    @on(Input.Submitted, "#open-path")
    def typed(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        path = Path(text).expanduser()
        if not path.is_absolute():
            path = self.folder / path
        try:
            path = confine(path)       # a student's app: their own folder only
        except SourceError as exc:
            self.notify(exc.message, severity="error")
            return
        if path.is_dir():
            self.folder = path.resolve()
            self.files.path = self.folder
            self.files.border_title = str(self.folder)
            self.path_input.value = ""
            self.files.focus()
        elif path.is_file():
            self.dismiss(path)
        else:
            self.notify(f"{path} does not exist", severity="error")

    @on(DirectoryTree.FileSelected, "#open-tree")
    def chosen(self, event: DirectoryTree.FileSelected) -> None:
        self.dismiss(event.path)
