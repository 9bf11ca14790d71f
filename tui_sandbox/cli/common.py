"""What every command shares: its exit statuses, the limit flags, and how a failure is
said (a line on standard error, and with --json an object a script can read)."""

from __future__ import annotations

import argparse
import json
import sys

from runner import Limits, SandboxError, parse_limits
from runner.errors import LanguageError, LimitError, SourceError
from runner.limits import LIMIT_FIELDS

from ..settings import environment

EXIT_USAGE = 2
EXIT_ENGINE = 125
EXIT_TIMEOUT = 124
EXIT_KILLED = 137
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141   # 128 + SIGPIPE, what a shell pipeline expects
USAGE_ERRORS = (LimitError, LanguageError, SourceError)


def add_limit_flags(parser: argparse.ArgumentParser) -> None:
    """--lang, and a flag for every limit (runner.limits.LIMIT_FIELDS)."""
    parser.add_argument("-l", "--lang", metavar="NAME", help="language (default: from the file's extension)")
    for field in LIMIT_FIELDS:
        described = f"{field.help} (default {field.default_text()})"
        if field.kind != "switch":
            parser.add_argument(field.cli, dest=field.flag, metavar=field.metavar, help=described)
        elif field.off_flag:
            parser.add_argument(field.cli, dest=field.flag, action="store_true", default=None, help=described)
            parser.add_argument(field.off_flag, dest=field.flag, action="store_false", help=field.off_help)
        else:
            parser.add_argument(field.cli, dest=field.flag, action=argparse.BooleanOptionalAction, default=None,
                                help=described)


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
    return parse_limits(**{field.flag: getattr(args, field.flag) for field in LIMIT_FIELDS}).validate()


def fail(args, exc: SandboxError, status: int) -> int:
    if getattr(args, "json", False):
        verdict = "engine_error" if status == EXIT_ENGINE else "usage_error"
        print(json.dumps({"verdict": verdict, "message": exc.message, "fix": exc.fix}))
    print(f"tui-sandbox: {exc}", file=sys.stderr)
    return status
