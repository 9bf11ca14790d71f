"""The program's output, live: stdout plain, stderr in the error colour, Python
tracebacks highlighted, long lines wrapped (at 80 columns the end of an error is what
matters). What the learner typed to the program shows where a terminal would show it
(after the prompt, on the same line) in a style of its own. It keeps only the last
MAX_LINES lines (each cut at MAX_LINE_CHARS) and draws only the visible rows, so a
program printing forever costs neither memory nor frame time."""

from __future__ import annotations

from bisect import bisect_right
from collections import deque

from rich.cells import cell_len
from rich.segment import Segment
from rich.syntax import Syntax
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from runner import Blocked, Limits, RunResult, describe, not_watched

MAX_LINES = 5000
MAX_LINE_CHARS = 1000
TRACEBACK_START = "Traceback (most recent call last):"
MAX_TRACEBACK_LINES = 300
# Control characters would move the terminal's cursor: keep tabs, drop the rest.
_CONTROL = {c: None for c in range(32) if c not in (9, 10)} | {127: None}


class OutputLine:
    __slots__ = ("stream", "text", "rich", "open", "parts")

    def __init__(self, stream: str, text: str, rich: Text | None = None, open: bool = False) -> None:
        self.stream = stream
        self.text = text
        self.rich = rich           # set for highlighted lines
        self.open = open           # no newline yet: the next chunk of this stream continues it
        # A line of several streams, as (stream, text): a prompt, then what was typed.
        self.parts: list[tuple[str, str]] | None = None


