"""F6: the program run both ways, a toggle off and on, side by side: each run's verdict,
kill reason and figures, the first lines of its output and of its errors, and under
them the difference in one line (compare.py). The app starts the runs; this screen
shows them as they end. t compares the other toggle (remembered), r runs them again."""

from __future__ import annotations

from typing import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from runner import Limits, RunResult, SandboxError
from runner.verdicts import figures, headline

from ...compare import TOGGLES, first_lines
from ..widgets.verdict import VERDICT_CLASSES, short_limits

OUTPUT_LINES = 8
ERROR_LINES = 5


class BothWaysScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("t", "switch_toggle", "Other toggle"),
        Binding("r,f6", "again", "Again"),
    ]

    def __init__(self, toggle: str, start: Callable[[str], int | None], stop: Callable[[], None],
                 remember: Callable[[str], None]) -> None:
        super().__init__()
        self.toggle = toggle
        self.start = start            # starts the pair for a toggle: its run id, or None if refused
        self.stop = stop
        self.remember = remember
        self.run_id: int | None = None
        self.ended: set[int] = set()

    def compose(self) -> ComposeResult:
        self.title_label = Label("", id="both-title")
        self.heads = [Label("", classes="both-head"), Label("", classes="both-head")]
        self.verdicts = [Static("", classes="both-verdict"), Static("", classes="both-verdict")]
        self.bodies = [Static("", classes="both-body"), Static("", classes="both-body")]
        self.difference = Static("", id="both-difference")
        with Vertical(id="both-dialog"):
            yield self.title_label
            with Horizontal(id="both-columns"):
                for side in (0, 1):
                    with VerticalScroll(classes="both-column", id=f"both-side-{side}"):
                        yield self.heads[side]
                        yield self.verdicts[side]
                        yield self.bodies[side]
            yield self.difference
            yield Label("t: compare the other toggle · r or F6: run again · esc closes", id="both-keys")

    def on_mount(self) -> None:
        self.begin()

    def begin(self) -> None:
        toggle = TOGGLES[self.toggle]
        self.title_label.update(f"Both ways: the same program {toggle.off}, then {toggle.on}")
        for side, title in enumerate((toggle.column_off, toggle.column_on)):
            self.heads[side].update(title)
            self.verdicts[side].remove_class(*VERDICT_CLASSES)
            self.verdicts[side].add_class("-running")
            self.verdicts[side].update(Text(" RUNNING… ", style="bold reverse"))
            self.bodies[side].update("")
        self.difference.update("")
        self.ended = set()
        self.run_id = self.start(self.toggle)
        if self.run_id is None:
            self.dismiss(None)

    @property
    def running(self) -> bool:
        return self.run_id is not None and len(self.ended) < 2

    def show_side(self, run_id: int, side: int, limits: Limits, result: RunResult | None,
                  error: SandboxError | None) -> None:
        if run_id != self.run_id:
            return
        self.ended.add(side)
        verdict, body = self.verdicts[side], Text()
        verdict.remove_class(*VERDICT_CLASSES)
        if result is None:
            verdict.add_class("-failed")
            verdict.update(Text(" NOT RUN ", style="bold reverse"))
            body.append((error.message if error else "no result") + "\n")
            if error is not None and error.fix:
                body.append(f"fix: {error.fix}\n", style="italic")
            body.append(short_limits(limits), style="dim")
        else:
            verdict.add_class(f"-{result.verdict.value}")
            line = Text(f" {headline(result)} ", style="bold reverse")
            line.append(f" {figures(result)}\n{result.kill_reason}")
            verdict.update(line)
            body.append(short_limits(limits) + "\n", style="dim")
            body.append("output\n", style="bold")
            body.append("\n".join(first_lines(result.output, OUTPUT_LINES)) or "(none)")
            if result.error.strip():
                body.append("\nerrors\n", style="bold")
                body.append("\n".join(first_lines(result.error, ERROR_LINES)), style="red")
        self.bodies[side].update(body)

    def show_difference(self, run_id: int, text: str) -> None:
        if run_id == self.run_id:
            self.difference.update(Text.assemble(("Difference: ", "bold"), text))

    def action_switch_toggle(self) -> None:
        if self.running:
            self.notify("Wait for both runs to end (ctrl+k stops them).", severity="warning")
            return
        self.toggle = "read_only" if self.toggle == "network" else "network"
        self.remember(self.toggle)
        self.begin()

    def action_again(self) -> None:
        if self.running:
            self.notify("Both runs are still going (ctrl+k stops them).", severity="warning")
            return
        self.begin()

    def action_close(self) -> None:
        if self.running:
            self.stop()          # nothing else shows these runs: they are stopped (and kept)
        self.dismiss(None)
