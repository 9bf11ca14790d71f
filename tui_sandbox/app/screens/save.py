"""Save as: asks for a file name (relative to the directory the app started in), for the
program or for a report."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class SaveAsScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, suggestion: str, prompt: str = "Save the program as (enter saves, esc cancels):") -> None:
        super().__init__()
        self.suggestion = suggestion
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        with Vertical(id="save-dialog"):
            yield Label(self.prompt)
            yield Input(self.suggestion, id="save-name")

    @on(Input.Submitted, "#save-name")
    def save_as(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        self.dismiss(name or None)
