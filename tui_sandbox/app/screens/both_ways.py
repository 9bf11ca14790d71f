"""F6: the program run both ways, a toggle off and on, side by side: each run's verdict,
kill reason and figures, the first lines of its output and of its errors, and under
them the difference in one line (compare.py). `BothWays` is the pair itself, which
outlives this screen: it starts the runs, takes each side's end, and has the main
screen show the two. t compares the other toggle (remembered), r runs them again."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from runner import Limits, RunResult, SandboxError
from runner.verdicts import figures, headline

from ...compare import TOGGLES, Side, Toggle, difference, first_lines
from ..messages import PairSide
from ..widgets.tinted import Tinted
from ..widgets.verdict import short_limits

if TYPE_CHECKING:
    from ..next_run import NextRun
    from ..run_view import RunView

OUTPUT_LINES = 8
ERROR_LINES = 5


class BothWays:
    """F6's pair, apart from its screen: the toggle it flips (remembered), and the two
    runs' ends as they come in (the main screen hands each on). Closing the screen stops
    the runs, whose ends still come; the main screen's run view shows the pair either way."""

    def __init__(self, view: RunView, next_run: NextRun, toggle: str, remember: Callable[[str], None]) -> None:
        self.view = view
        self.next_run = next_run
        self.runs = view.runs
        self.toggle = toggle if toggle in TOGGLES else "network"
        self._remember = remember
        self.sides: dict[int, tuple[Limits, RunResult | None, SandboxError | None]] = {}

    def remember(self, toggle: str) -> None:
        self.toggle = toggle
        self._remember(toggle)

    def start(self, toggle: str) -> int | None:
        """Start the program twice, the toggle off and on; None if it cannot run now."""
        settings = self.next_run.settings()
        if settings is None or self.runs.running:
            return None
        source, limits, stdin = settings
        self.sides = {}
        self.view.banner.show_message("BOTH WAYS…", [f"{TOGGLES[toggle].off}, then {TOGGLES[toggle].on}",
                                                     "ctrl+k stops both"])
        run_id = self.runs.start_pair(source, self.next_run.program.language, TOGGLES[toggle].sides(limits),
                                      stdin=stdin)
        self.view.screen.app.refresh_bindings()
        return run_id

    def stop(self) -> None:
        self.runs.cancel()

    def side_ended(self, message: PairSide) -> None:
        if not self.runs.is_current(message.run_id):
            return
        self.sides[message.side] = (message.limits, message.result, message.error)
        app = self.view.screen.app
        screen = next((s for s in app.screen_stack if isinstance(s, BothWaysScreen)), None)
        if screen is not None:
            screen.show_side(message.run_id, message.side, message.limits, message.result, message.error)
        if len(self.sides) < 2:
            return
        self.runs.end()
        app.refresh_bindings()
        toggle = TOGGLES[self.toggle]
        (_, off, off_error), (_, on, on_error) = self.sides[0], self.sides[1]
        line = difference(Side(toggle.off, off, off_error.message if off_error else None),
                          Side(toggle.on, on, on_error.message if on_error else None))
        if screen is not None:
            screen.show_difference(message.run_id, line)
        self._show_on_main_screen(toggle, line)

    def _show_on_main_screen(self, toggle: Toggle, line: str) -> None:
        """The two runs in the main screen's panes, one after the other (F7 has each in
        full); the figures beside are the second's."""
        view = self.view
        view.banner.show_message("BOTH WAYS", [line])
        view.output_view.clear()
        for side, title in enumerate((toggle.column_off, toggle.column_on)):
            _, result, error = self.sides[side]
            view.output_view.note(f"— {title.lower()}: " + (headline(result) if result else "not run") + " —")
            if result is None:
                view.output_view.write("stderr", (error.message if error else "no result") + "\n")
            else:
                view.show_result(result, replay=True, verdict=False, figures=title.lower() if side else None)


class BothWaysScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("t", "switch_toggle", "Other toggle"),
        Binding("r,f6", "again", "Again"),
    ]

    def __init__(self, pair: BothWays) -> None:
        super().__init__()
        self.pair = pair
        self.toggle = pair.toggle
        self.run_id: int | None = None
        self.ended: set[int] = set()

    def compose(self) -> ComposeResult:
        self.title_label = Label("", id="both-title")
        self.heads = [Label("", classes="both-head"), Label("", classes="both-head")]
        self.verdicts = [Tinted("", classes="both-verdict"), Tinted("", classes="both-verdict")]
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
            self.verdicts[side].tint("running")
            self.verdicts[side].update(Text(" RUNNING… ", style="bold reverse"))
            self.bodies[side].update("")
        self.difference.update("")
        self.ended = set()
        self.run_id = self.pair.start(self.toggle)
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
        if result is None:
            verdict.tint("failed")
            verdict.update(Text(" NOT RUN ", style="bold reverse"))
            body.append((error.message if error else "no result") + "\n")
            if error is not None and error.fix:
                body.append(f"fix: {error.fix}\n", style="italic")
            body.append(short_limits(limits), style="dim")
        else:
            verdict.tint(result.verdict.value)
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
        self.pair.remember(self.toggle)
        self.begin()

    def action_again(self) -> None:
        if self.running:
            self.notify("Both runs are still going (ctrl+k stops them).", severity="warning")
            return
        self.begin()

    def action_close(self) -> None:
        if self.running:
            self.pair.stop()     # nothing else shows these runs: they are stopped (and kept)
        self.dismiss(None)
