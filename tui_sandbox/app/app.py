"""The tui-sandbox app: an editor, the limits, and what the sandbox did to the last run.

The App holds what is app-wide: the themes and the remembered choices (settings), the
languages and the experiments, the command line's start, and the run controller
(run_controller.py: the engine and the one current run). It composes the main screen
(screens/main.py), which owns its keys, shows the runs and hears every worker; the App
keeps the keys that answer over every dialog (kill, the limit toggles, the demo, quit)
and quitting.
"""

from __future__ import annotations

import signal

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen

from runner import Engine, Limits

from ..experiments import load_experiments
from ..settings import Settings, environment
from ..theming import DEFAULT_THEME, load_themes
from .commands import AppCommands, ExperimentCommands
from .program import languages_or_builtin
from .run_controller import QUIT_WAIT_S, make_controller
from .screens.confirm import ConfirmScreen
from .screens.main import MainScreen, Start
from .widgets.editor import CodeEditor


class SandboxApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "tui-sandbox"
    COMMANDS = App.COMMANDS | {ExperimentCommands, AppCommands}
    # The keys that answer on every screen, over a dialog too (the main screen has its own).
    # Priority bindings fire even while the editor has focus; kill shows only while a run goes.
    BINDINGS = [
        Binding("ctrl+k", "kill", "Kill", priority=True, id="kill"),
        Binding("f2", "toggle_network", "Net", priority=True, id="network"),
        Binding("f3", "toggle_read_only", "R/O", priority=True, id="read-only"),
        Binding("f9", "load_demo", "Demo", show=False, priority=True, id="demo"),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="quit"),
    ]

    def __init__(self, file: str | None = None, language: str | None = None,
                 limits: Limits | None = None, sandbox: Engine | None = None, *,
                 server: str | None = None, user: str | None = None, token: str | None = None) -> None:
        super().__init__()
        # Themes are registered before the first style pass (see the Textual notes).
        for theme in load_themes():
            self.register_theme(theme)
        self.settings = Settings.load()
        remembered = self.settings.theme
        self.theme = remembered if remembered in self.available_themes else DEFAULT_THEME
        self._theme_loaded = True
        languages, problem = languages_or_builtin()
        # The environment is read here, once (the server, user and token came with the
        # command line, which reads them as its flags' defaults).
        self.start = Start(languages, problem, file, language, limits or Limits(), environment().blinks)
        self.experiments = load_experiments()
        self._on_server = bool(server)
        self.runs = make_controller(sandbox, server=server, user=user, token=token)
        # Remembered: whether runs go into the history (F7).
        self.runs.history.recording = self.settings.history and not server
        self._main: MainScreen | None = None

    def get_default_screen(self) -> Screen:
        self._main = MainScreen(self.runs, self.start, self.experiments, both_ways=self.settings.both_ways,
                                remember=self.remember, on_server=self._on_server, id="_default")
        return self._main

    def compose(self) -> ComposeResult:
        # The main screen's layout, composed here and so into it: the default screen's own
        # compose runs before the app does, when Textual does not wait for its widgets,
        # while the app's is waited for, and on_mount comes after it.
        yield from self.main_screen.compose_main()

    def on_mount(self) -> None:
        self.main_screen.start()

    @property
    def main_screen(self) -> MainScreen:
        assert self._main is not None, "the main screen is made when the app starts"
        return self._main

    def remember(self, **choices) -> None:
        """These choices changed (the theme, the history, F6's toggle): written at once."""
        self.settings = self.settings.update(**choices)

    # What the snapshot tests and the screenshots script reach for, on the main screen.
    @property
    def editor(self) -> CodeEditor:
        return self.main_screen.editor

    def show_run_starting(self, limits: Limits, interactive: bool = False) -> None:
        self.main_screen.view.show_run_starting(limits, interactive)

    # --- the keys over every dialog ------------------------------------------------------

    def action_kill(self) -> None:
        if not self.runs.running:
            self.notify("Nothing is running.", timeout=2)
            return
        self.runs.cancel()
        self.notify("Killing the container…", timeout=2)

    def action_toggle_network(self) -> None:
        self.main_screen.next_run.toggle("network")

    def action_toggle_read_only(self) -> None:
        self.main_screen.next_run.toggle("read-only")

    def action_load_demo(self) -> None:
        self.main_screen.load_demo()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Kill is in the footer only while there is something to kill.
        return action != "kill" or self.runs.running

    # --- themes and quitting -----------------------------------------------------------

    def watch_theme(self, name: str) -> None:
        if getattr(self, "_theme_loaded", False) and self.is_running:
            self.remember(theme=name)

    async def action_quit(self) -> None:
        if self.main_screen.program.unsaved and len(self.screen_stack) == 1:
            self.push_screen(ConfirmScreen("Your changes are not saved. Quit anyway?"),
                             lambda yes: self.run_worker(self.quit_after_run(), group="quit") if yes else None)
        else:
            await self.quit_after_run()

    async def quit_after_run(self) -> None:
        """Stop the run (and a report's runs) first, waiting (a little) until their
        containers are killed and removed."""
        main = self.main_screen
        if self.runs.busy:
            main.banner.show_message("QUITTING", ["stopping the run first…"])
            await self.runs.quit()
        if main.report.busy:
            main.banner.show_message("QUITTING", ["stopping the report's runs first…"])
            await main.report.quit(QUIT_WAIT_S)
        self.exit()

    def exit(self, result=None, return_code: int = 0, message=None) -> None:
        # Quitting waits for thread workers, and a run's worker waits for its container:
        # kill the container first, so quitting is quick and leaves nothing behind.
        self._stop_runs()
        super().exit(result, return_code, message)

    def on_unmount(self) -> None:
        # The app is going, however it ends (a test ends it without exit()): no more runs
        # or spares, and an engine the app made is closed, off the event loop.
        self._stop_runs()
        self.runs.close_soon()

    def _stop_runs(self) -> None:
        self.runs.stop()
        if self._main is not None:
            self._main.report.stop()


def run_app(file: str | None = None, language: str | None = None, limits: Limits | None = None, *,
            server: str | None = None, user: str | None = None, token: str | None = None) -> int:
    """Open the app; with server, every run goes to that `tui-sandbox serve` instead of the
    local engine (a class's apps, a laptop without Docker)."""
    app = SandboxApp(file=file, language=language, limits=limits, server=server, user=user, token=token)
    # A hang-up (an SSH connection that dropped) or a SIGTERM quits as ctrl+c would: the
    # run is cancelled and its container removed on the way out, never left to its deadline.
    for hang_up in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(hang_up, signal.default_int_handler)
    app.run()
    return app.return_code or 0
