"""`enter` on a student in the teacher's view: their current program and last result,
read only, filling the screen so that a projector shows it to the class
(GET /class/students/{user}). The program is what their editor last reported, or their
last run's source when that is newer; the result is their newest ended run: its verdict
as a headline, its kill reason, its output. `r` asks again, `t` is the projector theme,
`escape` goes back to the class."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Label, Static, TextArea

from runner.events import Blocked
from runner.limits import Limits
from runner.walls import describe

from .client import AsyncClassClient, ClassError, clock, verdict_word

# The output shown, from its end (the part a class discusses); the API keeps more.
SHOWN_OUTPUT_CHARS = 20_000


class PeekScreen(Screen):
    DEFAULT_CSS = """
    PeekScreen #peek-title { height: 1; padding: 0 1; background: $panel; text-style: bold; }
    PeekScreen #peek-body { height: 1fr; }
    PeekScreen #peek-program { width: 3fr; height: 1fr; }
    PeekScreen #peek-side { width: 2fr; height: 1fr; padding: 0 1; }
    PeekScreen #peek-verdict { width: 100%; padding: 1 2; text-style: bold; background: $panel; }
    PeekScreen #peek-verdict.-ok { background: $success; color: $text; }
    PeekScreen #peek-verdict.-bad { background: $error; color: $text; }
    PeekScreen #peek-reason { margin: 1 0; height: auto; }
    PeekScreen #peek-output { height: 1fr; border: round $primary; padding: 0 1; overflow-y: auto; }
    """
    # Priority: the read-only editor would take these keys for itself.
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", priority=True),
                Binding("r", "refresh_peek", "Refresh", priority=True),
                Binding("t", "app.projector", "Projector", priority=True)]

    def __init__(self, client: AsyncClassClient, user: str) -> None:
        super().__init__()
        self.client, self.user = client, user
        self.peek: dict | None = None

    def compose(self) -> ComposeResult:
        yield Label(f"{self.user} · asking the server…", id="peek-title")
        with Horizontal(id="peek-body"):
            yield TextArea("", read_only=True, show_line_numbers=True, id="peek-program")
            with Vertical(id="peek-side"):
                yield Static("", id="peek-verdict")
                yield Static("", id="peek-reason")
                yield Static("", id="peek-output")
        yield Footer()

    def on_mount(self) -> None:
        self.action_refresh_peek()

    @work(group="peek", exclusive=True, exit_on_error=False)
    async def action_refresh_peek(self) -> None:
        try:
            peek = await self.client.peek(self.user)
        except ClassError as exc:
            self.query_one("#peek-title", Label).update(Text(f"{self.user} · {exc.line()}"))
            return
        self.show(peek)

    def show(self, peek: dict) -> None:
        self.peek = peek
        program, last = peek.get("program"), peek.get("last")
        code = self.query_one("#peek-program", TextArea)
        if program is None:
            title = f"{self.user} has typed and run nothing yet"
            code.load_text("")
        else:
            whence = "in their editor" if program["came_from"] == "editor" else "their last run"
            title = f"{self.user}'s program · {program['language']} · {whence}, {clock(program['at'])}"
            code.load_text(program["code"])
            # A language the editor cannot colour (C) is shown plain, never half-switched.
            code.language = program["language"] if program["language"] in code.available_languages else None
        self.query_one("#peek-title", Label).update(Text(title + " · esc: back to the class"))
        self._show_result(last)

    def _show_result(self, last: dict | None) -> None:
        verdict = self.query_one("#peek-verdict", Static)
        verdict.remove_class("-ok", "-bad")
        if last is None:
            verdict.update("NO RUN YET")
            self.query_one("#peek-reason", Static).update("")
            self.query_one("#peek-output", Static).update("")
            return
        verdict.add_class("-ok" if last.get("verdict") == "ok" else "-bad")
        figures = [f"{last['duration_s']:.1f} s" if last.get("duration_s") is not None else "",
                   last.get("language") or "", clock(last["finished_at"]) if last.get("finished_at") else ""]
        verdict.update(Text.assemble((verdict_word(last.get("verdict")), "bold"), "   ",
                                     " · ".join(f for f in figures if f)))
        reason = Text(last.get("kill_reason") or "")
        limits = Limits.from_dict(last.get("limits") or {})
        for wall in last.get("blocked") or ():       # the walls their run hit, as every front words them
            reason.append(f"\n▌ {describe(Blocked.from_data(wall), limits)}", style="bold")
        self.query_one("#peek-reason", Static).update(reason)
        output = (last.get("output") or "") + (last.get("error") or "")
        self.query_one("#peek-output", Static).update(Text(output[-SHOWN_OUTPUT_CHARS:] or "(no output)"))
