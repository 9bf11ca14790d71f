"""The limit controls, always on screen: memory, CPU, PIDs and timeout as text inputs
checked with the engine's own rules and messages, switches for network and read-only,
and the runtime picker when the engine has more than one runtime."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Label, Select, Switch

from runner import LimitError, Limits, parse_limits
from runner.limits import RUNTIMES

RUNTIME_NAMES = {"runc": "runc (standard)", "runsc": "gVisor (runsc)"}


def size_text(n: int) -> str:
    """Bytes as the inputs show them: 134217728 -> '128m', the form parse_size reads."""
    for suffix, factor in (("g", 1 << 30), ("m", 1 << 20), ("k", 1 << 10)):
        if n % factor == 0:
            return f"{n // factor}{suffix}"
    return str(n)


class EngineRule(Validator):
    """Checks one field by asking the engine to parse and validate it, so the input shows
    exactly the message `tui-sandbox run` would give."""

    def __init__(self, field: str, host_cpus=lambda: None) -> None:
        super().__init__()
        self.field = field
        self.host_cpus = host_cpus

    def validate(self, value: str) -> ValidationResult:
        try:
            parse_limits(Limits(), **{self.field: value}).validate(self.host_cpus())
        except LimitError as exc:
            return self.failure(exc.message if not exc.fix else f"{exc.message} ({exc.fix})")
        return self.success()


class LimitsPanel(Vertical):
    class Changed(Message):
        """A limit changed; it applies to the next run."""

    FIELDS = (("memory", "Memory"), ("cpus", "CPUs"), ("pids", "PIDs"), ("timeout", "Timeout s"))

    def __init__(self, limits: Limits, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.initial = limits
        self.host_cpus: int | None = None
        self.border_title = "Limits (next run)"

    def compose(self) -> ComposeResult:
        values = {"memory": size_text(self.initial.memory), "cpus": f"{self.initial.cpus:g}",
                  "pids": str(self.initial.pids), "timeout": f"{self.initial.timeout:g}"}
        for field, caption in self.FIELDS:
            with Horizontal(classes="limit-row"):
                yield Label(caption, classes="limit-caption")
                yield Input(values[field], id=f"limit-{field}", compact=True, select_on_focus=True,
                            validators=[EngineRule(field, lambda: self.host_cpus)],
                            validate_on=["changed", "submitted"])
        with Horizontal(classes="limit-row"):
            yield Label("Network F2", classes="limit-caption")
            yield Switch(self.initial.network, id="limit-network")
            yield Label("", id="state-network", classes="switch-state")
        with Horizontal(classes="limit-row"):
            yield Label("Read-only F3", classes="limit-caption")
            yield Switch(self.initial.read_only, id="limit-read-only")
            yield Label("", id="state-read-only", classes="switch-state")
        with Horizontal(classes="limit-row", id="runtime-row"):
            yield Label("Runtime", classes="limit-caption")
            yield Select([(RUNTIME_NAMES[self.initial.runtime], self.initial.runtime)],
                         value=self.initial.runtime, allow_blank=False, compact=True, id="limit-runtime")
        yield Label("", id="limit-problem")

    def on_mount(self) -> None:
        # The runtime row appears once the engine says it offers a choice.
        self.query_one("#runtime-row").display = False
        self._show_switch_states()

    def _show_switch_states(self) -> None:
        # The switch alone is a small coloured block: say it in words too.
        network = self.query_one("#limit-network", Switch).value
        read_only = self.query_one("#limit-read-only", Switch).value
        self.query_one("#state-network", Label).update("on" if network else "off")
        self.query_one("#state-read-only", Label).update("on" if read_only else "off (writable)")

    def offer_runtimes(self, available: dict[str, list[str]], host_cpus: int) -> None:
        self.host_cpus = host_cpus
        names = [name for name in RUNTIMES if name in available]
        select = self.query_one("#limit-runtime", Select)
        current = select.value if select.value in names else "runc"
        select.set_options([(RUNTIME_NAMES[name], name) for name in names])
        select.value = current
        self.query_one("#runtime-row").display = len(names) > 1
        for input in self.query(Input):
            input.validate(input.value)

    def limits(self) -> Limits:
        """The limits the controls hold now; LimitError names the first bad one."""
        text = {field: self.query_one(f"#limit-{field}", Input).value for field, _ in self.FIELDS}
        runtime = self.query_one("#limit-runtime", Select).value
        return parse_limits(
            self.initial, network=self.query_one("#limit-network", Switch).value,
            read_only=self.query_one("#limit-read-only", Switch).value,
            runtime=runtime if isinstance(runtime, str) else "runc", **text).validate(self.host_cpus)

    def toggle(self, which: str) -> bool:
        switch = self.query_one(f"#limit-{which}", Switch)
        switch.toggle()
        return switch.value

    def on_input_changed(self, event: Input.Changed) -> None:
        self._show_problem()
        self.post_message(self.Changed())

    def on_switch_changed(self, event: Switch.Changed) -> None:
        self._show_switch_states()
        self.post_message(self.Changed())

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()   # the app's language picker must not see this one
        self.post_message(self.Changed())

    def _show_problem(self) -> None:
        problem = ""
        for input in self.query(Input):
            result = input.validate(input.value)
            if result is not None and not result.is_valid:
                problem = result.failure_descriptions[0]
                break
        self.query_one("#limit-problem", Label).update(problem)
