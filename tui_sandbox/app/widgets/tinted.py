"""A verdict's colour behind a widget: green for OK, red for an error, and so on, from the
current theme.

The colour is an inline style, not a CSS class. A class change makes Textual restyle the
widget through the whole stylesheet; a run changes its verdict three or four times
(queued, running, waiting, the verdict), and thirty students' apps share two cores. An
inline background only repaints the widget. The colours still come from the theme's
variables, and follow a change of theme."""

from __future__ import annotations

from textual.color import Color
from textual.widgets import Static

# A verdict's kind (a runner.Verdict's value, or a state of the run) → the theme's variable
# and how much of it shows over the panel.
TINTS: dict[str, tuple[str, float]] = {
    "ok": ("success", 0.35),
    "error": ("error", 0.35),
    "signal": ("error", 0.35),
    "timeout": ("warning", 0.35),
    "output_limit": ("warning", 0.35),
    "oom": ("error", 0.5),
    "cancelled": ("secondary", 0.35),
    "queued": ("primary", 0.3),
    "running": ("primary", 0.3),
    "waiting": ("accent", 0.35),
    "failed": ("error", 0.6),
    "idle": ("panel", 1.0),
}


def tint_colour(variables: dict[str, str], kind: str) -> Color:
    """The background of this kind in a theme with these variables (the panel's for a
    kind it does not know)."""
    name, alpha = TINTS.get(kind, TINTS["idle"])
    # Translucent, as CSS's `$success 35%` is: Textual blends it over what lies beneath.
    return Color.parse(variables.get(name) or variables["panel"]).multiply_alpha(alpha)


class Tinted(Static):
    """A Static whose background says a verdict (tint)."""

    kind = "idle"

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._paint())
        self._paint()

    def tint(self, kind: str) -> None:
        if kind != self.kind:
            self.kind = kind
            self._paint()

    def _paint(self) -> None:
        if self.is_mounted:
            self.styles.background = tint_colour(self.app.theme_variables, self.kind)
