"""F8: a prepared standard input for the next runs (next_run.py), typed in a box or read
from a file (read again at each run), instead of typing to the program as it runs. The
run gets it all, then end of file: for programs that read a lot. It may carry the output
the program should give: each run then says whether it did (passed), or its first
different line."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, TextArea

from ..next_run import PreparedInput


class PreparedInputScreen(ModalScreen[PreparedInput | None | bool]):
    """Returns a PreparedInput to use, False to go back to typing as the program runs,
    or None to change nothing."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel"), Binding("ctrl+s", "use", "Use it")]

    def __init__(self, current: PreparedInput | None) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        current = self.current or PreparedInput()
        self.box = TextArea(current.text or "", id="prepared-text", soft_wrap=False, show_line_numbers=False,
                            placeholder="type or paste the program's input here, a line for each line it reads")
        self.file = Input(current.path or "", placeholder="its path (read again at each run)",
                          id="prepared-file", compact=True)
        self.expected = TextArea(current.expected or "", id="prepared-expected", soft_wrap=False,
                                 show_line_numbers=False,
                                 placeholder="optional: the output it should give; each run then says passed or not")
        with Vertical(id="prepared-dialog"):
            yield Label("Input for the next runs: the program reads it all, then end of file.",
                        id="prepared-title")
            yield self.box
            with Horizontal(id="prepared-file-row"):
                yield Label("Or a file: ", classes="prepared-caption")
                yield self.file
            yield Label("Expected output (optional):", classes="prepared-caption")
            yield self.expected
            with Horizontal(id="prepared-buttons"):
                yield Button("Use it (ctrl+s)", id="prepared-use", variant="primary")
                yield Button("Type as it runs", id="prepared-live")
                yield Button("Cancel (esc)", id="prepared-cancel")

    def on_mount(self) -> None:
        self.box.focus()

    def action_use(self) -> None:
        path = self.file.value.strip()
        expected = self.expected.text if self.expected.text.strip() else None
        if path:
            if not Path(path).expanduser().is_file():
                self.notify(f"{path} is not a file", severity="error")
                return
            self.dismiss(PreparedInput(path=path, expected=expected))
            return
        text = self.box.text
        if text and not text.endswith("\n"):
            text += "\n"        # a last line with its newline, as a file of lines has
        self.dismiss(PreparedInput(text=text, expected=expected))

    @on(Input.Submitted, "#prepared-file")
    def file_given(self) -> None:
        self.action_use()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "prepared-use":
            self.action_use()
        elif event.button.id == "prepared-live":
            self.dismiss(False)
        else:
            self.dismiss(None)
