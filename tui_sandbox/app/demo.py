"""The teacher's demo, in a student's app on a teacher's server: what the teacher pushes
(POST /class/demo) shows as a banner, F9 loads it (asking first when the editor has
unsaved changes), and each push joins the experiments (F4) for the session. The app
also tells the server what its editor holds, when that changed, so that the teacher's
peek (GET /class/students/{user}) shows a program before it is run.

Every two seconds the UI thread takes the editor's program, and a thread worker does
the two HTTP calls (remote.RemoteSandbox.demos, .report_program) and posts the pushes
to the main screen (DemoPushed), which hands them back here. A server that does not
answer is asked again at the next tick; one without the demo (an older server) is asked
no more.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual.widgets import Static

from runner import SandboxError

from ..experiments import Experiment
from .messages import DemoPushed, Outbox

if TYPE_CHECKING:
    from textual.screen import Screen

    from .program import Program
    from .run_controller import RunController

POLL_S = 2.0
LOAD_KEY = "F9"


@dataclass(frozen=True)
class SharedProgram(Experiment):
    """A push, as one more experiment: its source is the push's, and so are its limits."""
    code: str = ""
    limits: dict = field(default_factory=dict)
    push_id: int = 0

    @property
    def label(self) -> str:
        return f"Shared by the teacher: {self.title} ({self.language})"

    def source(self) -> str:
        return self.code

    @classmethod
    def of(cls, push: dict) -> SharedProgram:
        at = time.strftime("%H:%M", time.localtime(push["pushed_at"]))
        return cls(file="", title=push["title"], language=push["language"],
                   expect=f"the teacher shared it at {at}: run it, change it, see what happens",
                   toggle="its limits come with it (the panel on the right): change them for the next run",
                   code=push["code"], limits=push["limits"], push_id=push["id"])


class DemoBanner(Static):
    DEFAULT_CSS = """
    DemoBanner { height: 1; padding: 0 1; background: $warning; color: $text; text-style: bold; display: none; }
    DemoBanner.-shown { display: block; }
    """


class DemoFeed:
    """One app's side of the demo, on the main screen. Does nothing unless the app runs
    on a server."""

    def __init__(self, screen: Screen, runs: RunController, program: Program, experiments: list[Experiment],
                 on_server: bool) -> None:
        self.screen = screen
        self.runs = runs
        self.program = program
        self.experiments = experiments        # the app's, for F4 and the palette
        self.on_server = on_server
        self.outbox = Outbox(screen)
        self.shared: list[SharedProgram] = []     # every push so far, oldest first
        self.banner = DemoBanner("", id="demo-banner")
        self._asking = False
        self._reported: tuple[str, str] | None = None     # the program the server has from us

    def start(self) -> None:
        if not self.on_server:
            return
        self.screen.mount(self.banner, before=self.screen.query_one("#body"))
        self.tick()
        self.screen.set_interval(POLL_S, self.tick)

    # --- asking the server ---------------------------------------------------------------

    def tick(self) -> None:
        if self._asking or not self.on_server:
            return
        now = (self.program.editor.text, self.program.language.name)
        report = now if now != self._reported and (now[0].strip() or self._reported) else None
        self._asking = True
        self.outbox.run_worker(lambda: self._exchange(report), "demo", "demo")

    def _exchange(self, report: tuple[str, str] | None) -> None:
        """In a thread: report the editor's program (if it changed), then read the pushes."""
        pushes = None
        try:
            engine = self.runs.engine()
            if not hasattr(engine, "demos"):          # an engine of our own: no class
                self.on_server = False
                return
            if report is not None:
                engine.report_program(*report)
                self._reported = report
            pushes = engine.demos()
        except SandboxError as exc:
            if "no such endpoint" in exc.message:     # a server from before the demo
                self.on_server = False
        finally:
            self._asking = False
        if pushes is not None:
            self.outbox.post(DemoPushed(pushes))

    # --- showing and loading -------------------------------------------------------------

    def arrived(self, pushes: list[dict]) -> None:
        known = {shared.push_id for shared in self.shared}
        new = [SharedProgram.of(push) for push in pushes if push["id"] not in known]
        if not new:
            return
        self.shared += new
        # First in F4's list, newest on top: the one the class is talking about.
        self.experiments[:0] = reversed(new)
        self.banner.update(f"The teacher shared: {new[-1].title} — press {LOAD_KEY} to load it")
        self.banner.add_class("-shown")

    def latest(self) -> SharedProgram | None:
        """F9: the newest push, to load; or None, and why (told)."""
        if not self.shared:
            self.screen.notify("The teacher has shared nothing yet.", timeout=3)
        elif len(self.screen.app.screen_stack) > 1:
            self.screen.notify("Close this dialog first.", timeout=3)
        else:
            return self.shared[-1]
        return None

    def loaded(self) -> None:
        """A push is in the editor: the banner has said what it had to."""
        self.banner.remove_class("-shown")
