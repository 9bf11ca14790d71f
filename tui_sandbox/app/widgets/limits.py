"""The limit controls, always on screen: memory, CPU, PIDs and timeout as text inputs
checked with the engine's own rules and messages, switches for network and read-only,
the runtime picker when the engine has more than one runtime (the one a run that names
none gets marked "default"), and where the next run's standard input comes from (typed as
it runs, or prepared with F8)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Label, Select, Switch
from textual.widgets.select import InvalidSelectValueError

from runner import EngineInfo, LimitError, Limits, parse_limits, runtimes
from runner.units import format_size


class EngineRule(Validator):
    """Checks one field by asking the engine to parse and validate it, so the input shows
    exactly the message `tui-sandbox run` would give."""

    def __init__(self, field: str, engine=lambda: None) -> None:
        super().__init__()
        self.field = field
        self.engine = engine      # the engine's facts once known, to check against

    def validate(self, value: str) -> ValidationResult:
        try:
            parse_limits(Limits(), **{self.field: value}).validate(self.engine())
        except LimitError as exc:
            return self.failure(exc.message if not exc.fix else f"{exc.message} ({exc.fix})")
        return self.success()


class LimitsPanel(Vertical):
    """The limits of the next run. The app hears of changes through the controls' own
    Changed messages (Input, Switch, Select), which bubble up from here."""

    FIELDS = (("memory", "Memory"), ("cpus", "CPUs"), ("pids", "PIDs"), ("timeout", "Timeout s"))
    SWITCHES = (("network", "Network F2"), ("read-only", "Read-only F3"))

    def __init__(self, limits: Limits, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.initial = limits
        self.engine: EngineInfo | None = None     # what the engine can give, once it answers
        # The runtime a run that names none gets there; until it answers, the engine decides.
        self.default_runtime = runtimes.AUTO
        self.border_title = "Limits (next run)"

    def compose(self) -> ComposeResult:
        values = {"memory": format_size(self.initial.memory, "flag"), "cpus": f"{self.initial.cpus:g}",
                  "pids": str(self.initial.pids), "timeout": f"{self.initial.timeout:g}"}
        self.inputs = {field: Input(values[field], id=f"limit-{field}", compact=True, select_on_focus=True,
                                    validators=[EngineRule(field, lambda: self.engine)],
                                    validate_on=["changed", "submitted"])
                       for field, _ in self.FIELDS}
        initially = {"network": self.initial.network, "read-only": self.initial.read_only}
        self.switches = {which: Switch(initially[which], id=f"limit-{which}") for which, _ in self.SWITCHES}
        self.switch_states = {which: Label("", id=f"state-{which}", classes="switch-state")
                              for which, _ in self.SWITCHES}
        self.runtime = Select([(runtimes.runtime(self.initial.runtime).label, self.initial.runtime)],
                              value=self.initial.runtime, allow_blank=False, compact=True, id="limit-runtime")
        self.runtime_row = Horizontal(classes="limit-row", id="runtime-row")
        self.problem = Label("", id="limit-problem")
        self.input_state = Label("typed as it runs", id="input-state", classes="switch-state")
        for field, caption in self.FIELDS:
            with Horizontal(classes="limit-row"):
                yield Label(caption, classes="limit-caption")
                yield self.inputs[field]
        for which, caption in self.SWITCHES:
            with Horizontal(classes="limit-row"):
                yield Label(caption, classes="limit-caption")
                yield self.switches[which]
                yield self.switch_states[which]
        with self.runtime_row:
            yield Label("Runtime", classes="limit-caption")
            yield self.runtime
        with Horizontal(classes="limit-row"):
            yield Label("Input F8", classes="limit-caption")
            yield self.input_state
        yield self.problem

    def on_mount(self) -> None:
        # The runtime row appears once the engine says it offers a choice.
        self.runtime_row.display = False
        self.show_switch_states()

    @on(Switch.Changed)
    def show_switch_states(self) -> None:
        # The switch alone is a small coloured block: say it in words too.
        self.switch_states["network"].update("on" if self.switches["network"].value else "off")
        self.switch_states["read-only"].update("on" if self.switches["read-only"].value else "off (writable)")

    def offer_engine(self, engine: EngineInfo) -> None:
        """The engine answered: offer the runtimes it has, and check the limits against
        what it can give (its CPUs, its smallest memory limit)."""
        self.engine = engine
        names = runtimes.ordered(engine.runtimes)
        self.default_runtime = runtimes.default_name(names) or (names[0] if names else runtimes.AUTO)
        # What was named stays; else the picker shows the runtime the engine would pick.
        current = self.runtime.value if self.runtime.value in names else self.default_runtime
        self.runtime.set_options([(runtimes.runtime(name).label + (" (default)" if name == self.default_runtime
                                                                    else ""), name) for name in names])
        self.runtime.value = current
        self.runtime_row.display = len(names) > 1
        self.show_problem()

    def limits(self) -> Limits:
        """The limits the controls hold now; LimitError names the first bad one."""
        text = {field: input.value for field, input in self.inputs.items()}
        runtime = self.runtime.value
        return parse_limits(
            self.initial, network=self.switches["network"].value,
            read_only=self.switches["read-only"].value,
            runtime=runtime if isinstance(runtime, str) else self.default_runtime, **text).validate(self.engine)

    def set_limits(self, limits: Limits) -> None:
        """Show these limits (a run reopened from the history): they apply to the next run."""
        self.inputs["memory"].value = format_size(limits.memory, "flag")
        self.inputs["cpus"].value = f"{limits.cpus:g}"
        self.inputs["pids"].value = str(limits.pids)
        self.inputs["timeout"].value = f"{limits.timeout:g}"
        self.switches["network"].value = limits.network
        self.switches["read-only"].value = limits.read_only
        try:
            self.runtime.value = self.default_runtime if limits.runtime == runtimes.AUTO else limits.runtime
        except InvalidSelectValueError:
            pass        # a runtime this engine does not offer: the current one stays

    def show_input(self, text: str) -> None:
        """Where the next run's standard input comes from, in a few words."""
        self.input_state.update(text)

    def toggle(self, which: str) -> bool:
        switch = self.switches[which]
        switch.toggle()
        return switch.value

    @on(Input.Changed)
    def show_problem(self) -> None:
        """Check every input (each marks itself) and say what is wrong with the first bad one."""
        results = [input.validate(input.value) for input in self.inputs.values()]
        self.problem.update(next((result.failure_descriptions[0] for result in results
                                  if result is not None and not result.is_valid), ""))
