"""`tui-sandbox serve`: the history, the service and its HTTP app, under uvicorn.

SIGTERM or ctrl-c: the listening socket closes, the service stops (what waits is
cancelled, what runs is killed, every container removed, each client hears its run
end as cancelled), then uvicorn closes the connections and the process exits. A
SIGKILL leaves nothing running past the runs' own deadlines (the sandbox's init keeps
them), and the next start removes what a dead server left.
"""

from __future__ import annotations

import ipaddress
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping, TextIO

from .service.core import Ceilings
from .service.held import DEFAULT_FINISHED_BYTES

if TYPE_CHECKING:
    from .classroom.options import ClassOptions, WebOptions
    from .service.interface import Service

DEFAULT_PORT = 8000
GRACEFUL_SHUTDOWN_S = 10
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.@-]{0,63}$")


class ServeError(Exception):
    """The server cannot start with these options: a usage error, said in one sentence."""


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    max_running: int | None = None          # None: the host's CPU count
    per_user: int = 3
    max_waiting: int = 100
    rate: str | None = None                 # "30/minute"
    tokens: Mapping[str, str] = field(default_factory=dict)   # token -> user name
    ceilings: Ceilings = field(default_factory=Ceilings)
    history: Path | str | None = None       # None: history.default_path(); or a postgresql:// URL
    broker: str | None = None               # redis://...: a front of a cluster (tui_sandbox.cluster)
    cors_origins: tuple[str, ...] = ()
    public: bool = False                    # anyone, without a token: users by address (a learning site)
    max_body_bytes: int = 1024 * 1024
    finished_memory_bytes: int = DEFAULT_FINISHED_BYTES   # finished runs held in memory; older: the history
    access_log: bool = False
    ssh: "ClassOptions | None" = None          # also a class over SSH (tui_sandbox.classroom)
    web: "WebOptions | None" = None            # also a class in the browser (classroom.web)


def parse_tokens(values: Iterable[str] = (), files: Iterable[str] = ()) -> dict[str, str]:
    """Tokens from --token (NAME=TOKEN, or a bare TOKEN whose user is "default") and
    --token-file (one such a line; blank lines and # comments skipped), as token -> name.
    A NAME starts with a letter: letters, digits and _.@- follow."""
    entries = [(value, "--token") for value in values]
    for path in files:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ServeError(f"cannot read the token file {path}: {exc.strerror}") from None
        entries += [(line.strip(), f"{path}:{number}") for number, line in enumerate(text.splitlines(), 1)
                    if line.strip() and not line.lstrip().startswith("#")]
    tokens: dict[str, str] = {}
    for entry, where in entries:
        name, sep, token = entry.partition("=")
        # NAME=TOKEN; but "abc==" is a bare token ending in base64's padding.
        if not (sep and token and not token.startswith("=") and _NAME.match(name)):
            name, token = "default", entry
        if not token or any(c.isspace() for c in token):
            raise ServeError(f"{where}: a token must be one word without spaces")
        if tokens.get(token, name) != name:
            raise ServeError(f"{where}: the same token is given to {tokens[token]} and {name}")
        tokens[token] = name
    return tokens


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_options(options: ServeOptions) -> None:
    """Refuse what would be unsafe or cannot work, before anything starts."""
    if options.public and options.tokens:
        raise ServeError("--public serves anyone without a token: give --public or --token, not both")
    if options.public and not options.rate:
        raise ServeError("--public needs --rate: how many runs one visitor (one address) may start, "
                         "e.g. --rate 10/minute")
    if not is_loopback(options.host) and not options.tokens and not options.public:
        raise ServeError(f"refusing to serve on {options.host} without a token: anyone who reaches it could run "
                         "code here. Give --token NAME=TOKEN (or --token-file FILE), serve on 127.0.0.1, or, "
                         "for a public site's pages, --public with a --rate")
    if options.rate:
        from limits import parse

        try:
            parse(options.rate)
        except ValueError:
            raise ServeError(f"--rate {options.rate!r}: write it like 30/minute, 5/second or 100/hour") from None
    for name, value in (("--per-user", options.per_user), ("--max-waiting", options.max_waiting),
                        ("--max-running", options.max_running or 1)):
        if value < 1:
            raise ServeError(f"{name} must be at least 1")
    if not 0 <= options.port <= 65535:
        raise ServeError(f"--port {options.port} is not a port")


