"""The classroom's browser front: the same app in a browser tab (textual-serve), for students
without an SSH client. `tui-sandbox serve --web PORT`.

textual-serve (pinned: >=1.1,<1.2) starts one app process per websocket, with no sign-in
and no cap. This front keeps its static files and its protocol, and its page with two
changes (below), and adds what the SSH front has (ssh.py):

- a sign-in page and a signed cookie (web_signin.py), by the class's rules (admission.py):
  the websocket that starts an app is refused without a valid cookie, and from another
  origin;
- a seat in the class's roster (roster.py) when the app starts, one cap for both fronts:
  the next tab is told the class is full. Each app is the student's own (web_app.py): a
  clean environment, the student's folder; no key for idle_timeout_s ends the session;
- closing the tab ends the app (web_app.StudentApp.stop), and after a forced end dead
  owners' containers are removed (`reap`); an app that died closes its tab;
- a page of our own (templates/app_index.html): textual-serve's sends every student's
  browser to Google Fonts, and its "Session ended." never says why a session ended.

textual_serve.server imports aiohttp, jinja2 and rich, never Textual: the classroom's
contract holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from pathlib import Path
from typing import Callable, Mapping

import aiohttp_jinja2
import jinja2
from aiohttp import WSCloseCode, web
from textual_serve.server import Server, to_int

from .admission import SHUTTING_DOWN, STUDENTS_DIR, Admission, ClassFront, ClassSession, Refusal, generate_class_code
from .forks import ForkServer, front_fork_server
from .idle import until_idle
from .roster import ClassRoster
from .web_app import STOP_GRACE_S, TERM_GRACE_S, StudentApp
from .web_signin import same_origin, sign_in, sign_out, signin_page, student_of

log = logging.getLogger("tui_sandbox.classroom")

HEARTBEAT_S = 15.0           # a tab that vanished (a laptop closed) is noticed within ~2 of these
MAX_FORM_BYTES = 4096
# textual-serve's page with two changes: no request leaves this host (its own links Google
# Fonts: classrooms are often offline, and students' browsers are not sent to a third
# party), and the reason a session ended is shown. See the comment at its top.
PAGE_TEMPLATES = Path(__file__).with_name("templates")
# A WebSocket close frame's reason holds at most 123 bytes.
CLOSE_REASON_BYTES = 123


# --- the server ------------------------------------------------------------------------------

class WebClassServer(Server, ClassFront):
    """A listening class in the browser. `port`, `url`; `close()`, then `await wait_closed()`."""

    def __init__(self, *, class_code: str, app_command: list[str], app_env: Mapping[str, str],
                 max_sessions: int, idle_timeout_s: float | None, attempts_per_minute: int,
                 students_dir: Path, reap: Callable[[], object] | None = None,
                 host: str = "127.0.0.1", port: int = 0, roster: ClassRoster | None = None,
                 forks: ForkServer | None = None, owns_forks: bool = False) -> None:
        # The class's cap: shared with the SSH front when both run (serve.py).
        admission = Admission(front="web", class_code=class_code, roster=roster, max_sessions=max_sessions,
                              attempts_per_minute=attempts_per_minute, students_dir=students_dir, app_env=app_env)
        super().__init__(" ".join(app_command), host=host, port=port, title="tui-sandbox",
                         templates_path=PAGE_TEMPLATES)
        self.admission = admission
        self.app_command = list(app_command)
        self.idle_timeout_s = idle_timeout_s
        self.reap = reap
        self.forks = forks
        self.owns_forks = owns_forks
        self.key = secrets.token_bytes(32)           # cookies die with the server
        self._runner: web.AppRunner | None = None

    def student_of(self, request: web.Request) -> str | None:
        return student_of(self.key, request)

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
            return signin_page()
        # textual-serve's page, with URLs from this request rather than a fixed public URL.
        scheme = "wss" if request.secure else "ws"
        context = {"font_size": to_int(request.query.get("fontsize", "16"), 16),
                   "app_websocket_url": f"{scheme}://{request.host}/ws",
                   "config": {"static": {"url": "/static/"}},
                   "application": {"name": f"tui-sandbox · {student}"}}
        return aiohttp_jinja2.render_template("app_index.html", request, context)

    async def handle_signin(self, request: web.Request) -> web.StreamResponse:
        return await sign_in(request, self.admission, self.key)

    async def handle_signout(self, request: web.Request) -> web.StreamResponse:
        return await sign_out(request)

    async def handle_download(self, request: web.Request) -> web.StreamResponse:
        if self.student_of(request) is None:
            raise web.HTTPForbidden(text="sign in first")
        return await super().handle_download(request)

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
        student = self.student_of(request)
        if student is None:
            raise web.HTTPForbidden(text="sign in first: open this server's page")
        if not same_origin(request):
            raise web.HTTPForbidden(text="not from this server's page")
        peer = request.remote or "?"
        websocket = web.WebSocketResponse(heartbeat=HEARTBEAT_S)
        await websocket.prepare(request)
        # A seat in the class, given back by _end once the app has stopped, however it ends.
        admitted = self.admission.take_seat(student, peer, "xterm-256color", {})
        if isinstance(admitted, Refusal):
            await _say_and_close(websocket, admitted.message, _CLOSE_CODE[admitted.reason])
            return websocket
        app = StudentApp(argv=self.app_command, env=admitted.env, cwd=str(admitted.folder), forks=self.forks,
                         write_bytes=websocket.send_bytes, write_str=websocket.send_str, close=websocket.close,
                         download_manager=self.download_manager)
        info = self.admission.enter(admitted.seat, app, websocket)
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
            await asyncio.shield(self._end(info))
        return websocket

    async def _end(self, info: ClassSession) -> None:
        try:
            await info.app.stop()
            if info.app.forced and self.reap is not None:
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(self.reap)
            with contextlib.suppress(Exception):
                await info.websocket.close()
            log.info("session of %s ended (web)%s", info.student, ", forced" if info.app.forced else "")
        finally:
            self.admission.leave(info)

    async def _close_when_app_ends(self, app: StudentApp, websocket: web.WebSocketResponse) -> None:
        assert app._process is not None
        await app._process.wait()
        await asyncio.sleep(0.5)               # its last output first
        await websocket.close()

    async def _watch_idle(self, app: StudentApp, websocket: web.WebSocketResponse) -> None:
        assert self.idle_timeout_s
        await until_idle(lambda: app.last_input, self.idle_timeout_s)
        await _say_and_close(websocket, f"no key pressed for {self.idle_timeout_s / 60:g} min: "
                             "the session is closed. Reload the page to go on.")

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
        if self.admission.closing:
            return
        self.admission.closing = True
        for info in list(self.sessions.values()):
            if info.websocket is not None:
                asyncio.ensure_future(_say_and_close(info.websocket, SHUTTING_DOWN, WSCloseCode.GOING_AWAY))

    async def wait_closed(self) -> None:
        if tasks := self.admission.tasks():
            await asyncio.wait(tasks, timeout=STOP_GRACE_S + TERM_GRACE_S + 10)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.owns_forks and self.forks is not None:
            await self.forks.close()

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
                           roster: ClassRoster | None = None, forks: ForkServer | bool = True) -> WebClassServer:
    """Listen for students' browsers on host:port (port 0: a free one, see `.port`);
    the students' folders are data_dir/students/NAME, as over SSH. roster: the class's,
    when the SSH front shares its cap; else one of max_sessions. forks: as
    ssh.start_ssh_server's (forks.front_fork_server)."""
    server = WebClassServer(class_code=class_code, app_command=app_command, app_env=app_env or {},
                            max_sessions=max_sessions, idle_timeout_s=idle_timeout_s,
                            attempts_per_minute=attempts_per_minute,
                            students_dir=Path(data_dir) / STUDENTS_DIR, reap=reap, host=host, port=port,
                            roster=roster)
    await server.start()
    server.forks, server.owns_forks = await front_fork_server(forks)
    return server


