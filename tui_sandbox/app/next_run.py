"""The next run: the program in the editor (program.py), the limits on the panel beside
it, and what it reads: what is typed as it runs, or F8's prepared input (a box or a file,
read again at each run, then end of file, for programs that read a lot; it may carry the
output the program should give: each run then says whether it did). Whenever they
change, the engine may ready a container for them (warming.py); each run starts from
`settings()`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from runner import EngineInfo, LimitError, Limits, SourceError
from runner.units import format_size

from ..source_file import confine
from .widgets.limits import LimitsPanel

if TYPE_CHECKING:
    from textual.screen import Screen

    from .program import Program
    from .run_controller import RunController

MAX_INPUT_BYTES = 8 * 1024 * 1024
# What F2 and F3 say, for the switch off and on.
TOGGLED = {"network": ("Network OFF", "Network ON"),
           "read-only": ("Root filesystem WRITABLE", "Root filesystem read-only")}


@dataclass(frozen=True)
class PreparedInput:
    text: str | None = None         # typed in the box
    path: str | None = None         # or a file, read at each run
    expected: str | None = None     # what the program should print (compared as Judge0 does)

    def describe(self) -> str:
        checked = ", output checked" if self.expected is not None else ""
        if self.path:
            return f"file {Path(self.path).name}{checked}"
        lines = len((self.text or "").splitlines())
        return f"prepared, {lines} line{'s' if lines != 1 else ''}{checked}"

    def data(self) -> str | bytes:
        """What the program reads: text, or bytes for a file that is not UTF-8 (the engine
        takes either; a remote one takes text). SourceError when the file cannot be read."""
        if not self.path:
            return self.text or ""
        path = confine(Path(self.path).expanduser())
        try:
            size = path.stat().st_size
            if size > MAX_INPUT_BYTES:
                raise SourceError(f"{path} is {format_size(size)}; the most a prepared input may be is "
                                  f"{format_size(MAX_INPUT_BYTES)}")
            data = path.read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read the input file {path}: {exc.strerror}") from None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data


class NextRun:
    """On the UI thread, for the screen that lays the limits panel out (and tells what is
    wrong with the next run)."""

    def __init__(self, screen: Screen, program: Program, runs: RunController, limits: Limits) -> None:
        self.screen = screen
        self.program = program
        self.runs = runs
        self.limits_panel = LimitsPanel(limits, id="limits")
        self.prepared: PreparedInput | None = None      # F8: the next runs' input, or typed live

    def changed(self) -> None:
        """The language or a limit changed: the engine may ready a container for them."""
        try:
            limits = self.limits_panel.limits()
        except LimitError:
            limits = None
        self.runs.warming.prepare(self.program.language, limits)

    def settings(self) -> tuple[str, Limits, str | bytes | None] | None:
        """The source, limits and prepared input of the next run, or None (and why, told)."""
        try:
            limits = self.limits_panel.limits()
        except LimitError as exc:
            self.screen.notify(str(exc), title="Fix the limits first", severity="error", timeout=8)
            return None
        source = self.program.editor.text
        if not source.strip():
            self.screen.notify("The editor is empty: type a program, or press F4 for an experiment.",
                               severity="warning")
            return None
        stdin = None
        if self.prepared is not None:
            try:
                stdin = self.prepared.data()
            except SourceError as exc:
                self.screen.notify(str(exc), title="The prepared input (F8)", severity="error", timeout=8)
                return None
        return source, limits, stdin

    def prepare_input(self, prepared: PreparedInput | None) -> None:
        """F8's answer: the next runs read this, or (None) what is typed as they run."""
        self.prepared = prepared
        self.limits_panel.show_input(prepared.describe() if prepared else "typed as it runs")

    def offer_engine(self, info: EngineInfo) -> None:
        if self.limits_panel.is_attached:       # else the app closed while the worker connected
            self.limits_panel.offer_engine(info)
            self.changed()       # the limits are now checked against what the engine gives

    def toggle(self, which: str) -> None:
        """F2 (network) or F3 (read-only): flipped for the next run, and said."""
        on = self.limits_panel.toggle(which)
        self.screen.notify(f"{TOGGLED[which][on]} for the next run", timeout=2)
