"""The tui-sandbox app: an editor, the limits, and what the sandbox did to the last run.

The app composes the screen, binds the keys and keeps the settings. Running belongs to
`RunController` (run_controller.py): it holds the engine and the current run, blocks on
the engine only in thread workers, and posts one message per engine event (messages.py).
The handlers here only update widgets; the widgets (widgets/) know nothing of Docker.
"""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, Label, Select, Switch, TextArea

from runner import (
    BUILTIN,
    Finished,
    Language,
    LanguageError,
    LimitError,
    Limits,
    Output,
    Phase,
    SandboxError,
    SourceError,
    Started,
    Stats,
    for_filename,
    load_languages,
    resolve,
)

from .commands import ExperimentCommands
from .experiments import Experiment, load_experiments
from .messages import EngineFailed, EngineReady, RunEvent, RunFailed
from .run_controller import Engine, RunController
from .screens.confirm import ConfirmScreen
from .screens.experiments import ExperimentsScreen
from .screens.save import SaveAsScreen
from .settings import load_settings, save_setting
from .source_file import MAX_EDIT_BYTES, read_source, write_source
from .theming import DEFAULT_THEME, load_themes
from .widgets.editor import CodeEditor
from .widgets.limits import LimitsPanel
from .widgets.output import OutputView
from .widgets.stats import StatsPanel
from .widgets.verdict import VerdictBanner

READY_HINT = "ctrl+r runs the program · F4 picks an experiment"


class SandboxApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "tui-sandbox"
    COMMANDS = App.COMMANDS | {ExperimentCommands}
    # Priority bindings fire even while the editor has focus. Plain ctrl+letter and
    # F-keys only: they survive SSH and every terminal.
    BINDINGS = [
        Binding("ctrl+r", "run", "Run", priority=True, id="run"),
        Binding("f5", "run", "Run", show=False, priority=True, id="run-f5"),
        Binding("ctrl+k", "kill", "Kill", priority=True, id="kill"),
        Binding("ctrl+s", "save", "Save", priority=True, id="save"),
        Binding("f2", "toggle_network", "Net", priority=True, id="network"),
        Binding("f3", "toggle_read_only", "R/O", priority=True, id="read-only"),
        Binding("f4", "experiments", "Experiments", priority=True, id="experiments"),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="quit"),
    ]

    def __init__(self, file: str | None = None, language: str | None = None,
                 limits: Limits | None = None, sandbox: Engine | None = None) -> None:
        super().__init__()
        # Themes are registered before the first style pass (see the Textual notes).
        for theme in load_themes():
            self.register_theme(theme)
        remembered = load_settings().get("theme")
        self.theme = remembered if remembered in self.available_themes else DEFAULT_THEME
        self._theme_loaded = True
        self.start_file = file
        self.start_language = language
        self.start_limits = limits or Limits()
        self.runs = RunController(self, engine=sandbox)   # tests inject the engine
        self.path: Path | None = None
        try:
            self.languages = load_languages()
        except LanguageError as exc:
            self.languages = dict(BUILTIN)
            self._startup_problem: SandboxError | None = exc
        else:
            self._startup_problem = None
        self.language: Language = self.languages.get("python") or next(iter(self.languages.values()))
        self.experiments = load_experiments()

    # --- layout ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self.file_label = Label("", id="file-label")
        self.language_picker = Select([(name, name) for name in self.languages], value=self.language.name,
                                      allow_blank=False, compact=True, id="language")
        self.editor = CodeEditor(id="editor")
        self.editor.placeholder = "Type a program here, or press F4 for a ready experiment."
        self.banner = VerdictBanner(id="verdict")
        self.output_view = OutputView(id="output")
        self.limits_panel = LimitsPanel(self.start_limits, id="limits")
        self.stats_panel = StatsPanel(id="stats")
        with Horizontal(id="topbar"):
            yield self.file_label
            yield self.language_picker
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield self.editor
                yield self.banner
                yield self.output_view
            with Vertical(id="side"):
                yield self.limits_panel
                yield self.stats_panel
        yield Footer()

    def on_mount(self) -> None:
        self.output_view.border_title = "Output"
        self.banner.idle(READY_HINT)
        self._open_start_file()
        self._set_language(self._start_language_choice())
        self._update_file_label()
        self.editor.focus()
        if self._startup_problem is not None:
            self.notify(str(self._startup_problem), title="Languages", severity="error", timeout=10)
        self.runs.connect()

    # --- the file ----------------------------------------------------------------------

    def _open_start_file(self) -> None:
        if not self.start_file:
            return
        path = Path(self.start_file)
        try:
            self.editor.load(read_source(path, MAX_EDIT_BYTES))
            self.path = path
        except SourceError as exc:
            if not path.exists() and not path.is_symlink():
                # Like an editor: a new file, created by the first save.
                self.path = path
                self.notify(f"{path} does not exist yet: ctrl+s creates it.", title="New file")
            else:
                # Never keep the path of a file we could not read: a save would destroy it.
                self.notify(str(exc), title="Cannot open the file", severity="error", timeout=10)

    def _start_language_choice(self) -> Language:
        if self.start_language:
            try:
                return resolve(self.start_language, self.languages)
            except LanguageError as exc:
                self.notify(str(exc), title="Language", severity="error", timeout=10)
        if self.path is not None:
            found = for_filename(self.path.name, self.languages)
            if found:
                return found
        return self.language

    def _update_file_label(self) -> None:
        name = str(self.path) if self.path else "untitled"
        marker = " [b]● modified[/b]" if self.editor.modified else ""
        self.file_label.update(f"[b]tui-sandbox[/b]  {name}{marker}")

    @on(TextArea.Changed, "#editor")
    def show_modified(self) -> None:
        self._update_file_label()

    def action_save(self) -> None:
        if self.path is not None:
            self._save_to(self.path)
            return

        def chosen(name: str | None) -> None:
            if not name:
                return
            path = Path(name).expanduser()
            if path.exists():
                self.push_screen(ConfirmScreen(f"{path} exists. Replace it?"),
                                 lambda yes: self._save_to(path) if yes else None)
            else:
                self._save_to(path)

        self.push_screen(SaveAsScreen(self.language.file), chosen)

    def _save_to(self, path: Path) -> None:
        try:
            write_source(path, self.editor.text)
        except SourceError as exc:
            self.notify(str(exc), title="Not saved", severity="error", timeout=10)
            return
        self.path = path
        self.editor.mark_saved()
        self._update_file_label()
        self.notify(f"Saved {path}")

    # --- the language and the limits of the next run -----------------------------------

    def _set_language(self, language: Language) -> None:
        self.language = language
        self.editor.set_language(language)
        if self.language_picker.value != language.name:
            self.language_picker.value = language.name
        self.prepare_next_run()

    @on(Select.Changed, "#language")
    def switch_language(self, event: Select.Changed) -> None:
        # The picker's first Changed can arrive while the app is already closing.
        # It also fires once on mount with the composed value, possibly after on_mount
        # chose another language: a Changed that no longer matches the picker is stale.
        if event.value != event.select.value:
            return
        if isinstance(event.value, str) and self.editor.is_attached and event.value != self.language.name:
            self._set_language(self.languages[event.value])

    def action_toggle_network(self) -> None:
        on = self.limits_panel.toggle("network")
        self.notify(f"Network {'ON' if on else 'OFF'} for the next run", timeout=2)

    def action_toggle_read_only(self) -> None:
        on = self.limits_panel.toggle("read-only")
        self.notify(f"Root filesystem {'read-only' if on else 'WRITABLE'} for the next run", timeout=2)

    @on(Input.Changed, "#limits Input")
    @on(Switch.Changed, "#limits Switch")
    @on(Select.Changed, "#limits Select")
    def prepare_next_run(self) -> None:
        """The language or a limit changed: the engine may ready a container for them."""
        try:
            limits = self.limits_panel.limits()
        except LimitError:
            limits = None
        self.runs.prepare(self.language, limits)

    # --- the engine --------------------------------------------------------------------

    @on(EngineReady)
    def offer_engine_choices(self, message: EngineReady) -> None:
        if not self.limits_panel.is_attached:       # the app closed while the worker connected
            return
        self.limits_panel.offer_engine(message.info)
        self.prepare_next_run()       # the limits are now checked against what the engine gives

    @on(EngineFailed)
    def show_engine_failure(self, message: EngineFailed) -> None:
        if not self.banner.is_attached:
            return
        if not self.runs.running:
            self.banner.failed(message.error)
        self.notify(str(message.error), title="No sandbox engine", severity="error", timeout=15)

    # --- running -----------------------------------------------------------------------

    def action_run(self) -> None:
        if self.runs.running:
            self.notify("A run is already going: wait for it, or ctrl+k kills it.",
                        title="Already running", severity="warning")
            return
        try:
            limits = self.limits_panel.limits()
        except LimitError as exc:
            self.notify(str(exc), title="Fix the limits first", severity="error", timeout=8)
            return
        source = self.editor.text
        if not source.strip():
            self.notify("The editor is empty: type a program, or press F4 for an experiment.",
                        severity="warning")
            return
        self.show_run_starting(limits)
        self.runs.start(source, self.language, limits)

    def show_run_starting(self, limits: Limits) -> None:
        """Get the screen ready for a new run under these limits."""
        self.output_view.clear()
        self.banner.running(limits)
        self.stats_panel.start(limits)

    def action_kill(self) -> None:
        if not self.runs.running:
            self.notify("Nothing is running.", timeout=2)
            return
        self.runs.cancel()
        self.notify("Killing the container…", timeout=2)

    @on(RunEvent)
    def show_run_event(self, message: RunEvent) -> None:
        if not self.runs.is_current(message.run_id):
            return          # a late message of an earlier run
        match message.event:
            case Started(container_id=container_id):
                self.stats_panel.border_title = f"Container {container_id[:12]}"
            case Phase(name=name):
                if self.runs.running:
                    self.banner.running(self.runs.limits or Limits(), name)
            case Output(stream=stream, text=text):
                self.output_view.write(stream, text)
            case Stats() as stats:
                self.stats_panel.update_stats(stats)
            case Finished(result=result):
                self.runs.end(result)
                self.banner.result(result)
                self.stats_panel.finish(result)
                if result.truncated:
                    self.output_view.note("— the output was cut here: the program printed past its cap —")

    @on(RunFailed)
    def show_run_failure(self, message: RunFailed) -> None:
        if not self.runs.is_current(message.run_id):
            return
        self.runs.end()
        self.banner.failed(message.error)
        self.stats_panel.border_title = "Container"
        self.notify(str(message.error), title="Cannot run", severity="error", timeout=10)

    # --- experiments -------------------------------------------------------------------

    def action_experiments(self) -> None:
        def chosen(experiment: Experiment | None) -> None:
            if experiment is not None:
                self.load_experiment(experiment)

        self.push_screen(ExperimentsScreen(self.experiments), chosen)

    def load_experiment(self, experiment: Experiment) -> None:
        if self.editor.modified and self.editor.text.strip():
            self.push_screen(ConfirmScreen("Your changes are not saved. Replace them with the experiment?"),
                             lambda yes: self._load_experiment(experiment) if yes else None)
        else:
            self._load_experiment(experiment)

    def _load_experiment(self, experiment: Experiment) -> None:
        self.editor.load(experiment.source())
        self.path = None     # an experiment is a new, unnamed buffer: saving asks for a name
        self._set_language(self.languages.get(experiment.language, self.language))
        self._update_file_label()
        self.editor.focus()
        if not self.runs.running:
            self.banner.show_message(experiment.title.upper(),
                                     ["ctrl+r runs it", f"Expect: {experiment.expect}",
                                      f"Change it: {experiment.toggle}"])

    # --- themes and quitting -----------------------------------------------------------

    def watch_theme(self, name: str) -> None:
        if getattr(self, "_theme_loaded", False) and self.is_running:
            save_setting("theme", name)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # With a dialog open, only the limit toggles and quit stay live: ctrl+s inside the
        # save dialog must not open a second one.
        if len(self.screen_stack) > 1 and action in ("run", "save", "experiments"):
            return False
        return True

    async def action_quit(self) -> None:
        if self.editor.modified and self.editor.text.strip() and len(self.screen_stack) == 1:
            self.push_screen(ConfirmScreen("Your changes are not saved. Quit anyway?"),
                             lambda yes: self.run_worker(self.quit_after_run(), group="quit") if yes else None)
        else:
            await self.quit_after_run()

    async def quit_after_run(self) -> None:
        """Stop the run first, waiting (a little) until its container is killed."""
        if self.runs.busy:
            self.banner.show_message("QUITTING", ["stopping the run first…"])
            await self.runs.quit()
        self.exit()

    def exit(self, result=None, return_code: int = 0, message=None) -> None:
        # Quitting waits for thread workers, and a run's worker waits for its container:
        # kill the container first, so quitting is quick and leaves nothing behind.
        self.runs.stop()
        super().exit(result, return_code, message)

    def on_unmount(self) -> None:
        # The app is going, however it ends (a test ends it without exit()): no more runs
        # or spares, and an engine the app made is closed, off the event loop.
        self.runs.stop()
        self.runs.close_soon()


def run_app(file: str | None = None, language: str | None = None, limits: Limits | None = None) -> int:
    app = SandboxApp(file=file, language=language, limits=limits)
    app.run()
    return app.return_code or 0
