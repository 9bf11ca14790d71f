"""The app's side of running programs, with no widgets: the engine handle, the one
current run (its id, the live runs, a cancel request, one lock), the thread workers that
block on the engine, the messages they post (messages.py), the program's typed input,
recording each run in the history, warming, and quitting.

A "run" of the app is usually one engine run; F6 makes it two (the same program with a
toggle off and on), started together, each an ordinary run of its own.

The controller talks to its engine through `Engine` below: `runner.Sandbox` is one; a
client of a remote sandbox service can be another, behind the same few calls.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Protocol

from runner import EngineInfo, Event, Finished, Language, Limits, RunResult, Sandbox, SandboxError, Started

from ..history.records import user_name
from .messages import EngineFailed, EngineReady, HistoryFailed, PairSide, RunEvent, RunFailed

if TYPE_CHECKING:
    from textual.app import App
    from textual.timer import Timer

    from ..history.store import History

QUIT_WAIT_S = 15.0
# A spare container is asked for once the language and limits have settled this long.
WARM_DELAY_S = 0.3
RUN_GROUP = "run"


class Run(Protocol):
    def events(self) -> Iterator[Event]:
        """Started, Phase, Output, Stats, then Finished(result). Blocks: call from a thread."""

    def cancel(self) -> None:
        """Stop the run, from any thread: its Finished says cancelled."""

    def send_input(self, data: str | bytes) -> None:
        """More standard input, for an interactive run. Any thread; never blocks."""

    def close_input(self) -> None:
        """End of file on an interactive run's standard input."""


class Engine(Protocol):
    """What the controller asks of an engine. Optional, looked up when used:
    `warm(language, limits)` keeps a spare container ready for these settings (must not
    block); `wait_for_cleanup(timeout)` blocks until finished runs' containers are
    removed; `close()` does that and lets go of the engine."""

    @property
    def info(self) -> EngineInfo:
        """Blocks the first time (it connects): call from a thread."""

    def start(self, source: str, language: Language, limits: Limits, stdin: str | bytes | None = None,
              *, interactive: bool = False) -> Run:
        """Checks the request and returns the run; raises SandboxError. Its standard input
        is stdin then end of file, or, interactive, open for send_input until close_input."""


