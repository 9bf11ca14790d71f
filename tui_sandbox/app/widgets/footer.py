"""The key bar at the bottom: one widget, one row, repainted in place when what it shows
has changed.

Textual's Footer is a container of one widget per key, and it rebuilds them all (a dozen
widgets mounted, styled anew and laid out) whenever the bindings may have changed: every
focus change and every refresh_bindings. A run makes several (the input line takes the
focus, ctrl+k appears, both go again at the end). Measured: 80 rebuilds in 10 hello-world
runs, a third of the app's CPU for them, which a class of thirty on one host pays thirty
times. Comparing first left two real rebuilds a run, each still two layout passes of the
whole screen. This bar draws the keys itself, as the compact Footer shows them (the same
colours, the same theme variables, dim when disabled, highlighted under the mouse, a click
presses the key), so a change of keys is one row repainted: no widget mounted, no layout."""

from __future__ import annotations

from typing import NamedTuple

from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget


class Key(NamedTuple):
    key: str
    display: str
    description: str
    action: str
    enabled: bool
    tooltip: str


class KeyBar(Widget):
    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"key-bar--item", "key-bar--key", "key-bar--description", "key-bar--hover"}
    # The compact Footer's look: each key its item, then a cell of the bar between items.
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        text-wrap: nowrap;
        text-overflow: clip;
        color: $footer-foreground;
        background: $footer-background;
        & > .key-bar--item { background: $footer-item-background; }
        & > .key-bar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .key-bar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .key-bar--hover { color: $footer-key-foreground; background: $block-hover-background; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.keys: tuple[Key, ...] = ()       # what the bar shows
        self.repaints = 0                      # times the keys changed (for tests)
        self._spans: list[tuple[int, int]] = []   # each key's columns, from the last render
        self._hovered: int | None = None
        self._update_pending = False

    @staticmethod
    def keys_of(screen: Screen) -> tuple[Key, ...]:
        """What the bar shows for this screen's bindings, in their order."""
        app = screen.app
        return tuple(Key(binding.key, app.get_key_display(binding), binding.description, binding.action,
                         enabled, tooltip or "")
                     for _, binding, enabled, tooltip in screen.active_bindings.values() if binding.show)

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)
        self.call_after_refresh(self._update)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen) -> None:
        # The changes that come before one redraw are folded into one look at the keys.
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if not self._update_pending:
            self._update_pending = True
            self.call_after_refresh(self._update)

    def _update(self) -> None:
        self._update_pending = False
        if not self.is_attached:
            return
        keys = self.keys_of(self.screen)
        if keys != self.keys:
            self.keys = keys
            self.repaints += 1
            self._hovered = None
            self.refresh()          # one row, the same size: no layout

    def render(self) -> Text:
        item = self.get_component_rich_style("key-bar--item")
        key_style = self.get_component_rich_style("key-bar--key")
        description_style = self.get_component_rich_style("key-bar--description")
        hover = self.get_component_rich_style("key-bar--hover")
        text = Text(no_wrap=True, overflow="crop")
        spans = []
        for i, key in enumerate(self.keys):
            if i:
                text.append(" ")
            start = text.cell_len
            base = hover if i == self._hovered else item
            if not key.enabled:
                base += Style(dim=True)
            label = Text.assemble((key.display, key_style),
                                  (" " + key.description, description_style) if key.description else "")
            label.stylize_before(base)
            text.append_text(label)
            spans.append((start, text.cell_len))
        self._spans = spans
        return text

    def key_at(self, x: int) -> Key | None:
        for i, (start, end) in enumerate(self._spans):
            if start <= x < end and i < len(self.keys):
                return self.keys[i]
        return None

    def on_mouse_move(self, event: events.MouseMove) -> None:
        key = self.key_at(event.x)
        hovered = None if key is None else self.keys.index(key)
        if hovered != self._hovered:
            self._hovered = hovered
            self.tooltip = key.tooltip if key is not None and key.tooltip else None
            self.refresh()

    def on_leave(self) -> None:
        if self._hovered is not None:
            self._hovered = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        key = self.key_at(event.x)
        if key is None:
            return
        if key.enabled:
            self.app.simulate_key(key.key)
        else:
            self.app.bell()
