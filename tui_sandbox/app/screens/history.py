"""The history of the learner's runs, newest first: a search box (words, or a verdict's
name), the list, and the highlighted run's result. Enter reopens it; the switch turns
recording off or on. The history is read in a thread: SQLite blocks."""

from __future__ import annotations

from typing import Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static, Switch
from textual.widgets.option_list import Option

from runner.units import format_size

from ...compare import first_lines
from ...history.records import parse_filter, verdict_text, when
from ...history.store import History, RunRecord

SHOWN = 200       # the newest this many runs that match
VERDICT_STYLES = {"OK": "bold green", "ERROR": "bold red", "SIGNAL": "bold red", "OOM": "bold red",
                  "TIMEOUT": "bold yellow", "OUTPUT": "bold yellow", "CANCELLED": "bold magenta",
                  "NOT": "bold red"}


def summary(record: RunRecord, width: int = 80) -> Text:
    """One line of the list: when, the language, the verdict, the program's first line."""
    verdict = verdict_text(record)
    first = next((line.strip() for line in record.source.splitlines() if line.strip()), "")
    # What differs from the defaults, so the two runs of an F6 pair can be told apart.
    tags = " ".join(tag for tag, shown in (("net", record.limits.get("network")),
                                           ("rw", not record.limits.get("read_only", True)),
                                           ("gVisor", record.runtime == "runsc")) if shown)
    room = max(8, width - 41 - (len(tags) + 1 if tags else 0))
    if len(first) > room:
        first = first[:room - 1] + "…"
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(when(record.finished_at, "%m-%d %H:%M") + "  ", style="dim")
    text.append(f"{record.language[:10]:<10} ")
    text.append(f"{verdict[:16]:<16} ", style=VERDICT_STYLES.get(verdict.split(" ")[0], "bold"))
    if tags:
        text.append(tags + " ", style="italic")
    text.append(first)
    return text


def details(record: RunRecord) -> str:
    limits = record.limits
    lines = [
        f"{when(record.finished_at, '%Y-%m-%d %H:%M:%S')} · {record.language} · {record.runtime} · "
        f"{format_size(limits['memory_bytes'])} · {limits['cpus']:g} CPU · {limits['pids']} PIDs · "
        f"{limits['timeout_s']:g} s · net {'on' if limits['network'] else 'off'} · "
        f"{'read-only' if limits['read_only'] else 'writable'}",
        f"{verdict_text(record)}: {record.kill_reason}"
        + (f" · {record.duration_s:.2f} s" if record.duration_s is not None else "")
        + (f" · peak {format_size(record.peak_memory_bytes)}" if record.peak_memory_bytes else ""),
    ]
    if record.stdin:
        lines.append("input: " + " ⏎ ".join(first_lines(record.stdin, 3)))
    shown = first_lines(record.output, 3) + [f"! {line}" for line in first_lines(record.error, 2)]
    return "\n".join(lines + (shown or ["(no output)"]))


class HistoryScreen(ModalScreen[RunRecord | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Close")]

    def __init__(self, open_history: Callable[[], History], recording: bool,
                 set_recording: Callable[[bool], None]) -> None:
        super().__init__()
        self.open_history = open_history       # blocks: called in the worker
        self.recording = recording
        self.set_recording = set_recording
        self.records: list[RunRecord] = []

    def compose(self) -> ComposeResult:
        self.search = Input(placeholder="search: words, or a verdict (ok, error, timeout, oom…)",
                            id="history-search", compact=True)
        self.choices = OptionList(id="history-list")
        self.about = Static("", id="history-about")
        self.record_switch = Switch(self.recording, id="history-record")
        with Vertical(id="history-dialog"):
            yield Label("History · your runs, newest first · enter reopens one · esc closes",
                        id="history-title")
            with Horizontal(id="history-bar"):
                yield self.search
                yield Label("record runs", id="history-record-label")
                yield self.record_switch
            yield self.choices
            yield self.about

    def on_mount(self) -> None:
        self.search.focus()
        self.load("")

    @on(Input.Changed, "#history-search")
    def search_changed(self, event: Input.Changed) -> None:
        self.load(event.value)

    @on(Input.Submitted, "#history-search")
    def to_the_list(self) -> None:
        if self.records:
            self.choices.focus()
            self.choices.highlighted = 0

    @work(thread=True, exclusive=True, group="history-search", exit_on_error=False)
    def load(self, text: str) -> None:
        verdict, words = parse_filter(text)
        history = self.open_history()
        try:
            records = history.list(verdict=verdict, text=words, limit=SHOWN)
        finally:
            history.close()
        self.app.call_from_thread(self.show, records)

    def show(self, records: list[RunRecord]) -> None:
        self.records = records
        self.choices.clear_options()
        width = self.choices.scrollable_content_region.width or self.app.size.width - 6
        self.choices.add_options([Option(summary(record, width - 2), id=record.id) for record in records])
        if records:
            self.choices.highlighted = 0
        else:
            searching = bool(self.search.value.strip())
            self.about.update("No run matches." if searching else
                              "No runs yet: every run you make is kept here."
                              + ("" if self.recording else " (Recording is off.)"))

    @on(OptionList.OptionHighlighted, "#history-list")
    def describe(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index < len(self.records):
            self.about.update(Text(details(self.records[event.option_index])))

    @on(OptionList.OptionSelected, "#history-list")
    def reopen(self, event: OptionList.OptionSelected) -> None:
        if event.option_index < len(self.records):
            self.dismiss(self.records[event.option_index])

    @on(Switch.Changed, "#history-record")
    def record_changed(self, event: Switch.Changed) -> None:
        if event.value != self.recording:
            self.recording = event.value
            self.set_recording(event.value)
