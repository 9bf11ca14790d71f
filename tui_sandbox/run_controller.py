"""The app's side of running programs, with no widgets: the engine handle, the one
current run (its id, the live run, a cancel request, one lock), the thread workers that
block on the engine, the messages they post (messages.py), warming, and quitting.

The controller talks to its engine through `Engine` below: `runner.Sandbox` is one; a
client of a remote sandbox service can be another, behind the same few calls.
"""

from __future__ import annotations

import asyncio
import threading
from functools import partial
from typing import TYPE_CHECKING, Callable, Iterator, Protocol

from runner import EngineInfo, Event, Language, Limits, RunResult, Sandbox, SandboxError

from .messages import EngineFailed, EngineReady, RunEvent, RunFailed

if TYPE_CHECKING:
    from textual.app import App
    from textual.timer import Timer

QUIT_WAIT_S = 15.0
# A spare container is asked for once the language and limits have settled this long.
WARM_DELAY_S = 0.3
RUN_GROUP = "run"


class Run(Protocol):
    def events(self) -> Iterator[Event]:
        """Started, Phase, Output, Stats, then Finished(result). Blocks: call from a thread."""

    def cancel(self) -> None:
        """Stop the run, from any thread: its Finished says cancelled."""


class Engine(Protocol):
    """What the controller asks of an engine. Optional, looked up when used:
    `warm(language, limits)` keeps a spare container ready for these settings (must not
    block); `wait_for_cleanup(timeout)` blocks until finished runs' containers are
    removed; `close()` does that and lets go of the engine."""

    @property
    def info(self) -> EngineInfo:
        """Blocks the first time (it connects): call from a thread."""

    def start(self, source: str, language: Language, limits: Limits) -> Run:
        """Checks the request and returns the run; raises SandboxError."""


