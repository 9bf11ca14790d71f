"""`tui-sandbox serve`'s flags, read into ServeOptions. The server's libraries load only
when it starts: building this parser costs `run` nothing."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from runner.ceilings import CAPPED, Ceilings
from runner.errors import LimitError

from .common import EXIT_INTERRUPTED, EXIT_USAGE


def add_serve_parser(commands) -> None:
    serve = commands.add_parser(
        "serve", help="serve runs over HTTP (the seeds' POST /run, a stream, history), for many users",
        description="One process owns every run on this host: a fair queue in front of a cap on running "
        "containers, rate limits, ceilings on what a request may ask for, and a history. "
        "Binding other than loopback needs a token.")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; any other "
                       "needs --token)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    serve.add_argument("--max-running", type=int, metavar="N",
                       help=f"containers running at once, host-wide (default: the CPU count, {os.cpu_count()})")
    serve.add_argument("--per-user", type=int, default=3, metavar="N", help="runs one user may have waiting "
                       "(default 3)")
    serve.add_argument("--max-waiting", type=int, default=100, metavar="N",
                       help="runs waiting in all; beyond it, 503 with Retry-After (default 100)")
    serve.add_argument("--rate", metavar="N/PERIOD", help="runs per user, e.g. 30/minute (default: no limit); "
                       "beyond it, 429 with Retry-After")
    serve.add_argument("--token", action="append", metavar="NAME=TOKEN",
                       help="a bearer token and its user's name (repeatable); a bare TOKEN is user 'default'")
    serve.add_argument("--token-file", metavar="FILE", help="tokens, one NAME=TOKEN a line")
    add_ceiling_flags(serve)
    serve.add_argument("--history", metavar="PATH|URL", help="the history's SQLite file (default: in "
                       "$XDG_DATA_HOME), or a PostgreSQL URL (postgresql://USER@HOST/DB) shared by a cluster's fronts")
    serve.add_argument("--broker", metavar="URL", help="be a front of a cluster: the queue, the cap and the runs "
                       "are this Redis's (redis://[:PASSWORD@]HOST:6379/0), carried out by `tui-sandbox worker`s")
    serve.add_argument("--cors-origin", action="append", metavar="ORIGIN",
                       help="let web pages from this origin call the API (repeatable; default: none)")
    serve.add_argument("--public", action="store_true",
                       help="answer anyone without a token, for a public site's pages: each visitor is a user "
                       "by address, held to --rate (required) and the --max-* ceilings")
    serve.add_argument("--max-body", default="1m", metavar="SIZE", help="the largest request body (default 1m)")
    # The service's default (service.held), written here: building the parser loads no service.
    serve.add_argument("--finished-memory", default="4m", metavar="SIZE",
                       help="memory for recent finished runs' results (default 4m); older ones are read from the "
                       "history")
    serve.add_argument("--access-log", action="store_true", help="log every request")
    from ..classroom.options import add_ssh_flags, add_web_flags  # light: no asyncssh until a class starts

    add_ssh_flags(serve)
    add_web_flags(serve)
    serve.set_defaults(handler=cmd_serve)


def add_ceiling_flags(parser) -> None:
    """The most a run may ask for: the same flags on `serve` and on `mcp`, one for each
    limit an operator caps (runner.ceilings.CAPPED)."""
    ceilings = Ceilings()
    for field in CAPPED:
        if field.kind == "switch":
            parser.add_argument(f"--no-{field.flag}-allowed", dest=f"max_{field.flag}", action="store_false",
                                help=f"refuse runs that ask for {field.help}")
        else:
            parser.add_argument(f"--max-{field.cli[2:]}", dest=f"max_{field.flag}", metavar=field.metavar,
                                help=f"the most a run may ask for as its {field.help} "
                                f"(default {field.show(getattr(ceilings, field.name))})")


def ceilings_from_args(args):
    """The Ceilings add_ceiling_flags' flags ask for; raises LimitError."""
    defaults, asked = Ceilings(), {}
    for field in CAPPED:
        value, flag = getattr(args, f"max_{field.flag}"), f"--max-{field.cli[2:]}"
        if field.kind == "switch":
            asked[field.name] = value is not False
        elif value is None:
            asked[field.name] = getattr(defaults, field.name)
        else:
            asked[field.name] = field.read(value, flag)
            if not asked[field.name] > 0:
                raise LimitError(f"{flag} must be more than zero")
    return Ceilings(**asked)


def cmd_serve(args) -> int:
    # The server's libraries load here only: `run` never pays for them.
    from runner.units import parse_size

    from .. import serve as server
    from ..classroom.options import class_options_from_args, web_options_from_args

    try:
        ceilings = ceilings_from_args(args)
        options = server.ServeOptions(
            host=args.host, port=args.port, max_running=args.max_running, per_user=args.per_user,
            max_waiting=args.max_waiting, rate=args.rate,
            tokens=server.parse_tokens(args.token or (), [args.token_file] if args.token_file else ()),
            ceilings=ceilings, history=history_location(args.history), broker=args.broker,
            cors_origins=tuple(args.cors_origin or ()), public=args.public,
            max_body_bytes=parse_size(args.max_body, "--max-body"), access_log=args.access_log,
            finished_memory_bytes=parse_size(args.finished_memory, "--finished-memory"),
            ssh=class_options_from_args(args), web=web_options_from_args(args))
        server.check_options(options)
    except (server.ServeError, LimitError, ValueError) as exc:
        print(f"tui-sandbox: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return server.serve(options)
    except server.ServeError as exc:       # the broker or the history database cannot be used
        print(f"tui-sandbox: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def history_location(value: str | None) -> Path | str | None:
    """--history as the service takes it: a database URL as it is, a file as a Path."""
    if value is None:
        return None
    return value if "://" in value else Path(value)
