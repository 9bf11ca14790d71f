"""The line under the output where the learner types to a running program: enter sends
the line, ctrl+d ends the program's input (end of file), as at a terminal."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input

HINT = "input · enter sends a line · ctrl+d ends it"


class StdinLine(Input):
    # Input binds ctrl+d to delete-right: here it is end of file, as in a terminal.
    BINDINGS = [
        Binding("ctrl+d", "end_input", "End input", id="end-input"),
    ]

    class EndOfInput(Message):
        """ctrl+d: what is on the line (maybe nothing) goes without a newline, then end of file."""

        def __init__(self, line: StdinLine, pending: str) -> None:
            super().__init__()
            self.line = line
            self.pending = pending

        @property
        def control(self) -> StdinLine:
            return self.line

    def __init__(self, *, id: str | None = None) -> None:
        # Not select_on_focus: a key typed ahead is on the line as it takes the focus.
        super().__init__(placeholder=HINT, id=id, compact=True, select_on_focus=False)

    def action_end_input(self) -> None:
        pending, self.value = self.value, ""
        self.post_message(self.EndOfInput(self, pending))
