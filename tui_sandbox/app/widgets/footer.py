"""The key bar at the bottom, rebuilt only when what it shows has changed.

Textual's Footer rebuilds every key it shows (a dozen widgets, each styled anew) whenever
the bindings may have changed: every focus change and every refresh_bindings. A run makes
several (the input line takes the focus, ctrl+k appears, both go again at the end):
measured, 80 rebuilds in 10 hello-world runs, a third of the app's CPU for them, which a
class of thirty on one host pays thirty times. Most of those rebuilds show the very same
keys. This one compares first, and folds the changes that come before one redraw into a
single rebuild."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class KeyBar(Footer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple | None = None       # the keys of the last rebuild
        self._rebuild_pending = False

    @staticmethod
    def keys_of(screen: Screen) -> tuple:
        """What the bar shows for this screen's bindings: key, label, action, enabled."""
        return tuple((binding.key, binding.description, binding.action, enabled, tooltip)
                     for _, binding, enabled, tooltip in screen.active_bindings.values() if binding.show)

    def bindings_changed(self, screen: Screen) -> None:
        # As Footer's (it reads _bindings_ready in compose), but a rebuild only when needed.
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if self._rebuild_pending or self.keys_of(screen) == self._shown:
            return
        self._rebuild_pending = True
        self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_pending = False
        shown = self.keys_of(self.screen)
        if shown != self._shown:
            self._shown = shown
            await self.recompose()
