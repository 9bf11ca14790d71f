"""The output's frame: the program's output and, under it while a run's input is open,
the line the learner types into (stdin.py). The frame's subtitle says when the program
waits for its input."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label

from .output import OutputView
from .stdin import HINT, StdinLine


class OutputBox(Vertical):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view = OutputView(id="output")
        self.stdin_line = StdinLine(id="stdin")

    def compose(self) -> ComposeResult:
        yield self.view
        with Horizontal(id="stdin-row") as self.stdin_row:
            yield Label("stdin ›", id="stdin-prompt")
            yield self.stdin_line

    def on_mount(self) -> None:
        self.border_title = "Output"
        self.stdin_row.display = False       # only while a run's input is open

    def start(self, interactive: bool) -> None:
        """A new run: no output yet. Interactive, the input line opens and takes the
        focus: the program may ask."""
        self.view.clear()
        self.border_subtitle = ""
        self.stdin_line.value = ""
        self.stdin_line.disabled = not interactive
        self.stdin_line.placeholder = HINT
        self.stdin_row.display = interactive
        if interactive:
            self.stdin_line.focus()

    def end(self) -> None:
        """The run is over: the input line closes."""
        self.border_subtitle = ""
        self.stdin_row.display = False
        self.stdin_line.disabled = True

    def show_waiting(self, waiting: bool) -> None:
        self.border_subtitle = "waiting for input" if waiting else ""

    def take_line(self, text: str) -> str:
        """A line entered: it leaves the input line, and shows in the output as typed."""
        line = text + "\n"
        self.stdin_line.value = ""
        self.view.echo(line)
        return line

    def close_input(self, pending: str) -> None:
        """ctrl+d: what was on the line shows as typed, then the input is closed."""
        if pending:
            self.view.echo(pending)
        self.view.note("— end of input (ctrl+d) —")
        self.stdin_line.placeholder = "the input is closed (ctrl+d)"
        self.stdin_line.disabled = True