def keep_private(path: Path) -> None:
    """The history is the learner's alone: its folder and files readable by them only,
    whatever the umask (on a shared classroom machine it would be 0644 otherwise)."""
    try:
        path.parent.chmod(0o700)
        for name in (path.name, path.name + "-wal", path.name + "-shm"):
            file = path.parent / name
            if file.exists():
                file.chmod(0o600)
    except OSError:
        pass      # not ours to change (a shared path given on purpose): leave it


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
        self._lock = threading.Lock()         # guards the fields below (workers use them)
        self._live: list[Run] = []            # the engine runs going now (two for F6)
        self._input_run: Run | None = None    # the one that takes what the learner types
        self._pending_input: list[str | None] = []    # typed before that run existed; None: EOF
        self._typed: dict[Run, list[str]] = {}        # what each run was sent, for the history
        self._cancel_requested = False
        # The history: every run the app makes is recorded (unless the learner turns it off),
        # in the worker, when it ends. history_path None: the default, in the XDG data dir.
        self.record_history = True
        self.history_path: Path | None = None
        self._history: History | None = None
        self._history_lock = threading.Lock()
        self.recorded: list[str] = []         # ids this app recorded, newest last
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
            self._pending_input = []
            self._input_run = None
        return self.run_id

    def start(self, source: str, language: Language, limits: Limits, *, stdin: str | bytes | None = None,
              interactive: bool = False) -> int:
        """Begin a run and start it in a thread worker; returns its id. Interactive, the
        program's standard input stays open for send_input, until close_input."""
        run_id = self.begin(limits)
        self.app.run_worker(partial(self._follow, run_id, source, language, limits, stdin, interactive),
                            name=f"run {run_id}", group=RUN_GROUP, thread=True, exit_on_error=False)
        return run_id

    def start_pair(self, source: str, language: Language, sides: tuple[Limits, Limits], *,
                   stdin: str | bytes | None = None) -> int:
        """F6: the same program under two sets of limits, at once, each an ordinary run in
        a fresh container, recorded like any other. Each side's end comes as a PairSide."""
        run_id = self.begin(sides[0])
        for side, limits in enumerate(sides):
            self.app.run_worker(partial(self._collect, run_id, side, source, language, limits, stdin),
                                name=f"run {run_id}.{side}", group=RUN_GROUP, thread=True, exit_on_error=False)
        return run_id

    def post_event(self, run_id: int, event: Event) -> None:
        """One engine event in, one message out. Thread-safe: post_message is."""
        self.app.post_message(RunEvent(run_id, event))

    def _launch(self, source: str, language: Language, limits: Limits, stdin: str | bytes | None,
                interactive: bool) -> Run:
        """Start one engine run and make it live (cancellable). Raises SandboxError."""
        try:
            if interactive or stdin is not None:
                run = self.engine().start(source, language, limits, stdin, interactive=interactive)
            else:
                run = self.engine().start(source, language, limits)
        except SandboxError:
            raise
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            raise SandboxError(f"the run failed: {exc!r}") from exc
        with self._lock:
            self._live.append(run)
            cancel_now = self._cancel_requested
            pending: list[str | None] = []
            if interactive:
                self._input_run = run
                pending, self._pending_input = self._pending_input, []
        if cancel_now:      # ctrl+k (or quit) came while the run was being set up
            run.cancel()
        for text in pending:         # typed while the run was being set up
            self._deliver(run, text)
        return run

    def _retire(self, run: Run) -> None:
        with self._lock:
            if run in self._live:
                self._live.remove(run)
            if self._input_run is run:
                self._input_run = None
            self._typed.pop(run, None)

    def _given_input(self, run: Run, stdin: str | bytes | None) -> str | bytes | None:
        """What the program was given to read: its prepared input, then what was typed."""
        with self._lock:
            typed = "".join(self._typed.get(run, ()))
        if not typed:
            return stdin
        return stdin + typed.encode("utf-8") if isinstance(stdin, bytes) else (stdin or "") + typed

    def _follow(self, run_id: int, source: str, language: Language, limits: Limits,
                stdin: str | bytes | None = None, interactive: bool = False) -> None:
        """The run's worker: start it, post each event, record it when it ends. Every
        failure becomes RunFailed (and is recorded too)."""
        queued_at = time.time()
        try:
            run = self._launch(source, language, limits, stdin, interactive)
        except SandboxError as exc:
            self._record_failure(source, language, limits, exc, queued_at, stdin=stdin)
            self.app.post_message(RunFailed(run_id, exc))
            return
        started_at = None
        try:
            for event in run.events():
                if isinstance(event, Started):
                    started_at = time.time()
                elif isinstance(event, Finished):
                    # Recorded here, in the worker, before the app hears of the end: what
                    # the learner sees as finished is in the history already.
                    self._record(source, event.result, queued_at, started_at,
                                 self._given_input(run, stdin))
                self.post_event(run_id, event)
        except SandboxError as exc:
            self._record_failure(source, language, limits, exc, queued_at, started_at,
                                 self._given_input(run, stdin))
            self.app.post_message(RunFailed(run_id, exc))
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            error = SandboxError(f"the run failed unexpectedly: {exc!r}")
            self._record_failure(source, language, limits, error, queued_at, started_at,
                                 self._given_input(run, stdin))
            self.app.post_message(RunFailed(run_id, error))
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
        except SandboxError as exc:
            error = exc
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            error = SandboxError(f"the run failed unexpectedly: {exc!r}")
        finally:
            if run is not None:
                self._retire(run)
        if result is not None:
            self._record(source, result, queued_at, started_at, stdin)
        else:
            error = error or SandboxError("the run ended without a result")
            self._record_failure(source, language, limits, error, queued_at, started_at, stdin)
        self.app.post_message(PairSide(run_id, side, limits, result, error))

    # --- the program's standard input ----------------------------------------------------

    def send_input(self, text: str) -> None:
        """What the learner typed, to the running program (or to the run being set up)."""
        self._give(text)

    def close_input(self) -> None:
        """End of file on the program's standard input."""
        self._give(None)

    def _give(self, text: str | None) -> None:
        with self._lock:
            run = self._input_run
            if run is None:
                self._pending_input.append(text)
                return
        self._deliver(run, text)

    def _deliver(self, run: Run, text: str | None) -> None:
        # Noted before it is sent: the program may read it and end at once, and its
        # history row is written as it ends.
        if text is not None:
            with self._lock:
                self._typed.setdefault(run, []).append(text)
        try:
            if text is None:
                run.close_input()
            else:
                run.send_input(text)
        except (ValueError, SandboxError, OSError) as exc:   # the run is over: nothing reads it
            self.app.log.warning(f"input not delivered: {exc!r}")

    # --- the history -------------------------------------------------------------------

    def history(self) -> History:
        """The history store, opened on first use. Blocks (SQLite): workers only."""
        from ..history.store import History

        with self._history_lock:
            if self._history is None:
                self._history = History(self.history_path)
                keep_private(self._history.path)
            return self._history

    def _record(self, source: str, result: RunResult, queued_at: float, started_at: float | None,
                stdin: str | bytes | None = None) -> None:
        if not self.record_history:
            return
        from ..history.store import RunRecord

        record_id = uuid.uuid4().hex[:16]
        self._store(RunRecord.of_result(id=record_id, user=user_name(), origin="app", source=source,
                                        result=result, queued_at=queued_at, started_at=started_at,
                                        stdin=stdin))

    def _record_failure(self, source: str, language: Language, limits: Limits, error: SandboxError,
                        queued_at: float, started_at: float | None = None,
                        stdin: str | bytes | None = None) -> None:
        if not self.record_history:
            return
        from ..history.store import RunRecord

        record_id = uuid.uuid4().hex[:16]
        self._store(RunRecord.of_failure(id=record_id, user=user_name(), origin="app", source=source,
                                         language=language.name, limits=limits, message=error.message,
                                         queued_at=queued_at, started_at=started_at, stdin=stdin))

    def _store(self, record) -> None:
        try:
            history = self.history()
            try:
                history.add(record)
            finally:
                history.close()      # this worker thread's connection: the thread ends soon
        except Exception as exc:  # noqa: BLE001 - a history that cannot be written never stops a run
            self.app.post_message(HistoryFailed(f"this run was not recorded: {exc}"))
            return
        self.recorded.append(record.id)

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
        """Cancel the current run(s) (or those being set up); True if a run was live."""
        with self._lock:
            self._cancel_requested = True
            runs = list(self._live)
        for run in runs:
            run.cancel()
        return bool(runs)

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
            live = bool(self._live)
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
