"""The output's frame: the program's output and, under it, the line the learner types
into while a run reads its input (stdin.py). The frame's subtitle says when the program
waits for its input.

The input line is always there, closed (dim) between runs: showing and hiding it would
lay the whole screen out again twice a run. It opens and takes the focus only once the
program reads (or at once, where the runtime cannot tell: gVisor), so a run that reads
nothing moves no focus, and the learner's cursor stays in the editor."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label

from .output import OutputView
from .stdin import HINT, StdinLine

PREPARED_HINT = "this run reads the input prepared with F8"
CLOSED_HINT = "the input is closed (ctrl+d)"


class OutputBox(Vertical):
    interactive = False       # a run goes that reads what is typed (not a prepared input)
    input_closed = False      # ctrl+d ended its input
    _taking_focus = False     # the line has opened, and the focus is on its way to it

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view = OutputView(id="output")
        self.stdin_line = StdinLine(id="stdin")
        self.stdin_line.disabled = True

    @property
    def input_open(self) -> bool:
        """The input line has opened for the current run (and not been closed)."""
        return not self.stdin_line.disabled

    def compose(self) -> ComposeResult:
        yield self.view
        with Horizontal(id="stdin-row") as self.stdin_row:
            yield Label("stdin ›", id="stdin-prompt")
            yield self.stdin_line

    def on_mount(self) -> None:
        self.border_title = "Output"

    def _subtitle(self, text: str) -> None:
        # Set only when it changes: a border's text repaints the whole box, output and all.
        if (self.border_subtitle or "") != text:
            self.border_subtitle = text

    def start(self, interactive: bool, seen_reading: bool = True) -> None:
        """A new run: no output yet; its input line opens when it reads (open_input), or
        at once if its reading will not be seen (the runtime cannot tell: gVisor)."""
        self.view.clear()
        self._subtitle("")
        self.interactive, self.input_closed = interactive, False
        if self.stdin_line.value:
            self.stdin_line.value = ""
        self._hint(HINT if interactive else PREPARED_HINT)
        if not seen_reading:
            self.open_input()

    def open_input(self) -> None:
        """The program reads (or may: the runtime cannot tell): the line opens and takes
        the focus. Once a run, and never for a run whose input was prepared or closed."""
        if not self.interactive or self.input_open or self.input_closed:
            return
        self.stdin_line.disabled = False
        # The focus moves when Textual gets to it: keys typed before that still come to
        # the editor, and are the program's too (type_ahead).
        self._taking_focus = True
        self.stdin_line.focus()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if event.widget is self.stdin_line:
            self._taking_focus = False

    async def type_ahead(self, event: events.Key) -> bool:
        """A key typed in the editor while the run takes typed input but has not read yet:
        the learner types ahead, as at a terminal. The input line opens with it (it
        would have taken the focus at the start, were it not for the repaint)."""
        if not self.interactive or self.input_closed or (self.input_open and not self._taking_focus):
            return False      # a key typed in the editor once the line had the focus is an edit
        if not (event.is_printable or event.key == "enter"):
            return False
        self.open_input()
        if event.key == "enter":
            await self.stdin_line.action_submit()
        else:
            self.stdin_line.insert_text_at_cursor(event.character or "")
        return True

    def end(self) -> None:
        """The run is over: the input line closes."""
        self._subtitle("")
        self.interactive = self._taking_focus = False
        if self.input_open:
            self.stdin_line.disabled = True
        self._hint(HINT)

    def _hint(self, text: str) -> None:
        if self.stdin_line.placeholder != text:
            self.stdin_line.placeholder = text

    def show_waiting(self, waiting: bool) -> None:
        self._subtitle("waiting for input" if waiting else "")

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
        self.input_closed = True
        self._hint(CLOSED_HINT)
        self.stdin_line.disabled = True
