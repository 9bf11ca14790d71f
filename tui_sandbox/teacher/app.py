"""The teacher's live view of a class (`tui-sandbox class`): GET /class every second.

    ┌ queue, totals, who is connected ────────────────────────────────────┐
    │ STUDENT  VIA  RUNNING            Q  LAST     RUNS T/O OOM          │
    │ ada      ssh  python 12 s 4.1M   0  TIMEOUT     3   1   0          │
    │ bob      web  -                  -  OK          1   0   0          │
    └ the selected student in full; an error line when the server fails ─┘

`c` (or delete) cancels the selected student's run, after a yes; `p` shows the class a
program (push.py); `enter` shows the selected student's program and last result, large
(peek.py); `t` switches to the projector theme and back; `q` quits. A server that goes away, or a token that is not
the teacher's, is a line on the screen, never a traceback: the view keeps polling and
comes back when the server does. It needs no Docker: only the server's HTTP API.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Footer, Header, Label, Static
from textual.worker import Worker, WorkerState

from runner.units import format_size

from ..settings import Settings
from ..theming import DEFAULT_THEME, load_themes
from .client import (
    AsyncClassClient,
    ClassError,
    connected_text,
    duration,
    ended_text,
    front_text,
    has_class,
    last_text,
    queue_text,
    running_text,
    totals_text,
    verdict_word,
    walls_text,
    workers_text,
)
from .peek import PeekScreen
from .push import PushScreen

POLL_S = 1.0
PROJECTOR = "projector"
# (key, title, width): 76 columns with the cells' padding, and room for a scrollbar in 80.
# Via: how the student is connected now (ssh, web, both, or -).
COLUMNS = (("user", "Student", 12), ("via", "Via", 4), ("running", "Running", 20), ("queued", "Q", 2),
           ("last", "Last", 12), ("runs", "Runs", 4), ("timeouts", "T/O", 3), ("oom", "OOM", 3))
BAD = ("error", "timeout", "oom", "output_limit", "signal", "engine_error")


class ConfirmCancel(ModalScreen[bool]):
    """Cancel this run? y / n."""

    DEFAULT_CSS = """
    ConfirmCancel { align: center middle; }
    ConfirmCancel > Vertical { width: 60; max-width: 95%; height: auto; padding: 1 2;
                               border: thick $warning; background: $surface; }
    ConfirmCancel #question { width: 100%; }
    ConfirmCancel Horizontal { height: auto; margin-top: 1; align-horizontal: center; }
    ConfirmCancel Button { margin: 0 1; }
    """
    BINDINGS = [Binding("y", "dismiss(True)", "Yes"), Binding("n,escape", "dismiss(False)", "No")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question, id="question")
            with Horizontal():
                yield Button("Cancel it (y)", id="yes", variant="warning")
                yield Button("Keep it (n)", id="no")

    @on(Button.Pressed)
    def answer(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class ClassApp(App):
    TITLE = "tui-sandbox class"
    CSS = """
    #summary { height: auto; min-height: 3; padding: 0 1; background: $panel; }
    #students { height: 1fr; }
    #detail { height: 2; padding: 0 1; background: $panel; }
    #message { height: auto; max-height: 3; padding: 0 1; color: $error; display: none; }
    #message.shown { display: block; }
    """
    BINDINGS = [
        Binding("c", "cancel_run", "Cancel run"),
        Binding("delete", "cancel_run", "Cancel run", show=False),
        Binding("enter", "peek", "Show"),
        Binding("p", "push", "Push demo"),
        Binding("t", "projector", "Projector"),
        Binding("r", "poll", "Refresh", show=False),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, url: str, token: str | None = None, theme: str | None = None,
                 poll_s: float = POLL_S) -> None:
        super().__init__()
        self.client = AsyncClassClient(url, token)
        self.url = self.client.url
        self.poll_s = poll_s
        # Themes before the first style pass (see the Textual notes).
        for each in load_themes():
            self.register_theme(each)
        wanted = theme or Settings.load().theme
        self.theme = wanted if wanted in self.available_themes else DEFAULT_THEME
        self._theme_before_projector = DEFAULT_THEME if self.theme == PROJECTOR else self.theme
        self.view: dict | None = None          # the last snapshot
        self.students: dict[str, dict] = {}    # user -> their row's data, from the last snapshot
        self.error: ClassError | None = None
        self._polling = False
        self._seen_at: float | None = None

    # --- the screen ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # Kept as references: a poll may end while a dialog is on top, or as the app
        # closes, when a query of the current screen would not find them.
        self.summary = Static("Asking the server…", id="summary")
        self.table = DataTable(id="students", cursor_type="row", zebra_stripes=True)
        for key, title, width in COLUMNS:
            self.table.add_column(title, key=key, width=width)
        self.detail = Static("", id="detail")
        self.error_line = Static("", id="message")
        yield Header(show_clock=True)
        yield self.summary
        yield self.table
        yield self.detail
        yield self.error_line
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.url
        self.table.focus()
        self.action_poll()
        self.set_interval(self.poll_s, self.action_poll)

    async def on_unmount(self) -> None:
        await self.client.aclose()

    # --- polling --------------------------------------------------------------------------

    def action_poll(self) -> None:
        if self._polling:          # the last one still waits for a slow server
            return
        self._polling = True
        self.run_worker(self._fetch(), group="poll", exit_on_error=False)

    async def _fetch(self) -> None:
        try:
            view = await self.client.snapshot()
        except ClassError as exc:
            self._say(exc)
            return
        finally:
            self._polling = False
        self._say(None)
        self._seen_at = time.time()
        self.show(view)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Anything unforeseen in a worker: a line on the screen, never a traceback."""
        if event.state is WorkerState.ERROR:
            self._polling = False
            error = event.worker.error
            self._say(ClassError(f"something went wrong: {error!r}", "press r to try again"))

    def _say(self, error: ClassError | None) -> None:
        self.error = error
        message = self.error_line
        if error is None:
            message.update("")
            message.remove_class("shown")
            return
        stale = f"[as of {time.strftime('%H:%M:%S', time.localtime(self._seen_at))}] " if self._seen_at else ""
        message.update(Text(f"⚠ {stale}{error.line()}"))
        message.add_class("shown")

    # --- showing a snapshot ---------------------------------------------------------------

    def show(self, view: dict) -> None:
        self.view = view
        students = {s["user"]: s for s in view.get("students") or []}
        connected = view.get("connected") or []
        since = time.strftime("%H:%M", time.localtime(view["since"]))
        summary = Text.assemble(("Queue ", "bold"), queue_text(view), "   ", ("Runs ", "bold"), totals_text(view),
                                "\n", ("Ended ", "bold"), f"since {since}: {ended_text(view)}", *workers_part(view),
                                no_wrap=True, overflow="ellipsis")
        if has_class(view):
            who = ", ".join(dict.fromkeys(c["user"] for c in connected)) or "nobody yet"   # once each
            summary.append_text(Text.assemble("\n", ("Connected ", "bold"), f"{connected_text(view)}: {who}"))
        else:
            summary.append_text(Text("\nNo class with this server (serve --ssh PORT or --web PORT)", style="dim"))
        self.summary.update(summary)
        self._fill(students)
        self._describe_selected()

    def _fill(self, students: dict[str, dict]) -> None:
        """Rows keyed by student: cells are updated in place, so the cursor stays on its
        student; a student who comes or goes rebuilds the rows, the cursor kept."""
        table = self.table
        selected = self.selected_user()
        if list(students) != [str(key.value) for key in table.rows]:
            table.clear()
            for user, student in students.items():
                table.add_row(*self._cells(student), key=user)
            if selected in students:
                table.move_cursor(row=table.get_row_index(selected), scroll=False)
        else:
            for user, student in students.items():
                for (column, _, _), cell in zip(COLUMNS, self._cells(student), strict=True):
                    table.update_cell(user, column, cell)
        self.students = students

    def _cells(self, s: dict) -> list[Text]:
        theme = self.current_theme
        verdict = s.get("last_verdict")
        if verdict == "ok":
            last_style = theme.success or "green"
        elif verdict in BAD:
            last_style = theme.error or "red"
        else:
            last_style = "dim"
        return [Text(s["user"], style="bold" if s["connected"] else ""),
                Text(front_text(s), style=theme.success or "green") if s["connected"] else Text("-", style="dim"),
                Text(running_text(s) or "-", style=(theme.warning or "yellow") if s.get("running") else "dim"),
                Text(str(s["queued"]) if s["queued"] else "-", style="" if s["queued"] else "dim"),
                Text(verdict_word(verdict), style=last_style),
                Text(str(s["runs"]), justify="right"),
                Text(str(s["timeouts"]), justify="right", style=(theme.error or "red") if s["timeouts"] else ""),
                Text(str(s["oom_kills"]), justify="right", style=(theme.error or "red") if s["oom_kills"] else "")]

    def selected_user(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        try:
            row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        except Exception:  # noqa: BLE001 - no row under the cursor
            return None
        return str(row_key.value)

    def selected(self) -> dict | None:
        user = self.selected_user()
        return self.students.get(user) if user is not None else None

    @on(DataTable.RowHighlighted)
    def _moved(self) -> None:
        self._describe_selected()

    def _describe_selected(self) -> None:
        detail = self.detail
        s = self.selected()
        if s is None:
            detail.update(Text("No students yet: they appear when they connect or run something.", style="dim"))
            return
        line = Text.assemble((s["user"], "bold"), " · ")
        running = s.get("running")
        if running:
            figures = [running["language"], duration(running["elapsed_s"])]
            if running.get("memory_bytes") is not None:
                figures.append(format_size(running["memory_bytes"]))
            if running.get("cpu_percent") is not None:
                figures.append(f"cpu {running['cpu_percent']:.0f}%")
            line.append(f"running {' '.join(figures[:2])}, {', '.join(figures[2:]) or 'no sample yet'}"
                        f" (run {running['id'][:8]}: c cancels it)")
        else:
            line.append("not running" + (f", {s['queued']} waiting" if s["queued"] else ""))
        line.append("\nlast: " + last_text(s))
        if walls_text(s.get("walls") or {}):
            line.append(" · walls hit: " + walls_text(s["walls"]), style=self.current_theme.warning or "yellow")
        detail.update(line)

    # --- actions --------------------------------------------------------------------------

    def action_cancel_run(self) -> None:
        student = self.selected()
        if student is None:
            self.notify("No student selected", severity="warning")
            return
        running = student.get("running")
        if not running:
            self.notify(f"{student['user']} has no run going", severity="warning")
            return
        user, run_id = student["user"], running["id"]
        question = (f"Cancel {user}'s run ({running['language']}, {duration(running['elapsed_s'])})? "
                    "Its container is killed and removed.")

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_worker(self._cancel(user, run_id), group="cancel", exit_on_error=False)

        self.push_screen(ConfirmCancel(question), answered)

    async def _cancel(self, user: str, run_id: str) -> None:
        try:
            await self.client.cancel(run_id)
        except ClassError as exc:
            if exc.status == 409:
                self.notify(f"{user}'s run had already ended", severity="warning")
            else:
                self.notify(exc.line(), severity="error", timeout=8)
            return
        self.notify(f"Cancelled {user}'s run")
        self.action_poll()

    @on(DataTable.RowSelected)
    def action_peek(self) -> None:
        user = self.selected_user()
        if user is not None:
            self.push_screen(PeekScreen(self.client, user))

    def action_push(self) -> None:
        self.push_screen(PushScreen(self.client))

    def action_projector(self) -> None:
        if self.theme == PROJECTOR:
            self.theme = self._theme_before_projector
        else:
            self._theme_before_projector = self.theme
            self.theme = PROJECTOR
        if self.view is not None:
            self.show(self.view)      # the cells' colours come from the theme


def workers_part(view: dict) -> tuple:
    """A cluster's workers, a line of the summary; nothing on one host."""
    return ("\n", ("Workers ", "bold"), workers_text(view)) if workers_text(view) else ()


def run_teacher_app(url: str, token: str | None = None, theme: str | None = None) -> int:
    ClassApp(url, token, theme).run()
    return 0
