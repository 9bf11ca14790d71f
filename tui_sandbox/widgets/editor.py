"""The code editor: a TextArea set up for code, that knows its language and whether
its text differs from what is on disk."""

from __future__ import annotations

from textual.widgets import TextArea

from runner import Language

# Indentation that matches each language's usual style.
INDENT_WIDTH = {"python": 4, "c": 4, "javascript": 2, "bash": 2}


class CodeEditor(TextArea):
    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(text, id=id, soft_wrap=False, tab_behavior="indent", show_line_numbers=True,
                         theme="css", highlight_cursor_line=True)
        self.saved_text = text

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
        self.indent_width = INDENT_WIDTH.get(language.name, 4)
