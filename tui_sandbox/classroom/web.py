"""The classroom's browser front: the same app in a browser tab (textual-serve), for students
without an SSH client. `tui-sandbox serve --web PORT`.

textual-serve (pinned: >=1.1,<1.2) starts one app process per websocket, with no sign-in
and no cap. This front keeps its static files and its protocol, and its page with two
changes (below), and adds what the SSH front has (ssh.py):

- a sign-in page: the student's name (ssh.py's rule) and the class code, compared in
  constant time; sign-in attempts per address in a moving window (the `limits` library),
  a wrong code answered after a delay;
- on success, a signed session cookie (HMAC-SHA256 with a random per-server key; HttpOnly,
  SameSite=Strict, for COOKIE_MAX_AGE_S): the websocket that starts an app is refused
  without a valid one, and from another origin;
- at most `max_sessions` apps at once, counted in the class's roster (roster.py), which the
  SSH front shares when both run: the next tab is told the class is full. Each app has
  the student's environment: a clean one (pty_session.child_environment) plus app_env
  (TUI_SANDBOX_SERVER, TUI_SANDBOX_TOKEN), TUI_SANDBOX_USER and TUI_SANDBOX_FILES_DIR (the
  student's own folder, made 0700, also the app's working directory); no key for
  idle_timeout_s ends the session;
- closing the tab ends the app: textual-serve sends the app a "quit" packet (Textual's
  WebDriver posts ExitApp: the app cancels its run and removes its containers); this front
  then waits STOP_GRACE_S, sends SIGTERM (the WebDriver's own clean exit), then SIGKILL,
  and after a forced end removes dead owners' containers (`reap`). textual-serve alone
  would wait for ever on an app that does not quit, and keep the tab open on one that died;
- a page of our own (templates/app_index.html): textual-serve's sends every student's
  browser to Google Fonts, and its "Session ended." never says why a session ended.

textual_serve.server imports aiohttp, jinja2 and rich, never Textual: the classroom's
contract holds.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import html
import logging
import os
import secrets
import signal
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Callable, Mapping
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import WSCloseCode, web
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from .pty_session import child_environment
from .roster import ClassRoster, Seat
from .ssh import (
    NAME_RULE,
    NO_FOLDER,
    SHUTTING_DOWN,
    STUDENTS_DIR,
    WRONG_CODE_DELAY_S,
    student_folder,
    valid_student_name,
)

log = logging.getLogger("tui_sandbox.classroom")

COOKIE = "tui_sandbox_student"
COOKIE_MAX_AGE_S = 12 * 3600
STOP_GRACE_S = 10.0          # after "quit": the app cancels its run and removes its containers
TERM_GRACE_S = 3.0           # after SIGTERM, then SIGKILL
HEARTBEAT_S = 15.0           # a tab that vanished (a laptop closed) is noticed within ~2 of these
MAX_FORM_BYTES = 4096
# textual-serve's page with two changes: no request leaves this host (its own links Google
# Fonts: classrooms are often offline, and students' browsers are not sent to a third
# party), and the reason a session ended is shown. See the comment at its top.
PAGE_TEMPLATES = Path(__file__).with_name("templates")
# A WebSocket close frame's reason holds at most 123 bytes.
CLOSE_REASON_BYTES = 123


# --- the signed cookie -----------------------------------------------------------------------

def sign(key: bytes, student: str, issued: int | None = None) -> str:
    issued = int(time.time()) if issued is None else issued
    payload = f"{base64.urlsafe_b64encode(student.encode()).decode()}.{issued}"
    mac = hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{mac}"


def verify(key: bytes, value: str | None, max_age_s: float = COOKIE_MAX_AGE_S) -> str | None:
    """The student a cookie names, or None if it is forged, malformed or too old."""
    if not value or value.count(".") != 2:
        return None
    payload, _, mac = value.rpartition(".")
    expected = hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, expected):
        return None
    encoded, _, issued = payload.partition(".")
    try:
        student = base64.urlsafe_b64decode(encoded.encode()).decode()
        age = time.time() - int(issued)
    except ValueError:
        return None
    if not (0 <= age <= max_age_s + 60) or not valid_student_name(student):
        return None
    return student


# --- one app ---------------------------------------------------------------------------------

class StudentApp(AppService):
    """textual-serve's AppService, started as the student's own: argv without a shell, a
    clean environment, the student's folder, a session of its own (for signals); stopped
    for sure; input time kept for the idle timeout."""

    def __init__(self, *, argv: list[str], env: Mapping[str, str], cwd: str, **kwargs) -> None:
        super().__init__(" ".join(argv), **kwargs)
        self.argv = list(argv)
        self.env = dict(env)
        self.cwd = cwd
        self.last_input = time.monotonic()
        self.forced = False
        self.client_gone = False

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        return {**self.env,
                "TEXTUAL_DRIVER": "textual.drivers.web_driver:WebDriver", "TEXTUAL_FPS": "60",
                "TEXTUAL_COLOR_SYSTEM": "truecolor", "COLORTERM": "truecolor", "TERM_PROGRAM": "textual",
                "TERM_PROGRAM_VERSION": version("textual-serve"),
                "COLUMNS": str(width), "ROWS": str(height)}

    async def _open_app_process(self, width: int = 80, height: int = 24):
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=self._build_environment(width, height), cwd=self.cwd,
            start_new_session=True)
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def send_bytes(self, data: bytes) -> bool:
        self.last_input = time.monotonic()
        return await super().send_bytes(data)

    async def on_data(self, payload: bytes) -> None:
        # Once the tab is gone, the app's output is still read (and dropped): an app blocked
        # on a full pipe could not quit. textual-serve would stop reading.
        if self.client_gone:
            return
        try:
            await self.remote_write_bytes(payload)
        except Exception:  # noqa: BLE001 - the websocket closed under us
            self.client_gone = True

    def signal(self, sig: int) -> None:
        if self.running:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._process.pid, sig)

    async def stop(self) -> None:
        """"quit" (a clean exit), then SIGTERM, then SIGKILL: the app never outlives its tab."""
        if self._task is None:
            return
        task, self._task = self._task, None
        await self._download_manager.cancel_app_downloads(app_service_id=self.app_service_id)
        process = self._process
        assert process is not None
        if process.returncode is None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.send_meta({"type": "quit"}), 2.0)
        for sig, grace in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, TERM_GRACE_S), (None, 5.0)):
            try:
                await asyncio.wait_for(asyncio.shield(process.wait()), grace)
                break
            except asyncio.TimeoutError:
                if sig is None:
                    break
                log.warning("the app (pid %d) did not quit: %s", process.pid, signal.Signals(sig).name)
                self.forced = True
                self.signal(sig)
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(task, 5.0)
        if not task.done():
            task.cancel()


@dataclass
class WebSessionInfo:
    seat: Seat
    app: StudentApp
    task: asyncio.Task | None = None
    websocket: web.WebSocketResponse | None = None

    @property
    def student(self) -> str:
        return self.seat.student

    @property
    def pid(self) -> int | None:
        return self.app.pid


# --- the server ------------------------------------------------------------------------------

class WebClassServer(Server):
    """A listening class in the browser. `port`, `url`; `close()`, then `await wait_closed()`."""

    def __init__(self, *, class_code: str, app_command: list[str], app_env: Mapping[str, str],
                 max_sessions: int, idle_timeout_s: float | None, attempts_per_minute: int,
                 students_dir: Path, reap: Callable[[], object] | None = None,
                 host: str = "127.0.0.1", port: int = 0, roster: ClassRoster | None = None) -> None:
        if not class_code:
            raise ValueError("the class code must not be empty")
        super().__init__(" ".join(app_command), host=host, port=port, title="tui-sandbox",
                         templates_path=PAGE_TEMPLATES)
        self.class_code = class_code
        self.app_command = list(app_command)
        self.app_env = dict(app_env)
        # The class's cap: shared with the SSH front when both run (server.py).
        self.roster = roster if roster is not None else ClassRoster(max_sessions)
        self.idle_timeout_s = idle_timeout_s
        self.students_dir = students_dir
        self.reap = reap
        self.key = secrets.token_bytes(32)           # cookies die with the server
        self._attempts = RateLimitItemPerMinute(attempts_per_minute) if attempts_per_minute > 0 else None
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self.sessions: dict[int, WebSessionInfo] = {}
        self.ended: list[WebSessionInfo] = []
        self._closing = False
        self._runner: web.AppRunner | None = None

    # --- admission ---------------------------------------------------------------------------

    def admit_address(self, address: str) -> bool:
        return self._attempts is None or self._limiter.hit(self._attempts, address)

    def code_matches(self, code: str) -> bool:
        return secrets.compare_digest(code.encode("utf-8", "surrogateescape"),
                                      self.class_code.encode("utf-8", "surrogateescape"))

    def student_of(self, request: web.Request) -> str | None:
        return verify(self.key, request.cookies.get(COOKIE))

    # --- the aiohttp app ---------------------------------------------------------------------

    async def _make_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_FORM_BYTES * 4)
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes([
            web.get("/", self.handle_index, name="index"),
            web.post("/signin", self.handle_signin, name="signin"),
            web.post("/signout", self.handle_signout, name="signout"),
            web.get("/ws", self.handle_websocket, name="websocket"),
            web.get("/download/{key}", self.handle_download, name="download"),
            web.static("/static", self.statics_path, name="static"),
        ])
        app.on_response_prepare.append(_security_headers)
        return app

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        student = self.student_of(request)
        if student is None:
            return _signin_page()
        # textual-serve's page, with URLs from this request rather than a fixed public URL.
        scheme = "wss" if request.secure else "ws"
        context = {"font_size": to_int(request.query.get("fontsize", "16"), 16),
                   "app_websocket_url": f"{scheme}://{request.host}/ws",
                   "config": {"static": {"url": "/static/"}},
                   "application": {"name": f"tui-sandbox · {student}"}}
        return aiohttp_jinja2.render_template("app_index.html", request, context)

    async def handle_signin(self, request: web.Request) -> web.StreamResponse:
        peer = request.remote or "?"
        if not _same_origin(request):
            raise web.HTTPForbidden(text="sign in from this server's own page")
        if not self.admit_address(peer):
            log.warning("too many sign-in attempts from %s", peer)
            return _signin_page(f"too many sign-in attempts from {peer}: wait a minute and try again", status=429)
        form = await request.post()
        name = str(form.get("name", "")).strip()
        code = str(form.get("code", ""))
        if not valid_student_name(name):
            return _signin_page(f"{name[:40]!r} is not a student name here: use {NAME_RULE}", name, status=400)
        if self._closing:
            return _signin_page(SHUTTING_DOWN, name, status=503)
        if not self.code_matches(code):
            log.info("wrong class code for %s from %s (web)", name, peer)
            await asyncio.sleep(WRONG_CODE_DELAY_S)
            return _signin_page("wrong class code: ask the teacher for it", name, status=403)
        if self.roster.full:
            # Said here, before a page that would only be closed; a tab already signed in
            # hears it when its app would start (Restart tries again).
            log.info("refused %s from %s (web): the class is full", name, peer)
            return _signin_page(self.roster.full_message(), name, status=503)
        log.info("%s signed in from %s (web)", name, peer)
        response = web.HTTPSeeOther("/")
        response.set_cookie(COOKIE, sign(self.key, name), max_age=COOKIE_MAX_AGE_S, path="/",
                            httponly=True, samesite="Strict", secure=request.secure)
        raise response

    async def handle_signout(self, request: web.Request) -> web.StreamResponse:
        if not _same_origin(request):
            raise web.HTTPForbidden(text="sign out from this server's own page")
        response = web.HTTPSeeOther("/")
        response.del_cookie(COOKIE, path="/")
        raise response

    async def handle_download(self, request: web.Request) -> web.StreamResponse:
        if self.student_of(request) is None:
            raise web.HTTPForbidden(text="sign in first")
        return await super().handle_download(request)

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
        student = self.student_of(request)
        if student is None:
            raise web.HTTPForbidden(text="sign in first: open this server's page")
        if not _same_origin(request):
            raise web.HTTPForbidden(text="not from this server's page")
        peer = request.remote or "?"
        websocket = web.WebSocketResponse(heartbeat=HEARTBEAT_S)
        await websocket.prepare(request)
        if self._closing:
            await _say_and_close(websocket, SHUTTING_DOWN, WSCloseCode.GOING_AWAY)
            return websocket
        cwd = student_folder(self.students_dir, student)
        if cwd is None:
            await _say_and_close(websocket, NO_FOLDER, WSCloseCode.INTERNAL_ERROR)
            return websocket
        env = child_environment("xterm-256color", {}, {**self.app_env, "TUI_SANDBOX_USER": student,
                                                        "TUI_SANDBOX_FILES_DIR": str(cwd.resolve())})
        # A seat in the class, given back by _end once the app has stopped, however it ends.
        seat = self.roster.take(student, "web", peer)
        if seat is None:
            log.info("refused a session of %s from %s (web): the class is full", student, peer)
            await _say_and_close(websocket, self.roster.full_message(), WSCloseCode.TRY_AGAIN_LATER)
            return websocket
        app = StudentApp(argv=self.app_command, env=env, cwd=str(cwd), write_bytes=websocket.send_bytes,
                         write_str=websocket.send_str, close=websocket.close,
                         download_manager=self.download_manager)
        info = WebSessionInfo(seat, app, asyncio.current_task(), websocket)
        key = id(info)
        self.sessions[key] = info
        watchers: list[asyncio.Task] = []
        try:
            width = to_int(request.query.get("width", "80"), 80)
            height = to_int(request.query.get("height", "24"), 24)
            await app.start(max(10, min(width, 500)), max(5, min(height, 200)))
            log.info("session of %s from %s (web): app pid %s", student, peer, app.pid)
            watchers.append(asyncio.create_task(self._close_when_app_ends(app, websocket)))
            if self.idle_timeout_s:
                watchers.append(asyncio.create_task(self._watch_idle(app, websocket)))
            try:
                await self._process_messages(websocket, app)
            except (ValueError, AssertionError, KeyError, TypeError):
                log.warning("a malformed message from %s's tab: the session ends", student)
        except Exception:  # noqa: BLE001 - one session's failure is never the server's
            log.exception("the web session of %s failed", student)
        finally:
            for watcher in watchers:
                watcher.cancel()
            await asyncio.shield(self._end(key, info))
        return websocket

    async def _end(self, key: int, info: WebSessionInfo) -> None:
        try:
            await info.app.stop()
            if info.app.forced and self.reap is not None:
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(self.reap)
            with contextlib.suppress(Exception):
                await info.websocket.close()
            log.info("session of %s ended (web)%s", info.student, ", forced" if info.app.forced else "")
        finally:
            self.sessions.pop(key, None)
            self.roster.leave(info.seat)
            self.ended.append(info)

    async def _close_when_app_ends(self, app: StudentApp, websocket: web.WebSocketResponse) -> None:
        assert app._process is not None
        await app._process.wait()
        await asyncio.sleep(0.5)               # its last output first
        await websocket.close()

    async def _watch_idle(self, app: StudentApp, websocket: web.WebSocketResponse) -> None:
        assert self.idle_timeout_s
        while True:
            left = app.last_input + self.idle_timeout_s - time.monotonic()
            if left <= 0:
                await _say_and_close(websocket, f"no key pressed for {self.idle_timeout_s / 60:g} min: "
                                     "the session is closed. Reload the page to go on.")
                return
            await asyncio.sleep(min(left, 30.0) + 0.05)

    # --- the listener ------------------------------------------------------------------------

    async def start(self) -> None:
        self._runner = web.AppRunner(await self._make_app(), access_log=None, handle_signals=False,
                                     shutdown_timeout=STOP_GRACE_S + TERM_GRACE_S + 5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host or None, self.port)
        await site.start()
        sockets = site._server.sockets if site._server else ()   # noqa: SLF001 - port 0: the real one
        if sockets:
            self.port = sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        host = self.host if self.host not in ("", "0.0.0.0", "::") else "THIS-HOST"
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}/"

    def close(self) -> None:
        """Take no one new; end every session (its app quits, its run is cancelled)."""
        if self._closing:
            return
        self._closing = True
        for info in list(self.sessions.values()):
            if info.websocket is not None:
                asyncio.ensure_future(_say_and_close(info.websocket, SHUTTING_DOWN, WSCloseCode.GOING_AWAY))

    async def wait_closed(self) -> None:
        tasks = [info.task for info in list(self.sessions.values()) if info.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=STOP_GRACE_S + TERM_GRACE_S + 10)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> WebClassServer:
        return self

    async def __aexit__(self, *exc) -> None:
        self.close()
        await self.wait_closed()


async def start_web_server(*, host: str, port: int, class_code: str, data_dir: Path | str,
                           app_command: list[str], app_env: Mapping[str, str] | None = None,
                           max_sessions: int = 30, idle_timeout_s: float | None = 30 * 60,
                           attempts_per_minute: int = 60,
                           reap: Callable[[], object] | None = None,
                           roster: ClassRoster | None = None) -> WebClassServer:
    """Listen for students' browsers on host:port (port 0: a free one, see `.port`);
    the students' folders are data_dir/students/NAME, as over SSH. roster: the class's,
    when the SSH front shares its cap; else one of max_sessions."""
    server = WebClassServer(class_code=class_code, app_command=app_command, app_env=app_env or {},
                            max_sessions=max_sessions, idle_timeout_s=idle_timeout_s,
                            attempts_per_minute=attempts_per_minute,
                            students_dir=Path(data_dir) / STUDENTS_DIR, reap=reap, host=host, port=port,
                            roster=roster)
    await server.start()
    return server


# --- small parts -----------------------------------------------------------------------------

def _same_origin(request: web.Request) -> bool:
    """No Origin (not a browser's cross-site request), or this very server's."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == request.host.lower()


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")


async def _say_and_close(websocket: web.WebSocketResponse, line: str, code: int = WSCloseCode.OK) -> None:
    """A line in the page's terminal (textual.js writes binary frames to it), then close
    with the line as the reason, which our page shows in place of "Session ended."."""
    reason = line.encode()[:CLOSE_REASON_BYTES].decode(errors="ignore").encode()
    with contextlib.suppress(Exception):
        await websocket.send_bytes(f"\r\ntui-sandbox: {line}\r\n".encode())
        await websocket.close(code=code, message=reason)


_SIGNIN = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>tui-sandbox: sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ background: #0c181f; color: #eee; font: 16px/1.5 menlo, monospace; display: flex;
        justify-content: center; align-items: center; height: 100vh; margin: 0; }}