class OutputView(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {"output--stderr", "output--note", "output--stdin", "output--wall"}
    DEFAULT_CSS = """
    OutputView > .output--stderr { color: $text-error; }
    OutputView > .output--wall { color: $text-warning; text-style: bold; }
    OutputView > .output--note { color: $text-muted; text-style: italic; }
    OutputView > .output--stdin { color: $text-accent; text-style: bold; }
    """

    def __init__(self, *, id: str | None = None, max_lines: int = MAX_LINES) -> None:
        super().__init__(id=id)
        self.lines: deque[OutputLine] = deque(maxlen=max_lines)
        self.dropped = 0           # lines that scrolled out of the cap, shown in the title
        self._traceback: list[OutputLine] | None = None
        # Each stream's unfinished line (no newline yet): its next chunk continues it, even
        # when the other stream wrote lines in between (the engine batches them apart).
        self._open: dict[str, OutputLine] = {}
        # Where each line's first row is, at self._rows_width; rebuilt when lines change.
        self._row_starts: list[int] | None = None
        # The walls' lines, by the wall: a wall hit again changes its line's count in place.
        self._walls: dict[object, OutputLine] = {}
        self._rows_width = 0
        self._rows_total = 0

    # --- writing -----------------------------------------------------------------------

    def clear(self) -> None:
        self.lines.clear()
        self._open = {}
        self._row_starts = None
        self.dropped = 0
        self._traceback = None
        self._walls = {}
        self._set_virtual_size(Size(0, 0))
        self.scroll_to(0, 0, animate=False)
        self.refresh()

    def note(self, text: str) -> None:
        """A line of the app's own, e.g. 'output was cut at 1 MiB'."""
        self._append([OutputLine("note", text)])

    def show_wall(self, wall: Blocked, limits: Limits) -> None:
        """A wall the sandbox stopped the program at, in a style of its own, among the
        output where it happened; the same wall again updates its line (its count). Its
        target is the program's own claim (what it passed the call): shown, never obeyed."""
        key = (wall.wall, wall.call, wall.target, wall.errno)
        text = f"▌ {describe(wall, limits)}".translate(_CONTROL)[:MAX_LINE_CHARS]
        line = self._walls.get(key)
        if line is not None and any(kept is line for kept in self.lines):
            if line.text != text:
                line.text = text
                self._row_starts = None
                self._update_virtual_size()
                self.refresh()
            return
        self._walls[key] = line = OutputLine("wall", text)
        self._append([line])

    def replay(self, result: RunResult) -> None:
        """A finished run's output, which did not stream in (a side of F6, the history)."""
        if result.output:
            self.write("stdout", result.output if result.output.endswith("\n") else result.output + "\n")
        if result.error:
            self.write("stderr", result.error)

    def show_walls(self, result: RunResult, say_unseen: bool = True) -> None:
        """A run's walls with their final counts; where none could be seen, it says so."""
        for wall in result.blocked or ():
            self.show_wall(wall, result.limits)
        if result.blocked is None and say_unseen:
            self.note(f"— {not_watched(result.runtime)} —")

    def echo(self, typed: str) -> None:
        """What the learner typed to the program, shown as a terminal shows it: after the
        prompt the program left open, if there is one, and then the line ends."""
        text = typed.translate(_CONTROL).expandtabs(4)
        pieces = text.split("\n")
        if pieces and pieces[-1] == "":
            pieces.pop()
        last = self.lines[-1] if self.lines and self.lines[-1].open else None
        if last is None:
            last = self._open.get("stdout") or self._open.get("stderr")
        new: list[OutputLine] = []
        if last is not None:
            self._open = {stream: line for stream, line in self._open.items() if line is not last}
        if last is not None and last.open and pieces:
            first = pieces.pop(0)
            last.parts = (last.parts or [(last.stream, last.text)]) + [("stdin", first)]
            last.text = (last.text + first)[:MAX_LINE_CHARS]
            last.rich = None
            last.open = False
            self._row_starts = None
        elif last is not None and last.open and not pieces:
            last.open = False          # enter alone: the prompt's line ends
        for piece in pieces:
            line = OutputLine("stdin", piece[:MAX_LINE_CHARS])
            new.append(line)
        self._traceback = None
        self._append(new)

    def write(self, stream: str, text: str) -> None:
        text = text.translate(_CONTROL).expandtabs(4)
        pieces = text.split("\n")
        new: list[OutputLine] = []
        last = self._open.pop(stream, None)
        if last is not None and last.open and last.parts is None:
            # Continue the line the previous chunk of this stream left unfinished.
            last.text = (last.text + pieces[0])[:MAX_LINE_CHARS]
            last.open = len(pieces) == 1
            last.rich = None
            self._row_starts = None
            pieces = pieces[1:]
            if last.open:
                self._open[stream] = last
        if pieces:
            ends_open = pieces[-1] != ""
            if not ends_open:
                pieces.pop()
            new = [OutputLine(stream, piece[:MAX_LINE_CHARS]) for piece in pieces]
            if new and ends_open:
                new[-1].open = True
                self._open[stream] = new[-1]
        if stream == "stderr":
            self._follow_traceback(new)
        self._append(new)

    def _follow_traceback(self, new: list[OutputLine]) -> None:
        # A traceback can arrive over several chunks: keep its lines together and lex the
        # whole block again as it grows (pygments' traceback lexer needs its start).
        starts = [i for i, line in enumerate(new) if TRACEBACK_START in line.text]
        if starts:
            self._traceback = new[starts[-1]:]
        elif self._traceback is not None:
            self._traceback.extend(new)
        if self._traceback is None:
            return
        if len(self._traceback) > MAX_TRACEBACK_LINES:
            self._traceback = None      # not a traceback any more, just a lot of stderr
            return
        code = "\n".join(line.text for line in self._traceback)
        highlighted = Syntax(code, "pytb", theme="ansi_dark", background_color="default").highlight(code)
        for line, rich in zip(self._traceback, highlighted.split("\n", allow_blank=True), strict=False):
            rich.rstrip()
            line.rich = rich

    def _append(self, new: list[OutputLine]) -> None:
        at_end = self.is_vertical_scroll_end or self.max_scroll_y == 0
        room = self.lines.maxlen - len(self.lines)
        self.dropped += max(0, len(new) - room)
        self.lines.extend(new)
        self._row_starts = None
        self._update_virtual_size()
        if self.dropped:
            self.border_subtitle = f"showing the last {len(self.lines):,} lines"
        if at_end:
            # Follow the output, unless the reader scrolled up. The new height counts only
            # after the next refresh: scrolling now would stop at the old end.
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True, x_axis=False)
        self.refresh()

    def _style(self, stream: str, base):
        if stream in ("stderr", "note", "stdin", "wall"):
            return base + self.get_component_rich_style(f"output--{stream}")
        return base

    @property
    def plain_text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    # --- drawing -----------------------------------------------------------------------

    def _rows(self) -> list[int]:
        """The row each line starts on, wrapped at the current width (cached)."""
        width = max(1, self.scrollable_content_region.width)
        if self._row_starts is None or self._rows_width != width:
            starts, total = [], 0
            for line in self.lines:
                starts.append(total)
                total += max(1, -(-cell_len(line.text) // width))
            self._row_starts, self._rows_width, self._rows_total = starts, width, total
        return self._row_starts

    def _update_virtual_size(self) -> None:
        self._rows()
        self._set_virtual_size(Size(self._rows_width, self._rows_total))

    def _set_virtual_size(self, size: Size) -> None:
        # Setting virtual_size asks for a layout pass of the whole screen, on every batch
        # of output. The view's own size does not change with its content: only the
        # scrollbar's showing (or going) does, and _scroll_update asks for that layout.
        if size != self.virtual_size:
            self.set_reactive(ScrollView.virtual_size, size)
            self._scroll_update(size)
            self.refresh()

    def on_resize(self) -> None:
        self._update_virtual_size()

    def render_line(self, y: int) -> Strip:
        scroll_y = self.scroll_offset.y
        width = self.scrollable_content_region.width
        base = self.rich_style
        starts = self._rows()
        row = scroll_y + y
        if row >= self._rows_total or not starts:
            return Strip.blank(width, base)
        index = bisect_right(starts, row) - 1
        part = row - starts[index]
        line = self.lines[index]
        if line.rich is not None:
            segments = list(line.rich.render(self.app.console))
            strip = Strip(segments).apply_style(base)
        elif line.parts is not None:
            strip = Strip([Segment(text, self._style(stream, base)) for stream, text in line.parts])
        else:
            strip = Strip([Segment(line.text, self._style(line.stream, base))])
        return strip.crop_extend(part * width, (part + 1) * width, base)
