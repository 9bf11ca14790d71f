"""The engine's front door: check a request, start runs, keep spares warm, clean up.

    with Sandbox() as sandbox:                       # connects when first needed
        run = sandbox.start("print(1)", "python")    # a Run; nothing has run yet
        for event in run.events(): ...                # blocking, from a thread worker
        run.cancel()                                  # from any thread

    async for event in sandbox.stream("print(1)", "python"): ...   # from asyncio

Nothing happens at import or construction: a server can own one for its whole life.
"""

from __future__ import annotations

import threading
from typing import Any, AsyncIterator

from .backend import Backend, Container, EngineInfo, ImageStatus, Progress
from .errors import SourceError
from .events import Event, Finished, RunResult
from .front import Engine
from .languages import Language, load_languages, resolve
from .limits import Limits
from .run import Run
from .runtimes import KNOWN

MAX_SOURCE_BYTES = 8 * 1024 * 1024


class Sandbox(Engine):
    """One engine connection, shared by every run of one app, command or server.
    spares_per_kind and warm_kinds size the warm spares that `warm` asks for (an app
    wants one kind, a server a few), spare_idle_s how long an unused spare waits."""

    def __init__(self, backend: Backend | None = None, languages: dict[str, Language] | None = None,
                 **backend_options: Any) -> None:
        self._backend = backend
        # For the default backend, made on first use: spares_per_kind, warm_kinds,
        # spares_in_all, spare_idle_s.
        self._backend_options = backend_options
        self._lock = threading.Lock()
        self._languages = languages
        self._closed = False

    @property
    def backend(self) -> Backend:
        """The engine, connected on first use: raises EngineUnavailable with the fix."""
        with self._lock:
            if self._backend is None:
                from .docker.backend import DockerBackend

                self._backend = DockerBackend(**self._backend_options)
            return self._backend

    @property
    def languages(self) -> dict[str, Language]:
        if self._languages is None:
            self._languages = load_languages()
        return self._languages

    @property
    def info(self) -> EngineInfo:
        return self.backend.info()

    def check(self, limits: Limits) -> Limits:
        """The limits as this engine runs them, checked: a runtime left to the engine made
        its default (Limits.resolved), the one place that is decided, so that a run, its
        spare and its result all name the same runtime. Raises LimitError or
        RuntimeUnavailable."""
        limits = limits.resolved(self.info.runtimes)
        self.backend.check(limits)
        return limits

    def language(self, language: str | Language) -> Language:
        return language if isinstance(language, Language) else resolve(language, self.languages)

    def start(self, source: str | bytes, language: str | Language, limits: Limits | None = None,
              stdin: str | bytes | None = None, *, interactive: bool = False,
              expected_output: str | None = None) -> Run:
        """Check everything that can be checked before the run; return it, not yet begun.
        Its container is made (or taken from the spares) in the background meanwhile, for
        the limits as the engine runs them (check): a spare warmed for the same request
        matches.

        The program's standard input is `stdin`, then end of file; or, when interactive,
        `stdin` and then whatever run.send_input() sends, until run.close_input().
        With expected_output, the result says whether the output was that (passed,
        first_difference: runner.expected)."""
        lang = self.language(language)
        limits = (limits or Limits()).validate()
        code = source.encode("utf-8") if isinstance(source, str) else source
        if len(code) > MAX_SOURCE_BYTES:
            raise SourceError(f"the program is {len(code)} bytes; the most is {MAX_SOURCE_BYTES}")
        data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
        if self.backend.known_info() is not None:
            # The engine's runtimes are known: checking costs nothing a container waits on.
            limits = self.check(limits)
            reservation = _Reservation(self.backend, lang, limits)
        else:
            reservation, limits = self._first_reservation(lang, limits)
        return Run(reservation.take, language=lang, source=code, limits=limits, stdin=data,
                   interactive=interactive, expected_output=expected_output)

    def _first_reservation(self, lang: Language, limits: Limits) -> tuple[_Reservation, Limits]:
        """Until the engine has been asked (a command's only run), its runtimes are not
        known: the container is made for the one a run that names none most likely gets
        while the engine is asked (its /info is a few milliseconds of a cold run), and made
        again in the rare case the engine's choice is another."""
        likely = limits.resolved(KNOWN)
        reservation = _Reservation(self.backend, lang, likely)
        try:
            checked = self.check(limits)
        except BaseException:
            reservation.discard()
            raise
        if checked != likely:
            reservation.discard()
            reservation = _Reservation(self.backend, lang, checked)
        return reservation, checked

    def warm(self, language: str | Language, limits: Limits | None = None) -> None:
        """Keep a spare container ready for runs of exactly this language and these
        limits, so the next such run skips Docker's create and start. Never blocks: a
        bad request or an engine that is not there only means no spare."""
        def want() -> None:
            if self._closed:
                return
            try:
                lang, checked = self.language(language), self.check(limits or Limits())
                # Closed meanwhile (a server stopping as its last requests come in), the
                # spare would go to an engine connection nobody closes: none is made.
                with self._lock:
                    backend = None if self._closed else self._backend
                if backend is not None:
                    backend.warm(lang, checked)
            except Exception:  # noqa: BLE001 - the run itself reports what is wrong
                pass

        threading.Thread(target=want, daemon=True, name="tui-sandbox-warm").start()

    def run(self, source: str | bytes, language: str | Language, limits: Limits | None = None,
            stdin: str | bytes | None = None) -> RunResult:
        """Run to the end and return the result (events are dropped)."""
        run = self.start(source, language, limits, stdin)
        for event in run.events():
            if isinstance(event, Finished):
                return event.result
        raise AssertionError("a run always ends with Finished")

    async def stream(self, source: str | bytes, language: str | Language, limits: Limits | None = None,
                     stdin: str | bytes | None = None) -> AsyncIterator[Event]:
        """The same events for asyncio; cancelling the consuming task cancels the run."""
        import asyncio  # here, not at the top: `tui-sandbox run` never pays for it

        run = await asyncio.to_thread(self.start, source, language, limits, stdin)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Event | BaseException | None] = asyncio.Queue()   # None: the end

        def pump() -> None:
            try:
                for event in run.events():
                    loop.call_soon_threadsafe(queue.put_nowait, event)
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer
                loop.call_soon_threadsafe(queue.put_nowait, exc)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, None)

        thread = threading.Thread(target=pump, daemon=True, name="tui-sandbox-run")
        thread.start()
        try:
            while True:
                item = await queue.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            if run.result is None:      # left early, or the consumer was cancelled
                run.cancel()
            await asyncio.to_thread(thread.join, 60)

    def wait_for_cleanup(self, timeout: float = 30) -> bool:
        """Block until every finished run's container is removed."""
        with self._lock:
            backend = self._backend
        return backend.wait_for_cleanup(timeout) if backend is not None else True

    def close(self) -> None:
        """Remove spares and finished runs' containers, and wait for it. Safe to call twice.
        From then on warm() makes no spare."""
        with self._lock:
            self._closed = True
            backend, self._backend = self._backend, None
        if backend is not None:
            backend.close()

    def images(self) -> list[ImageStatus]:
        """The runner images this engine's languages need, built or not."""
        return self.backend.images(self.languages)

    def build_images(self, *, offline: bool, progress: Progress = print) -> list[str]:
        """Build the runner images that are missing; the refs built."""
        return self.backend.build_images(self.languages, offline, progress)

    def reap_stale(self) -> list[str]:
        """Remove now the containers of tui-sandbox processes that are gone."""
        return self.backend.reap_stale()

    def policy(self) -> str:
        """One line on the system-call policy runs get."""
        return self.backend.policy()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Reservation:
    """A run's container, being made (or taken from the spares) and started in the
    background from the moment the run is asked for."""

    def __init__(self, backend: Backend, language: Language, limits: Limits) -> None:
        self._outcome: Container | BaseException | None = None
        self._made: Container | None = None
        self._thread = threading.Thread(target=self._make, args=(backend, language, limits),
                                        daemon=True, name="tui-sandbox-reserve")
        self._thread.start()

    def _make(self, backend: Backend, language: Language, limits: Limits) -> None:
        try:
            self._made = backend.container(language, limits)
            self._made.start()
            self._outcome = self._made
        except BaseException as exc:  # noqa: BLE001 - raised where the run waits for it
            self._outcome = exc

    def take(self) -> Container:
        self._thread.join()
        outcome = self._outcome
        if isinstance(outcome, BaseException):
            if self._made is not None:
                self._made.release()   # created, then it could not start
            raise outcome
        assert outcome is not None, "_make has set it, one way or the other"
        return outcome

    def discard(self) -> None:
        """Wait for it and remove it: the run will not have it."""
        self._thread.join()
        if self._made is not None:
            self._made.release()
