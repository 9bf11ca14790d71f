"""The app's side of running programs, with no widgets: the engine handle, the one
current run (its id, the live runs, a cancel request, one lock), the thread workers that
block on the engine, the messages they post (messages.py) to the screen that shows the
runs, warming, and quitting. The program's typed input is typed_input.py's; recording
each run, run_history.py's. It knows no widget and no App: the main screen connects it,
calls it, and hears from it.

A "run" of the app is usually one engine run; F6 makes it two (the same program with a
toggle off and on), started together, each an ordinary run of its own.

The controller talks to its engine through `runner.Engine` (runner/front.py): the local
`runner.Sandbox` is one, a remote sandbox service's client (remote.py) another.
"""

from __future__ import annotations

import asyncio
import threading
import time
from functools import partial
from typing import TYPE_CHECKING, Callable

from runner import Engine, Event, Finished, Language, Limits, RunHandle, RunResult, Sandbox, SandboxError, Started

from .messages import EngineFailed, EngineReady, Outbox, PairSide, RunEvent, RunFailed
from .run_history import RunHistory
from .typed_input import TypedInput
from .warming import Warming

if TYPE_CHECKING:
    from textual.dom import DOMNode

QUIT_WAIT_S = 15.0
RUN_GROUP = "run"


class RunController:
    """One run at a time, for one app. Every method but the workers' runs on the UI thread."""

    def __init__(self, engine: Engine | None = None, make_engine: Callable[[], Engine] = Sandbox) -> None:
        self.outbox = Outbox()                # the screen that hears it, once connected
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
        self._lock = threading.Lock()         # guards the fields below (workers use them)
        self._live: list[RunHandle] = []      # the engine runs going now (two for F6)
        self._cancel_requested = False
        self.input = TypedInput(self.outbox.warn)
        # Every run the app makes is recorded (unless the learner turns it off), in the
        # worker, when it ends.
        self.history = RunHistory(self.outbox.post)
        self.warming = Warming(self.outbox, self._warmable)

    # --- the engine --------------------------------------------------------------------

    def engine(self) -> Engine:
        """The shared engine, made on first use. Called from workers only: it may block."""
        with self._engine_lock:
            if self._engine is None:
                self._engine = self._make_engine()
            return self._engine

    def connect(self, screen: DOMNode) -> None:
        """From now on the screen hears this controller (messages.py) and runs its
        workers. Reaches the engine in a thread; posts EngineReady or EngineFailed."""
        self.outbox.screen = screen
        self.outbox.run_worker(self._connect, "connect", group="engine")

    def _connect(self) -> None:
        try:
            engine = self.engine()
            info = engine.info       # fetched here, in the thread: it asks the engine
        except SandboxError as exc:
            self.outbox.post(EngineFailed(exc))
        else:
            self._engine_ready = True
            self.outbox.post(EngineReady(info))

    # --- one run -----------------------------------------------------------------------

    def begin(self, limits: Limits) -> int:
        """Make a new run the current one; returns the id its messages carry."""
        self.run_id += 1
        self.running = True
        self.limits = limits
        with self._lock:
            self._cancel_requested = False
        self.input.reset()
        return self.run_id

    def start(self, source: str, language: Language, limits: Limits, *, stdin: str | bytes | None = None,
              interactive: bool = False, expected_output: str | None = None) -> int:
        """Begin a run and start it in a thread worker; returns its id. Interactive, the
        program's standard input stays open for what the learner types (self.input). With
        an expected output, the result says whether the program gave it."""
        run_id = self.begin(limits)
        self.outbox.run_worker(partial(self._follow, run_id, source, language, limits, stdin, interactive,
                                       expected_output), f"run {run_id}", RUN_GROUP)
        return run_id

    def start_pair(self, source: str, language: Language, sides: tuple[Limits, Limits], *,
                   stdin: str | bytes | None = None) -> int:
        """F6: the same program under two sets of limits, at once, each an ordinary run in
        a fresh container, recorded like any other. Each side's end comes as a PairSide."""
        run_id = self.begin(sides[0])
        for side, limits in enumerate(sides):
            self.outbox.run_worker(partial(self._collect, run_id, side, source, language, limits, stdin),
                                   f"run {run_id}.{side}", RUN_GROUP)
        return run_id

    def post_event(self, run_id: int, event: Event) -> None:
        """One engine event in, one message out. Thread-safe: post_message is."""
        self.outbox.post(RunEvent(run_id, event))

    def _launch(self, source: str, language: Language, limits: Limits, stdin: str | bytes | None,
                interactive: bool, expected_output: str | None = None) -> RunHandle:
        """Start one engine run and make it live (cancellable). Raises SandboxError."""
        # Only what the run needs is asked for: a smaller engine may know no more.
        options = {"stdin": stdin, "interactive": interactive} if interactive or stdin is not None else {}
        if expected_output is not None:
            options["expected_output"] = expected_output
        try:
            run = self.engine().start(source, language, limits, **options)
        except SandboxError:
            raise
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            raise SandboxError(f"the run failed: {exc!r}") from exc
        with self._lock:
            self._live.append(run)
            cancel_now = self._cancel_requested
        if cancel_now:      # ctrl+k (or quit) came while the run was being set up
            run.cancel()
        if interactive:
            self.input.attach(run)
        return run

    def _retire(self, run: RunHandle) -> None:
        with self._lock:
            if run in self._live:
                self._live.remove(run)
        self.input.detach(run)

    def _follow(self, run_id: int, source: str, language: Language, limits: Limits,
                stdin: str | bytes | None = None, interactive: bool = False,
                expected_output: str | None = None) -> None:
        """The run's worker: start it, post each event, record it when it ends. Every
        failure becomes RunFailed (and is recorded too)."""
        queued_at = time.time()
        try:
            run = self._launch(source, language, limits, stdin, interactive, expected_output)
        except SandboxError as exc:
            self.history.record_failure(source, language, limits, exc, queued_at, stdin=stdin)
            self.outbox.post(RunFailed(run_id, exc))
            return
        started_at = None
        try:
            for event in run.events():
                if isinstance(event, Started):
                    started_at = time.time()
                elif isinstance(event, Finished):
                    # Recorded here, in the worker, before the app hears of the end: what
                    # the learner sees as finished is in the history already.
                    self.history.record(source, event.result, queued_at, started_at, self.input.given(run, stdin))
                self.post_event(run_id, event)
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            error = exc if isinstance(exc, SandboxError) else SandboxError(f"the run failed unexpectedly: {exc!r}")
            self.history.record_failure(source, language, limits, error, queued_at, started_at,
                                        self.input.given(run, stdin))
            self.outbox.post(RunFailed(run_id, error))
        finally:
            self._retire(run)

    def _collect(self, run_id: int, side: int, source: str, language: Language, limits: Limits,
                 stdin: str | bytes | None) -> None:
        """One side of an F6 pair, run to its end: its result (or why it could not run)."""
        queued_at = time.time()
        started_at = None
        result: RunResult | None = None
        error: SandboxError | None = None
        run = None
        try:
            run = self._launch(source, language, limits, stdin if stdin is not None else "", False)
            for event in run.events():
                if isinstance(event, Started):
                    started_at = time.time()
                elif isinstance(event, Finished):
                    result = event.result
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            error = exc if isinstance(exc, SandboxError) else SandboxError(f"the run failed unexpectedly: {exc!r}")
        finally:
            if run is not None:
                self._retire(run)
        if result is not None:
            self.history.record(source, result, queued_at, started_at, stdin)
        else:
            error = error or SandboxError("the run ended without a result")
            self.history.record_failure(source, language, limits, error, queued_at, started_at, stdin)
        self.outbox.post(PairSide(run_id, side, limits, result, error))

    def is_current(self, run_id: int) -> bool:
        return run_id == self.run_id

    def end(self, result: RunResult | None = None) -> None:
        """The app has shown the current run's end: its result, or None when it failed."""
        self.running = False
        self.last_result = result or self.last_result
        self.warming.again()

    def cancel(self) -> bool:
        """Cancel the current run(s) (or those being set up); True if a run was live."""
        with self._lock:
            self._cancel_requested = True
            runs = list(self._live)
        for run in runs:
            run.cancel()
        return bool(runs)

    def _warmable(self) -> Engine | None:
        # A spare outlives the run, until the engine is closed: only an engine made here
        # (closed by close()) gets one; an injected engine's owner would find a container
        # it never asked for.
        if self.running or not self._engine_ready or not self._owns_engine:
            return None
        return self._engine

    # --- quitting ----------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """A run is going, or its worker is still finishing it."""
        with self._lock:
            live = bool(self._live)
        return live or self.running

    def stop(self) -> None:
        """No more warming; cancel the run. For the app's exit: its container is killed."""
        self.warming.stop()
        self.cancel()

    async def quit(self, timeout: float = QUIT_WAIT_S) -> None:
        """Stop, then wait (at most timeout in all) for the run's worker to finish and its
        container to be removed. The worker is a thread, which exiting the app does not
        stop, and under a test's event loop nothing would wait for it at all."""
        self.stop()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if not await self.outbox.wait_for_workers(RUN_GROUP, timeout):
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


def make_controller(engine: Engine | None = None, *, server: str | None = None,
                    user: str | None = None, token: str | None = None) -> RunController:
    """The local engine (or the one given: tests inject theirs); with server, that
    `tui-sandbox serve`, which runs everything and keeps the history of it too."""
    if not server:
        return RunController(engine=engine)
    from ..history.records import user_name
    from ..remote import RemoteSandbox

    return RunController(engine=engine, make_engine=lambda: RemoteSandbox(server, user=user or user_name(),
                                                                                token=token))
