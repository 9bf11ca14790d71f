"""The app's way to a `tui-sandbox serve` elsewhere: the same few calls as runner.Sandbox
(info, start, and a run's events, cancel and input), over the service's HTTP API. With
it, a student's app needs no Docker: the teacher's server runs everything.

    engine = RemoteSandbox("http://teacher:8000", user="ada")
    run = engine.start("print(1)", "python", Limits())
    for event in run.events(): ...    # Queued while waiting, then Started, Output, ... Finished

Errors are the server's own words: a ceiling, a full queue, a rate, a missing token.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any, Iterator

import httpx

from runner import (
    Engine,
    EngineInfo,
    EngineUnavailable,
    Event,
    Failed,
    Language,
    LimitError,
    Limits,
    RunHandle,
    SandboxError,
    SourceError,
    event_from_data,
)
from runner.units import MiB

log = logging.getLogger(__name__)

TIMEOUT = httpx.Timeout(10.0, read=None)   # a run's stream is read for as long as it runs
# The demo's calls come every few seconds from a worker that quitting waits for: never long.
DEMO_TIMEOUT = httpx.Timeout(5.0)


class RemoteSandbox(Engine):
    def __init__(self, url: str, user: str | None = None, token: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.user = user
        headers = {"Accept": "application/json"}
        if user:
            headers["X-Sandbox-User"] = user
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(base_url=self.url, headers=headers, timeout=TIMEOUT)
        self._info: EngineInfo | None = None
        self.ceilings: dict[str, Any] = {}

    @property
    def info(self) -> EngineInfo:
        """What the server's engine offers, and its ceilings (kept in .ceilings)."""
        if self._info is None:
            health = self._request("GET", "/health", ok=(200, 503)).json()
            engine = health.get("engine") or {}
            if not engine.get("reachable"):
                raise EngineUnavailable(f"the server at {self.url} has no engine: {engine.get('error')}",
                                        engine.get("fix") or "ask the teacher to check the server")
            self.ceilings = health.get("ceilings") or {}
            cpus = self.ceilings.get("cpus") or 1
            self._info = EngineInfo(
                product="the server", name=f"{engine.get('name')} at {self.url}",
                cpus=max(1, int(cpus)) if cpus >= 1 else 1, memory_bytes=int(self.ceilings.get("memory_bytes") or 0),
                min_memory_bytes=6 * MiB, runtimes={name: [] for name in engine.get("runtimes") or ["runc"]},
                seccomp="the server's")
        return self._info

    def start(self, source: str | bytes, language: str | Language, limits: Limits | None = None,
              stdin: str | bytes | None = None, *, interactive: bool = False,
              expected_output: str | None = None) -> "RemoteRun":
        limits = (limits or Limits()).validate()
        name = language.name if isinstance(language, Language) else language
        # Every limit goes: one the server cannot give is refused there, never dropped here.
        body = {"code": as_text(source, "the program"), "language": name, **limits.asked(),
                "interactive": interactive}
        if stdin is not None:
            body["stdin"] = as_text(stdin, "the input")
        if expected_output is not None:
            body["expected_output"] = expected_output
        return RemoteRun(self, body, interactive)

    def language_table(self) -> list[dict[str, Any]]:
        """The server's GET /languages: each language's name, aliases, extensions, and
        whether it is compiled."""
        table: list[dict[str, Any]] = self._request("GET", "/languages").json()
        return table

    def demos(self) -> list[dict[str, Any]]:
        """What the teacher has pushed to the class (GET /class/demo), oldest first; each
        with its id, title, code, language and limits (Limits.to_dict())."""
        pushes: list[dict[str, Any]] = self._request("GET", "/class/demo", timeout=DEMO_TIMEOUT).json()["pushes"]
        return pushes

    def report_program(self, code: str, language: str) -> None:
        """Tell the teacher's peek what the editor holds now (PUT /class/students/{me}/program)."""
        self._request("PUT", f"/class/students/{self.user}/program", ok=(204,), timeout=DEMO_TIMEOUT,
                      json={"code": code, "language": language})

    def warm(self, language: str | Language, limits: Limits | None = None) -> None:
        """The server keeps its own spares, within its cap: nothing to ask of it."""

    def wait_for_cleanup(self, timeout: float = 30) -> bool:
        return True     # the server removes its containers

    def close(self) -> None:
        self._client.close()

    def _request(self, method: str, path: str, ok: tuple[int, ...] = (200,), **kwargs: Any) -> httpx.Response:
        try:
            answer = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise EngineUnavailable(f"the server at {self.url} does not answer: {exc}",
                                    "check the address, and that the server is running") from None
        if answer.status_code not in ok:
            raise refusal(answer)
        return answer