# --- small parts -----------------------------------------------------------------------------

# How each refusal when an app would start closes the tab's websocket.
_CLOSE_CODE = {"closing": WSCloseCode.GOING_AWAY, "folder": WSCloseCode.INTERNAL_ERROR,
               "full": WSCloseCode.TRY_AGAIN_LATER}


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


async def start_web_class(options, out=None, class_code: str | None = None,
                          roster: ClassRoster | None = None, forks: ForkServer | None = None) -> WebClassServer:
    """Start the browser front of a class (options: options.WebOptions) and print how to
    reach it. class_code: the SSH front's, so one class has one code; else options', else
    one is generated and printed. roster: the class's, shared with the SSH front (one cap
    for both). forks: the class's fork server (serve's, shared with the SSH front); else
    one of its own, unless options.fork_server is off. close() it, then await wait_closed()."""
    import sys

    from runner.paths import data_dir as default_data_dir

    from .cli import reap_dead_owners

    options.check()
    out = out or sys.stdout
    code = class_code or options.class_code
    generated = code is None
    code = code or generate_class_code()
    server = await start_web_server(
        host=options.host, port=options.port, class_code=code, data_dir=options.data_dir or default_data_dir(),
        app_command=options.app_command, app_env=options.app_env, max_sessions=options.max_sessions,
        idle_timeout_s=options.idle_timeout_s or None, attempts_per_minute=options.attempts_per_minute,
        reap=reap_dead_owners, roster=roster, forks=forks or options.fork_server)
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
