"""A spare container for the next run: once the language and limits on screen have
settled, the engine is asked to keep one ready for exactly them, so ctrl+r starts at
once. Never while a run goes; and again after a run, whose spare it took."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from textual import log

from runner import Engine, Language, Limits, SandboxError

if TYPE_CHECKING:
    from textual.timer import Timer

    from .messages import Outbox

# A spare container is asked for once the language and limits have settled this long.
WARM_DELAY_S = 0.3


class Warming:
    """On the UI thread. ready() says whether the engine may be asked now (it is made
    here and reached, no run is going), and gives it. The timer that waits for the
    settings to settle is the outbox's screen's."""

    def __init__(self, outbox: Outbox, ready: Callable[[], Engine | None]) -> None:
        self._outbox = outbox
        self._ready = ready
        self._next: tuple[Language, Limits] | None = None      # the next run's settings
        self._warmed: tuple[Language, Limits] | None = None    # the last ones asked for
        self._timer: Timer | None = None
        self._stopped = False

    def prepare(self, language: Language, limits: Limits | None) -> None:
        """The next run's settings changed (limits None: not valid now)."""
        self._next = (language, limits) if limits is not None else None
        self.soon()

    def again(self) -> None:
        """A run has ended: the spare went to it (if it matched), so ask again."""
        self._warmed = None
        self.soon()

    def soon(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = None
        if self._next is not None and not self._stopped:
            self._timer = self._outbox.set_timer(WARM_DELAY_S, self._warm, name="warm")

    def stop(self) -> None:
        """No more warming: the app is going."""
        self._stopped = True
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _warm(self) -> None:
        self._timer = None
        if self._next is None or self._next == self._warmed or self._stopped:
            return
        engine = self._ready()
        # Until every engine has warm(), one without starts cold.
        warm = getattr(engine, "warm", None)
        if warm is None:
            return
        language, limits = self._next
        try:
            warm(language, limits)
        except SandboxError as exc:
            log.warning(f"no spare container: {exc}")
            return
        except Exception as exc:  # noqa: BLE001 - a spare is an optimisation, never a crash
            log.error(f"warming failed: {exc!r}")
            return
        self._warmed = self._next
