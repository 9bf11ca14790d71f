"""`p` in the teacher's view: show the class a program. A file's path (its extension
picks the language, as the app's ctrl+o does), a title and limits, both optional; enter
pushes it (POST /class/demo) and every student's app offers it. What goes wrong (no such
file, no language for it, a token that is not the teacher's, a limit the server refuses)
is a line in the dialog, which stays open to fix it. Dismissed with the push, or None."""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from runner.languages import BUILTIN, for_filename

from .client import AsyncClassClient, ClassError

# As large as a student's editor opens (source_file.MAX_EDIT_BYTES).
MAX_DEMO_BYTES = 512 * 1024
# The limits a teacher changes for a demo; the rest keep the server's defaults.
LIMIT_FIELDS = (("timeout", "Timeout (s)", "10"), ("memory", "Memory", "128m"), ("pids", "PIDs", "64"))


def language_of(path: Path) -> str | None:
    found = for_filename(path.name, BUILTIN)
    return found.name if found is not None else None


class PushScreen(ModalScreen[dict | None]):
    DEFAULT_CSS = """
    PushScreen { align: center middle; }
    PushScreen > Vertical { width: 76; max-width: 98%; height: auto; padding: 1 2;
                            border: thick $primary; background: $surface; }
    PushScreen Input { margin-bottom: 1; }
    PushScreen Horizontal { height: auto; }
    PushScreen Horizontal > Vertical { width: 1fr; height: auto; }
    PushScreen #push-language { color: $text-muted; margin-bottom: 1; }
    PushScreen #push-problem { color: $error; height: auto; }
    """
    BINDINGS = [Binding("escape", "dismiss(None)", "Close")]

    def __init__(self, client: AsyncClassClient) -> None:
        super().__init__()
        self.client = client

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("[b]Show the class a program[/b] · enter pushes it · esc closes")
            yield Label("File")
            yield Input(placeholder="path/to/program.py", id="push-path")
            yield Static("The language comes from the file's extension.", id="push-language")
            yield Label("Title (optional: the file's name)")
            yield Input(placeholder="what the students' banner calls it", id="push-title")
            with Horizontal():
                for name, title, default in LIMIT_FIELDS:
                    with Vertical():
                        yield Label(title)
                        yield Input(placeholder=default, id=f"push-{name}")
            yield Static("", id="push-problem")

    def on_mount(self) -> None:
        self.query_one("#push-path", Input).focus()

    @on(Input.Changed, "#push-path")
    def show_language(self, event: Input.Changed) -> None:
        language = language_of(Path(event.value.strip())) if event.value.strip() else None
        self.query_one("#push-language", Static).update(
            f"Language: {language}" if language else "The language comes from the file's extension.")

    @on(Input.Submitted)
    def submit(self) -> None:
        problem, push = self._read()
        self.query_one("#push-problem", Static).update(problem or "Pushing…")
        if push is not None:
            self._push(push)

    def _read(self) -> tuple[str | None, dict | None]:
        text = self.query_one("#push-path", Input).value.strip()
        if not text:
            return "Give the program's file.", None
        path = Path(text).expanduser()
        language = language_of(path)
        if language is None:
            return f"No language for {path.name}: use a .py, .js, .sh or .c file.", None
        try:
            if path.stat().st_size > MAX_DEMO_BYTES:
                return f"{path} is over {MAX_DEMO_BYTES // 1024} KiB: too large for the students' editors.", None
            code = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return f"Cannot read {path}: {getattr(exc, 'strerror', None) or exc}", None
        if not code.strip():
            return f"{path} is empty.", None
        limits = {name: self.query_one(f"#push-{name}", Input).value.strip() or None for name, _, _ in LIMIT_FIELDS}
        title = self.query_one("#push-title", Input).value.strip() or path.name
        return None, {"code": code, "language": language, "title": title,
                      "limits": {name: value for name, value in limits.items() if value is not None}}

    @work(group="push", exclusive=True, exit_on_error=False)
    async def _push(self, push: dict) -> None:
        try:
            pushed = await self.client.push(**push)
        except ClassError as exc:
            self.query_one("#push-problem", Static).update(exc.line())
            return
        self.app.notify(f"Shared {pushed['title']!r} with the class: their apps offer it (F9)")
        self.dismiss(pushed)
