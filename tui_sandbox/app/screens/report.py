"""The report, once written: its Markdown, highlighted, to read in the app (esc closes).
A read-only TextArea: Textual's Markdown widget took seconds to lay out a report with
twenty runs' code and output; the text itself is what GitHub will render anyway."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, TextArea


class ReportScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Close")]

    def __init__(self, markdown: str, path: str) -> None:
        super().__init__()
        self.markdown = markdown
        self.path = path

    def compose(self) -> ComposeResult:
        text = TextArea(self.markdown, id="report-text", read_only=True, soft_wrap=True, show_line_numbers=False,
                        theme="css")
        if "markdown" in text.available_languages:
            text.language = "markdown"
        with Vertical(id="report-dialog"):
            yield Label(f"Written to {self.path} · arrows and page keys scroll · esc closes", id="report-title")
            yield text

    def on_mount(self) -> None:
        self.query_one("#report-text").focus()