class RunController:
    """One run at a time, for one app. Every method but the workers' runs on the UI thread."""

    def __init__(self, app: App, engine: Engine | None = None,
                 make_engine: Callable[[], Engine] = Sandbox) -> None:
        self.app = app
        self._engine = engine                 # tests inject one; otherwise made in a worker
        self._make_engine = make_engine
        self._owns_engine = engine is None    # only an engine made here is closed here
        self._engine_lock = threading.Lock()
        self._engine_ready = False
        # The current run. run_id tells its messages from a previous run's late ones;
        # running is the UI's view: true from start until the app has shown the end.
        self.run_id = 0
        self.running = False
        self.limits: Limits | None = None     # the limits the current (or last) run started with
        self.last_result: RunResult | None = None
        self._lock = threading.Lock()         # guards _run and _cancel_requested (workers use them)
        self._run: Run | None = None
        self._cancel_requested = False
        # Warming: the next run's settings, and the last ones the engine was asked to warm.
        self._next: tuple[Language, Limits] | None = None
        self._warmed: tuple[Language, Limits] | None = None
        self._warm_timer: Timer | None = None
        self._stopped = False

    # --- the engine --------------------------------------------------------------------

    def engine(self) -> Engine:
        """The shared engine, made on first use. Called from workers only: it may block."""
        with self._engine_lock:
            if self._engine is None:
                self._engine = self._make_engine()
            return self._engine

    def connect(self) -> None:
        """Reach the engine in a thread; posts EngineReady or EngineFailed."""
        self.app.run_worker(self._connect, name="connect", group="engine", thread=True,
                            exit_on_error=False)

    def _connect(self) -> None:
        try:
            engine = self.engine()
            info = engine.info       # fetched here, in the thread: it asks the engine
        except SandboxError as exc:
            self.app.post_message(EngineFailed(exc))
        else:
            self._engine_ready = True
            self.app.post_message(EngineReady(info))

    # --- one run -----------------------------------------------------------------------

    def begin(self, limits: Limits) -> int:
        """Make a new run the current one; returns the id its messages carry."""
        self.run_id += 1
        self.running = True
        self.limits = limits
        with self._lock:
            self._cancel_requested = False
        return self.run_id

    def start(self, source: str, language: Language, limits: Limits) -> int:
        """Begin a run and start it in a thread worker; returns its id."""
        run_id = self.begin(limits)
        self.app.run_worker(partial(self._follow, run_id, source, language, limits),
                            name=f"run {run_id}", group=RUN_GROUP, thread=True, exit_on_error=False)
        return run_id

    def post_event(self, run_id: int, event: Event) -> None:
        """One engine event in, one message out. Thread-safe: post_message is."""
        self.app.post_message(RunEvent(run_id, event))

    def _follow(self, run_id: int, source: str, language: Language, limits: Limits) -> None:
        """The run's worker: start it, post each event. Every failure becomes RunFailed."""
        try:
            run = self.engine().start(source, language, limits)
        except SandboxError as exc:
            self.app.post_message(RunFailed(run_id, exc))
            return
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            self.app.post_message(RunFailed(run_id, SandboxError(f"the run failed: {exc!r}")))
            return
        with self._lock:
            self._run = run
            cancel_now = self._cancel_requested
        if cancel_now:      # ctrl+k (or quit) came while the run was being set up
            run.cancel()
        try:
            for event in run.events():
                self.post_event(run_id, event)
        except SandboxError as exc:
            self.app.post_message(RunFailed(run_id, exc))
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            self.app.post_message(RunFailed(run_id, SandboxError(f"the run failed unexpectedly: {exc!r}")))
        finally:
            with self._lock:
                if self._run is run:
                    self._run = None

    def is_current(self, run_id: int) -> bool:
        return run_id == self.run_id

    def end(self, result: RunResult | None = None) -> None:
        """The app has shown the current run's end: its result, or None when it failed."""
        self.running = False
        if result is not None:
            self.last_result = result
        self._warmed = None       # the spare went to this run (if it matched): ask again
        self._warm_soon()

    def cancel(self) -> bool:
        """Cancel the current run (or the one being set up); True if a run was live."""
        with self._lock:
            self._cancel_requested = True
            run = self._run
        if run is not None:
            run.cancel()
        return run is not None

    # --- warming -----------------------------------------------------------------------

    def prepare(self, language: Language, limits: Limits | None) -> None:
        """The next run's settings changed (limits None: not valid now). Once they have
        settled, the engine is asked to keep a container ready for them."""
        self._next = (language, limits) if limits is not None else None
        self._warm_soon()

    def _warm_soon(self) -> None:
        if self._warm_timer is not None:
            self._warm_timer.stop()
        self._warm_timer = None
        if self._next is not None and not self._stopped:
            self._warm_timer = self.app.set_timer(WARM_DELAY_S, self._warm, name="warm")

    def _warm(self) -> None:
        self._warm_timer = None
        if (self._next is None or self._next == self._warmed or self.running or self._stopped
                or not self._engine_ready or not self._owns_engine):
            return
        # A spare outlives the run, until the engine is closed: only an engine made here
        # (closed by close()) gets one; an injected engine's owner would find a container
        # it never asked for. And until every engine has warm(), one without starts cold.
        warm = getattr(self._engine, "warm", None)
        if warm is None:
            return
        language, limits = self._next
        try:
            warm(language, limits)
        except SandboxError as exc:
            self.app.log.warning(f"no spare container: {exc}")
            return
        except Exception as exc:  # noqa: BLE001 - a spare is an optimisation, never a crash
            self.app.log.error(f"warming failed: {exc!r}")
            return
        self._warmed = self._next

    # --- quitting ----------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """A run is going, or its worker is still finishing it."""
        with self._lock:
            live = self._run is not None
        return live or self.running

    def stop(self) -> None:
        """No more warming; cancel the run. For the app's exit: its container is killed."""
        self._stopped = True
        if self._warm_timer is not None:
            self._warm_timer.stop()
            self._warm_timer = None
        self.cancel()

    async def quit(self, timeout: float = QUIT_WAIT_S) -> None:
        """Stop, then wait (at most timeout in all) for the run's worker to finish and its
        container to be removed. The worker is a thread, which exiting the app does not
        stop, and under a test's event loop nothing would wait for it at all."""
        self.stop()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        workers = [w for w in self.app.workers if w.group == RUN_GROUP and not w.is_finished]
        if workers:
            try:
                await asyncio.wait_for(self.app.workers.wait_for_complete(workers), timeout)
            except asyncio.TimeoutError:
                return
        # The run's container is killed by now; the engine removes it off the run's path.
        wait_for_cleanup = getattr(self._engine, "wait_for_cleanup", None)
        remaining = deadline - loop.time()
        if wait_for_cleanup is not None and remaining > 0:
            await asyncio.to_thread(wait_for_cleanup, remaining)

    def close_soon(self) -> None:
        """close() in a thread of its own, for the app's last moments, which must not
        block. Not a daemon: the process waits for it before it ends."""
        if self._owns_engine and self._engine is not None:
            threading.Thread(target=self.close, name="tui-sandbox-close").start()

    def close(self) -> None:
        """After the app has gone: wait for the engine to remove finished runs' containers,
        and let go of it. Only an engine made here; an injected one is its owner's. Blocks."""
        if not self._owns_engine:
            return
        with self._engine_lock:
            engine, self._engine = self._engine, None
        close = getattr(engine, "close", None)
        if close is not None:
            try:
                close()
            except Exception:  # noqa: BLE001 - the app is gone; nothing left to tell
                pass