def build(options: ServeOptions):
    """(app, service, history path): everything but the listening socket. With a broker,
    the service is a front of the cluster: its queue, cap and runs are the broker's."""
    from .history.postgres import open_history
    from .service.http import LOOPBACK_NAMES, create_app

    history = open_history(options.history)
    service: Service           # either one: the fronts cannot tell (service/interface.py)
    if options.broker:
        from .cluster.front import ClusterService

        service = ClusterService(options.broker, per_user=options.per_user, max_waiting=options.max_waiting,
                                 rate=options.rate, ceilings=options.ceilings, history=history,
                                 finished_memory_bytes=options.finished_memory_bytes)
    else:
        from .service.core import SandboxService

        service = SandboxService(max_running=options.max_running, per_user=options.per_user,
                                 max_waiting=options.max_waiting, rate=options.rate, ceilings=options.ceilings,
                                 history=history, finished_memory_bytes=options.finished_memory_bytes)
    # Without tokens a loopback server answers only to loopback names (see http.LoopbackHosts).
    hosts = LOOPBACK_NAMES if not options.tokens and not options.public else None
    app = create_app(service, tokens=options.tokens, cors_origins=options.cors_origins,
                     max_body_bytes=options.max_body_bytes, allowed_hosts=hosts, public=options.public)
    return app, service, history.path


def serve(options: ServeOptions, out: TextIO | None = None) -> int:
    """Run the server until SIGTERM or ctrl-c. Raises ServeError for bad options."""
    import uvicorn

    from .service.memory import return_large_blocks

    check_options(options)
    out = out or sys.stdout
    return_large_blocks()            # a flood's megabytes, freed, leave the process (service.memory)
    app, service, history_path = build_checked(options)

    class Server(uvicorn.Server):
        ssh_class = None
        web_class = None
        forks = None

        async def startup(self, sockets=None) -> None:
            await super().startup(sockets)
            if self.started:
                port = self.servers[0].sockets[0].getsockname()[1] if self.servers else options.port
                print(announcement(options, port, service.cap, history_path), file=out, flush=True)
                roster = class_roster(options)
                if roster is not None:
                    app.state.class_sessions = roster.seated     # for GET /class: both fronts
                    app.state.class_fronts = tuple(front for front in ("ssh", "web")
                                                   if getattr(options, front) is not None)
                self.forks = await class_fork_server(options)
                if options.ssh is not None:
                    self.ssh_class = await start_class_over_ssh(options, app, port, out, roster, self.forks)
                if options.web is not None:
                    self.web_class = await start_class_over_web(options, app, port, out, self.ssh_class, roster,
                                                                self.forks)

        async def shutdown(self, sockets=None) -> None:
            # Students' apps first (each cancels its run as it quits), then stop taking
            # work and end every run: the clients hear their runs end (cancelled), so
            # uvicorn's wait for open connections is short.
            if self.ssh_class is not None:
                self.ssh_class.close()
                await self.ssh_class.wait_closed()
            if self.web_class is not None:
                self.web_class.close()
                await self.web_class.wait_closed()
            if self.forks is not None:
                await self.forks.close()
            for listener in getattr(self, "servers", []):
                listener.close()
            await service.stop()
            await super().shutdown(sockets)

    config = uvicorn.Config(app, host=options.host, port=options.port, log_level="warning",
                            access_log=options.access_log, lifespan="on",
                            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
                            limit_concurrency=max(256, 2 * (options.max_waiting + service.cap)))
    server = Server(config)
    try:
        server.run()
    except SystemExit as exc:          # uvicorn's way of saying it could not start (port in use)
        return exc.code if isinstance(exc.code, int) else 1
    return 0 if server.started else 1


