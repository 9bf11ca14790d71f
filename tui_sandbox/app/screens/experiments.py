"""The experiments picker: a list on the left, and for the highlighted one, what to
expect and which toggle changes the outcome. Returns the chosen Experiment or None."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from ...experiments import Experiment


class ExperimentsScreen(ModalScreen[Experiment | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Close")]

    def __init__(self, experiments: list[Experiment]) -> None:
        super().__init__()
        self.experiments = experiments

    def compose(self) -> ComposeResult:
        self.choices = OptionList(*[Option(e.label, id=str(i)) for i, e in enumerate(self.experiments)],
                                  id="experiments-list")
        self.about = Static("", id="experiments-about")
        with Vertical(id="experiments-dialog"):
            yield Label("Experiments · enter loads one into the editor · esc closes", id="experiments-title")
            yield self.choices
            yield self.about

    def on_mount(self) -> None:
        self.choices.highlighted = 0

    @on(OptionList.OptionHighlighted, "#experiments-list")
    def describe(self, event: OptionList.OptionHighlighted) -> None:
        experiment = self.experiments[int(event.option.id)]
        self.about.update(f"[b]Expect:[/b] {experiment.expect}\n[b]Change it:[/b] {experiment.toggle}")

    @on(OptionList.OptionSelected, "#experiments-list")
    def choose(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.experiments[int(event.option.id)])