def as_text(data: str | bytes, what: str) -> str:
    """The engine takes a program and its input as text or bytes (the report gives its
    runs b""); the API's JSON carries text, so bytes go as UTF-8, or are refused here."""
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise SourceError(f"{what} is not UTF-8 text, and a server takes it only as text",
                          "give it as UTF-8 text, or run it without --server") from None


def refusal(answer: httpx.Response) -> SandboxError:
    """The server's 4xx or 5xx, in its own words."""
    try:
        body = answer.json()
    except ValueError:
        body = {}
    message = body.get("error") or body.get("message") or f"the server answered {answer.status_code}"
    fix = body.get("fix")
    if answer.status_code == 401:
        fix = fix or "start the app with the class's token: tui-sandbox --server URL --token TOKEN"
    if answer.status_code in (429, 503) and answer.headers.get("Retry-After"):
        fix = f"{fix or 'try again'} (in {answer.headers['Retry-After']} s)"
    error = LimitError if answer.status_code == 422 else SandboxError
    return error(message, fix)


def event_of(data: dict[str, Any]) -> Event | None:
    """One event of the service's stream (POST /runs), as the engine's (runner.events'
    one data form); SandboxError for `failed` (the engine could not run it). A kind this
    version does not have (a newer server's) is logged once and passed over."""
    try:
        event = event_from_data(data)
    except ValueError as exc:
        if data.get("event") not in _unknown_kinds:
            _unknown_kinds.add(data.get("event"))
            log.warning("the server sent an event this client cannot show (%s): update tui-sandbox", exc)
        return None
    if isinstance(event, Failed):
        raise SandboxError(event.message or "the server could not run it", event.fix)
    return event


_unknown_kinds: set[Any] = set()   # as the server named them: whatever its JSON held


class RemoteRun(RunHandle):
    def __init__(self, remote: RemoteSandbox, body: dict[str, Any], interactive: bool) -> None:
        self._remote, self._body, self._interactive = remote, body, interactive
        self._lock = threading.Lock()
        self._id: str | None = None
        self._cancelled = False
        self._early_input: list[tuple[str, bool]] = []
        self._response: httpx.Response | None = None

    def events(self) -> Iterator[Event]:
        remote = self._remote
        try:
            with remote._client.stream("POST", "/runs", json=self._body) as answer:
                if answer.status_code != 200:
                    answer.read()
                    raise refusal(answer)
                with self._lock:
                    self._response = answer
                    self._id = answer.headers.get("X-Run-Id")
                    cancel_now = self._cancelled
                if cancel_now:
                    self._delete()
                self._flush_input()
                for line in answer.iter_lines():
                    if line.strip():
                        event = self._event(json.loads(line))
                        if event is not None:
                            yield event
        except httpx.HTTPError as exc:
            if self._cancelled:
                return
            raise EngineUnavailable(f"the connection to {remote.url} broke during the run: {exc}",
                                    "run it again") from None

    def _event(self, data: dict[str, Any]) -> Event | None:
        if self._id is None and data.get("id"):
            with self._lock:
                self._id = data["id"]
            self._flush_input()
        return event_of(data)

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            known = self._id is not None
        if known:
            self._delete()

    def _delete(self) -> None:
        try:
            self._remote._client.delete(f"/runs/{self._id}")
        except httpx.HTTPError:
            pass   # the stream's end tells the rest

    def send_input(self, text: str | bytes) -> None:
        self._input(text.decode() if isinstance(text, bytes) else text, end=False)

    def close_input(self) -> None:
        self._input("", end=True)

    def _input(self, text: str, end: bool) -> None:
        if not self._interactive:
            raise ValueError("this run's input was given whole at its start: it is not interactive")
        with self._lock:
            self._early_input.append((text, end))
        self._flush_input()

    def _flush_input(self) -> None:
        with self._lock:
            if self._id is None or not self._early_input:
                return
            pending, self._early_input = self._early_input, []
        for text, end in pending:
            try:
                self._remote._client.post(f"/runs/{self._id}/input", json={"text": text, "eof": end})
            except httpx.HTTPError:
                return