def build_checked(options: ServeOptions):
    """build(), with a broker or a database that cannot be used said as a ServeError (one
    line with the fix): asked now, before the server starts."""
    from .cluster.broker import BrokerError, check_url
    from .history.errors import HistoryUnavailable

    try:
        if options.broker:
            check_url(options.broker)
        return build(options)
    except (BrokerError, HistoryUnavailable) as exc:
        raise ServeError(str(exc)) from None


def class_roster(options: ServeOptions):
    """One roster for the whole class (classroom.roster.ClassRoster): both fronts count
    their students in it, so --max-sessions caps the class, not each front; or None with
    no class. --max-sessions is one flag for both fronts: their options carry the same."""
    fronts = [front for front in (options.ssh, options.web) if front is not None]
    if not fronts:
        return None
    from .classroom.roster import ClassRoster

    return ClassRoster(min(front.max_sessions for front in fronts))


async def class_fork_server(options: ServeOptions):
    """One fork server for the whole class (classroom.forks.ForkServer: every student's app
    a fork of it, over either front), started and ready; or None without a class, or with
    --no-fork-server."""
    fronts = [front for front in (options.ssh, options.web) if front is not None]
    if not fronts or not all(front.fork_server for front in fronts):
        return None
    from .classroom.forks import front_fork_server

    forks, _ = await front_fork_server(True)
    return forks


async def start_class_over_ssh(options: ServeOptions, app, port: int, out: TextIO, roster=None, forks=None):
    """The SSH front: each student's app is a client of this server, over loopback, so
    their runs share its queue, cap, ceilings and history."""
    from dataclasses import replace

    from .classroom.cli import start_class

    env = _class_app_env(options.ssh.app_env, options, app, port)
    return await start_class(replace(options.ssh, app_env=env), out, roster=roster, forks=forks)


async def start_class_over_web(options: ServeOptions, app, port: int, out: TextIO, ssh_class=None, roster=None,
                               forks=None):
    """The browser front (classroom.web), its apps clients of this server as the SSH
    front's are, with the SSH front's class code and roster when there is one."""
    from dataclasses import replace

    from .classroom.web import start_web_class

    env = _class_app_env(options.web.app_env, options, app, port)
    code = ssh_class.class_code if ssh_class is not None else None
    return await start_web_class(replace(options.web, app_env=env), out, class_code=code, roster=roster,
                                 forks=forks)


def _class_app_env(base: dict, options: ServeOptions, app, port: int) -> dict:
    """What a student's app needs to be a client of this server: its address over
    loopback and, with tokens, one of the class's own, which lets the apps name their
    student (access.CLASSROOM). Each front gets a token of its own."""
    import secrets

    from .service.access import CLASSROOM

    # A steady cursor: a blinking one repaints every idle app twice a second.
    env = {"TUI_SANDBOX_CURSOR_BLINK": "off", **base,
           "TUI_SANDBOX_SERVER": f"http://{_loopback_of(options.host)}:{port}"}
    tokens = getattr(app.state, "tokens", None)
    if tokens:
        token = secrets.token_urlsafe(24)
        tokens[token] = CLASSROOM
        env["TUI_SANDBOX_TOKEN"] = token
    return env


def _loopback_of(host: str) -> str:
    """Where this host's own processes reach a server bound to host."""
    if host in ("", "0.0.0.0", "::") or is_loopback(host):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def announcement(options: ServeOptions, port: int, cap: int, history_path: Path) -> str:
    host = f"[{options.host}]" if ":" in options.host else options.host
    names = sorted(set(options.tokens.values()))
    users = (f"{len(options.tokens)} token(s): {', '.join(names)}" if names
             else "public: anyone, each visitor a user by address" if options.public
             else "no tokens: users are X-Sandbox-User or their address")
    rate = f", at most {options.rate} each" if options.rate else ""
    return (f"tui-sandbox serving on http://{host}:{port} (docs at /docs) · up to {cap} running, "
            f"{options.per_user} waiting per user{rate} · {users} · history in {history_path} · pid {os.getpid()}")
