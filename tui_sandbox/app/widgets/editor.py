"""The code editor: a TextArea set up for code, that knows its language and whether
its text differs from what is on disk."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from textual import events
from textual.widgets import TextArea

from runner import Language
from runner.languages import BUILTIN


def _c_grammar():
    """TextArea has no C grammar of its own: tree-sitter-c brings one and its query."""
    try:
        import tree_sitter_c
        from tree_sitter import Language as Grammar
    except ImportError:
        return None
    query = Path(tree_sitter_c.__file__).parent / "queries" / "highlights.scm"
    return Grammar(tree_sitter_c.language()), query.read_text(encoding="utf-8")


class CodeEditor(TextArea):
    # While a run that takes typed input goes, a key typed here may be the program's
    # input: this says whether it was taken as such (the output box's type_ahead).
    type_ahead: Callable[[events.Key], Awaitable[bool]] | None = None

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(text, id=id, soft_wrap=False, tab_behavior="indent", show_line_numbers=True,
                         theme="css", highlight_cursor_line=True)
        self.saved_text = text
        grammar = _c_grammar()
        if grammar is not None:
            self.register_language("c", *grammar)
        # Its indentation, block openers and comments (Language): Python's until set_language.
        self.code_style: Language = BUILTIN["python"]

    async def _on_key(self, event: events.Key) -> None:
        """Enter keeps the line's indentation, one level deeper after a block opener, as
        every code editor a learner has used does."""
        if self.type_ahead is not None and await self.type_ahead(event):
            event.stop()
            event.prevent_default()
            return
        if event.key != "enter" or self.read_only:
            await super()._on_key(event)
            return
        event.stop()
        event.prevent_default()
        start, end = self.selection
        row, column = min(start, end)
        before = self.document.get_line(row)[:column]
        indent = before[:len(before) - len(before.lstrip(" \t"))]
        style = self.code_style
        code = before.split(style.line_comment)[0] if style.line_comment else before
        if style.block_openers and code.rstrip().endswith(style.block_openers):
            indent += " " * self.indent_width
        self._replace_via_keyboard("\n" + indent, start, end)

    @property
    def modified(self) -> bool:
        return self.text != self.saved_text

    def mark_saved(self) -> None:
        self.saved_text = self.text

    def load(self, text: str) -> None:
        self.load_text(text)
        self.saved_text = text

    def set_language(self, language: Language) -> None:
        # Setting a language TextArea lacks raises and leaves it half-switched (C has no
        # grammar here): such languages are edited as plain text.
        highlight = language.highlight if language.highlight in self.available_languages else None
        if self.language != highlight:
            self.language = highlight
        self.indent_type = "spaces"
        self.indent_width = language.indent or 4
        self.code_style = language
