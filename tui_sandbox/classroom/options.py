"""The classroom's options and command-line flags. Light: no asyncssh here, so a CLI can
add the flags without paying for the SSH library until the server starts."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from ..settings import environment

DEFAULT_MAX_SESSIONS = 30
DEFAULT_IDLE_MINUTES = 30.0
# A whole class often shares one address (a school's NAT): room for everyone to connect
# at the start of a lesson, and still far too few tries to guess a class code.
DEFAULT_ATTEMPTS_PER_MINUTE = 60
DEFAULT_SSH_HOST = ""      # every interface: students are on other machines


def wall_time(monotonic_moment: float) -> float:
    """A moment kept on the monotonic clock (immune to clock changes), as Unix time."""
    return time.time() - (time.monotonic() - monotonic_moment)


def default_app_command() -> list[str]:
    return [sys.executable, "-m", "tui_sandbox"]


@dataclass(frozen=True)
class ClassOptions:
    port: int
    host: str = DEFAULT_SSH_HOST
    class_code: str | None = None             # None: one is generated and printed
    data_dir: Path | None = None               # None: runner.paths.data_dir()
    max_sessions: int = DEFAULT_MAX_SESSIONS
    idle_timeout_s: float | None = DEFAULT_IDLE_MINUTES * 60     # None or 0: never
    attempts_per_minute: int = DEFAULT_ATTEMPTS_PER_MINUTE       # 0: no limit
    app_command: list[str] = field(default_factory=default_app_command)
    app_env: dict[str, str] = field(default_factory=dict)
    # Each app a fork of one pre-imported process (forks.py), a third of the memory; off:
    # plain processes, as before (a debugger or profiler on one app, or to compare).
    fork_server: bool = True

    FLAG = "--ssh"                             # for messages: this front's own flags
    ATTEMPTS_FLAG = "--ssh-attempts"

    def check(self) -> None:
        """ValueError with a message for a person, before anything starts."""
        if not 0 <= self.port <= 65535:
            raise ValueError(f"{self.FLAG}: {self.port} is not a port")
        if self.class_code is not None and not self.class_code.strip():
            raise ValueError("--class-code must not be empty")
        if self.max_sessions < 1:
            raise ValueError("--max-sessions must be at least 1")
        if self.idle_timeout_s is not None and self.idle_timeout_s < 0:
            raise ValueError("--idle-timeout must not be negative")
        if self.attempts_per_minute < 0:
            raise ValueError(f"{self.ATTEMPTS_FLAG} must not be negative")


def add_ssh_flags(parser: argparse.ArgumentParser) -> None:
    """--ssh PORT and the class's flags, on `serve` (or any parser)."""
    group = parser.add_argument_group("classroom over SSH")
    group.add_argument("--ssh", type=int, metavar="PORT", help="also let students in over SSH: "
                       "ssh -p PORT NAME@HOST opens a fresh app for student NAME (0 picks a free port)")
    group.add_argument("--ssh-host", default=DEFAULT_SSH_HOST, metavar="ADDRESS",
                       help="address for SSH (default: every interface)")
    group.add_argument("--class-code", metavar="CODE", help="the password students type (default: one is "
                       "generated and printed). Prefer the environment: TUI_SANDBOX_CLASS_CODE")
    group.add_argument("--max-sessions", type=int, default=DEFAULT_MAX_SESSIONS, metavar="N",
                       help=f"students at once in the whole class, over SSH and in the browser together "
                       f"(default {DEFAULT_MAX_SESSIONS})")
    group.add_argument("--idle-timeout", type=float, default=DEFAULT_IDLE_MINUTES, metavar="MINUTES",
                       help=f"end a session with no key pressed for this long (default {DEFAULT_IDLE_MINUTES:g}; "
                       "0: never)")
    group.add_argument("--ssh-attempts", type=int, default=DEFAULT_ATTEMPTS_PER_MINUTE, metavar="N",
                       help=f"connection attempts per minute from one address (default "
                       f"{DEFAULT_ATTEMPTS_PER_MINUTE}; 0: no limit)")
    group.add_argument("--no-fork-server", action="store_true",
                       help="start each student's app as a plain process, not as a fork of one pre-imported "
                       "process (which takes about a third of the memory): for a debugger or a profiler on one "
                       "app, or to compare")


