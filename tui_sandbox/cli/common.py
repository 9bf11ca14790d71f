"""What every command shares: its exit statuses, the limit flags, and how a failure is
said (a line on standard error, and with --json an object a script can read)."""

from __future__ import annotations

import argparse
import json
import sys

from runner import Limits, SandboxError, format_size, parse_limits
from runner.errors import LanguageError, LimitError, SourceError

from ..settings import environment

EXIT_USAGE = 2
EXIT_ENGINE = 125
EXIT_TIMEOUT = 124
EXIT_KILLED = 137
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141   # 128 + SIGPIPE, what a shell pipeline expects
USAGE_ERRORS = (LimitError, LanguageError, SourceError)


def add_limit_flags(parser: argparse.ArgumentParser) -> None:
    defaults = Limits()
    parser.add_argument("-l", "--lang", metavar="NAME", help="language (default: from the file's extension)")
    parser.add_argument("--memory", metavar="SIZE",
                        help=f"memory limit, no swap (default {format_size(defaults.memory)})")
    parser.add_argument("--cpus", metavar="N", help=f"CPU share (default {defaults.cpus:g})")
    parser.add_argument("--pids", metavar="N", help=f"process limit (default {defaults.pids})")
    parser.add_argument("--timeout", metavar="SECONDS", help=f"wall-clock limit (default {defaults.timeout:g} s)")
    parser.add_argument("--network", action=argparse.BooleanOptionalAction, default=None,
                        help="network access (default off)")
    parser.add_argument("--read-only", dest="read_only", action="store_true", default=None,
                        help="read-only root filesystem, writable /tmp only (the default)")
    parser.add_argument("--writable", dest="read_only", action="store_false",
                        help="writable root filesystem and working directory")
    parser.add_argument("--runtime", metavar="NAME", help="OCI runtime: any the engine has registered "
                        "(runc, runsc for gVisor, crun, ...; `tui-sandbox doctor` lists them)")


def add_server_flags(parser) -> None:
    """--server, --user and --token: a `tui-sandbox serve` to run on instead of the local
    engine, for the app and `mcp` alike; each defaults to its TUI_SANDBOX_* variable."""
    env = environment()
    parser.add_argument("--server", metavar="URL", default=env.server,
                        help="send every run to this `tui-sandbox serve` (no Docker needed here); "
                        "default $TUI_SANDBOX_SERVER")
    parser.add_argument("--user", metavar="NAME", default=env.user,
                        help="your name on that server (default $TUI_SANDBOX_USER, else your login)")
    parser.add_argument("--token", metavar="TOKEN", default=env.token,
                        help="the server's token, when it asks for one (default $TUI_SANDBOX_TOKEN)")


def limits_from_args(args) -> Limits:
    return parse_limits(memory=args.memory, cpus=args.cpus, pids=args.pids, timeout=args.timeout,
                        network=args.network, read_only=args.read_only, runtime=args.runtime).validate()


def fail(args, exc: SandboxError, status: int) -> int:
    if getattr(args, "json", False):
        verdict = "engine_error" if status == EXIT_ENGINE else "usage_error"
        print(json.dumps({"verdict": verdict, "message": exc.message, "fix": exc.fix}))
    print(f"tui-sandbox: {exc}", file=sys.stderr)
    return status


def positive(text, flag: str, kind, default):
    if text is None:
        return default
    try:
        value = kind(text)
    except ValueError:
        raise LimitError(f"{flag}: {text!r} is not a {'whole ' if kind is int else ''}number") from None
    if not value > 0:
        raise LimitError(f"{flag} must be more than zero")
    return value
