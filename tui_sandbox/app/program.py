"""The program on the main screen: the editor's text, the file it came from (or none
yet), and its language, with the label and the picker that show them. Opening, saving
and loading (an experiment, a run from the history) all come through here, so the
three always agree."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from textual.widgets import Label, Select

from runner import BUILTIN, Language, LanguageError, SandboxError, SourceError, for_filename, load_languages, resolve

from ..source_file import MAX_EDIT_BYTES, files_root, read_source, write_source
from .widgets.editor import CodeEditor

if TYPE_CHECKING:
    from textual.widget import Widget


def languages_or_builtin() -> tuple[dict[str, Language], SandboxError | None]:
    """The languages (the built-in ones and the learner's languages.toml), or, when that
    file is wrong, the built-in ones and why (told once the app is up)."""
    try:
        return load_languages(), None
    except LanguageError as exc:
        return dict(BUILTIN), exc


class Program:
    """Its widgets are laid out by the main screen; changed() is told of every change of
    language."""

    def __init__(self, screen: Widget, languages: dict[str, Language], changed: Callable[[], None]) -> None:
        self.screen = screen
        self.languages = languages
        self._changed = changed
        self.path: Path | None = None
        self.language = languages.get("python") or next(iter(languages.values()))
        self.label = Label("", id="file-label")
        self.picker = Select([(name, name) for name in languages], value=self.language.name,
                             allow_blank=False, compact=True, id="language")
        self.editor = CodeEditor(id="editor")
        self.editor.placeholder = "Type a program here, or press F4 for a ready experiment."

    def open_at_start(self, file: str | None, language: str | None) -> None:
        """The file and language of the command line: a missing file is a new one."""
        if file:
            path = Path(file)
            try:
                self.editor.load(read_source(path, MAX_EDIT_BYTES))
                self.path = path
            except SourceError as exc:
                if not path.exists() and not path.is_symlink():
                    # Like an editor: a new file, created by the first save.
                    self.path = path
                    self.screen.notify(f"{path} does not exist yet: ctrl+s creates it.", title="New file")
                else:
                    # Never keep the path of a file we could not read: a save would destroy it.
                    self.screen.notify(str(exc), title="Cannot open the file", severity="error", timeout=10)
        self.set_language(self._start_language(language))
        self.show_name()

    def _start_language(self, name: str | None) -> Language:
        if name:
            try:
                return resolve(name, self.languages)
            except LanguageError as exc:
                self.screen.notify(str(exc), title="Language", severity="error", timeout=10)
        if self.path is not None:
            found = for_filename(self.path.name, self.languages)
            if found:
                return found
        return self.language

    def open(self, path: Path) -> bool:
        """Load a program into the editor; its extension picks the language."""
        try:
            text = read_source(path, MAX_EDIT_BYTES)
        except SourceError as exc:
            self.screen.notify(str(exc), title="Cannot open the file", severity="error", timeout=10)
            return False
        self.editor.load(text)
        try:
            self.path = path.resolve().relative_to(Path.cwd())
        except ValueError:
            self.path = path
        found = for_filename(path.name, self.languages)
        if found is not None:
            self.set_language(found)
        self.show_name()
        self.editor.focus()
        self.screen.notify(f"Opened {self.path}", timeout=3)
        return True

    def folder(self) -> Path:
        """Where ctrl+o starts: the program's folder; a student's app, their own only."""
        folder = (self.path.parent if self.path is not None else Path.cwd()).resolve()
        if not folder.is_dir():
            folder = Path.cwd()
        return files_root() or folder

    def load(self, text: str, language: str) -> None:
        """A program that is no file (an experiment, an old run): saving asks for a name."""
        self.editor.load(text)
        self.path = None
        self.set_language(self.languages.get(language, self.language))
        self.show_name()

    def save(self, path: Path) -> None:
        try:
            write_source(path, self.editor.text)
        except SourceError as exc:
            self.screen.notify(str(exc), title="Not saved", severity="error", timeout=10)
            return
        self.path = path
        self.editor.mark_saved()
        self.show_name()
        self.screen.notify(f"Saved {path}")

    @property
    def unsaved(self) -> bool:
        return self.editor.modified and bool(self.editor.text.strip())

    def show_name(self) -> None:
        name = str(self.path) if self.path else "untitled"
        marker = " [b]● modified[/b]" if self.editor.modified else ""
        self.label.update(f"[b]tui-sandbox[/b]  {name}{marker}")

    def set_language(self, language: Language) -> None:
        self.language = language
        self.editor.set_language(language)
        if self.picker.value != language.name:
            self.picker.value = language.name
        self._changed()

    def picked(self, event: Select.Changed) -> None:
        # The picker's first Changed can arrive while the app is already closing.
        # It also fires once on mount with the composed value, possibly after on_mount
        # chose another language: a Changed that no longer matches the picker is stale.
        if event.value != event.select.value:
            return
        if isinstance(event.value, str) and self.editor.is_attached and event.value != self.language.name:
            self.set_language(self.languages[event.value])