def class_options_from_args(args: argparse.Namespace, *, server_url: str | None = None,
                            app_args: list[str] | None = None) -> ClassOptions | None:
    """The options of add_ssh_flags' flags, or None without --ssh. server_url reaches each
    app as TUI_SANDBOX_SERVER; app_args are added to the app's command line."""
    if getattr(args, "ssh", None) is None:
        return None
    return _front_options(ClassOptions, args, port=args.ssh, host=getattr(args, "ssh_host", DEFAULT_SSH_HOST),
                          attempts=getattr(args, "ssh_attempts", DEFAULT_ATTEMPTS_PER_MINUTE), app_args=app_args,
                          app_env={"TUI_SANDBOX_SERVER": server_url} if server_url else {})


Front = TypeVar("Front", bound="ClassOptions")     # ClassOptions, or WebOptions


def _front_options(kind: type[Front], args: argparse.Namespace, *, port: int, host: str, attempts: int,
                   app_args: list[str] | None, app_env: dict[str, str] | None = None) -> Front:
    """One front's options: its own port, host and attempts, and the class's flags
    (--class-code, --max-sessions, --idle-timeout), which both fronts share. Checked."""
    code = getattr(args, "class_code", None) or environment().class_code
    idle = getattr(args, "idle_timeout", DEFAULT_IDLE_MINUTES)
    options = kind(
        port=port, host=host, class_code=code, max_sessions=getattr(args, "max_sessions", DEFAULT_MAX_SESSIONS),
        idle_timeout_s=idle * 60 if idle else None, attempts_per_minute=attempts,
        app_command=default_app_command() + list(app_args or ()), app_env=app_env or {},
        fork_server=not getattr(args, "no_fork_server", False))
    options.check()
    return options


DEFAULT_WEB_HOST = "127.0.0.1"


@dataclass(frozen=True)
class WebOptions(ClassOptions):
    """The browser front (web.py): the class's options, on a web port and host (loopback
    unless --web-host: a class on other machines needs one); a class code of None takes
    the SSH front's, else one is generated and printed."""
    host: str = DEFAULT_WEB_HOST
    FLAG = "--web"
    ATTEMPTS_FLAG = "--web-attempts"


def add_web_flags(parser: argparse.ArgumentParser) -> None:
    """--web PORT, --web-host, --web-attempts; the class's other flags (--class-code,
    --max-sessions, --idle-timeout) are add_ssh_flags' and apply to both fronts."""
    group = parser.add_argument_group("classroom in the browser")
    group.add_argument("--web", type=int, metavar="PORT", help="also let students in with a browser: "
                       "http://HOST:PORT/, their name and the class code open a fresh app (0 picks a free port)")
    group.add_argument("--web-host", default=DEFAULT_WEB_HOST, metavar="ADDRESS",
                       help=f"address for the browser front (default {DEFAULT_WEB_HOST}: this machine only; "
                       "students on other machines need 0.0.0.0 or this machine's address. The class code is "
                       "always required, and the page is plain HTTP: use it on a trusted network)")
    group.add_argument("--web-attempts", type=int, default=DEFAULT_ATTEMPTS_PER_MINUTE, metavar="N",
                       help=f"sign-in attempts per minute from one address (default {DEFAULT_ATTEMPTS_PER_MINUTE}; "
                       "0: no limit)")


def web_options_from_args(args: argparse.Namespace, *, app_args: list[str] | None = None) -> WebOptions | None:
    """The options of add_web_flags' flags (and the class's), or None without --web."""
    if getattr(args, "web", None) is None:
        return None
    return _front_options(WebOptions, args, port=args.web, host=getattr(args, "web_host", DEFAULT_WEB_HOST),
                          attempts=getattr(args, "web_attempts", DEFAULT_ATTEMPTS_PER_MINUTE), app_args=app_args)