form {{ background: #12232d; padding: 2em 3em; }}
label {{ display: block; margin-top: 1em; }}
input {{ font: inherit; padding: .3em; width: 20em; }}
button {{ font: inherit; margin-top: 1.5em; padding: .5em 2em; background: #5e0ba7; color: #fff; border: 0; }}
.error {{ color: #ff8a80; }}
</style></head>
<body><form method="post" action="/signin">
<h1>tui-sandbox</h1>
{error}
<label for="name">Your name</label>
<input id="name" name="name" value="{name}" required maxlength="32" autocomplete="username"
       pattern="[A-Za-z0-9][A-Za-z0-9._\\-]{{0,31}}" title="{rule}" autofocus>
<label for="code">Class code</label>
<input id="code" name="code" type="password" required autocomplete="current-password">
<button type="submit">Start</button>
</form></body></html>
"""


def _signin_page(error: str = "", name: str = "", status: int = 200) -> web.Response:
    text = _SIGNIN.format(error=f'<p class="error" role="alert">{html.escape(error)}</p>' if error else "",
                          name=html.escape(name if valid_student_name(name) else ""), rule=html.escape(NAME_RULE))
    return web.Response(text=text, status=status, content_type="text/html")


async def start_web_class(options, out=None, class_code: str | None = None,
                          roster: ClassRoster | None = None) -> WebClassServer:
    """Start the browser front of a class (options: options.WebOptions) and print how to
    reach it. class_code: the SSH front's, so one class has one code; else options', else
    one is generated and printed. roster: the class's, shared with the SSH front (one cap
    for both). close() it, then await wait_closed()."""
    import sys

    from .cli import reap_dead_owners
    from .options import default_data_dir
    from .ssh import generate_class_code

    options.check()
    out = out or sys.stdout
    code = class_code or options.class_code
    generated = code is None
    code = code or generate_class_code()
    server = await start_web_server(
        host=options.host, port=options.port, class_code=code, data_dir=options.data_dir or default_data_dir(),
        app_command=options.app_command, app_env=options.app_env, max_sessions=options.max_sessions,
        idle_timeout_s=options.idle_timeout_s or None, attempts_per_minute=options.attempts_per_minute,
        reap=reap_dead_owners, roster=roster)
    with_ssh = class_code is not None
    shown = f"{code}   (the same as over SSH)" if with_ssh else code
    reach = ("this machine only: give --web-host 0.0.0.0 for students on other machines"
             if options.host in ("127.0.0.1", "::1", "localhost") else "plain HTTP: a trusted network only")
    print("\n".join([
        f"tui-sandbox class in the browser on {server.url}",
        f"  students open it, give their name and the class code ({reach})",
        f"  class code:             {shown}" + ("   (generated: set one with --class-code)" if generated else ""),
        f"  at most {server.roster.capacity} at once"
        + (", over SSH and in the browser together" if with_ssh else " in the browser"),
    ]), file=out, flush=True)
    return server
