"""`tui-sandbox serve`'s flags, read into ServeOptions. The server's libraries load only
when it starts: building this parser costs `run` nothing."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from runner import format_size
from runner.ceilings import Ceilings
from runner.errors import LimitError

from .common import EXIT_INTERRUPTED, EXIT_USAGE, positive


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
    serve.add_argument("--access-log", action="store_true", help="log every request")
    from ..classroom.options import add_ssh_flags, add_web_flags  # light: no asyncssh until a class starts

    add_ssh_flags(serve)
    add_web_flags(serve)
    serve.set_defaults(handler=cmd_serve)


def add_ceiling_flags(parser) -> None:
    """The most a run may ask for: the same flags on `serve` and on `mcp`."""
    ceilings = Ceilings()
    parser.add_argument("--max-memory", metavar="SIZE", help=f"the most memory a run may ask for (default "
                        f"{format_size(ceilings.memory, 'flag')})")
    parser.add_argument("--max-cpus", metavar="N", help=f"the most CPUs (default {ceilings.cpus:g})")
    parser.add_argument("--max-pids", metavar="N", help=f"the most processes (default {ceilings.pids})")
    parser.add_argument("--max-timeout", metavar="SECONDS", help=f"the longest timeout (default "
                        f"{ceilings.timeout:g})")
    parser.add_argument("--no-network-allowed", action="store_true", help="refuse runs that ask for the network")


def ceilings_from_args(args):
    """The Ceilings add_ceiling_flags' flags ask for; raises LimitError."""
    from runner.units import parse_size

    defaults = Ceilings()
    return Ceilings(
        memory=parse_size(args.max_memory, "--max-memory") if args.max_memory else defaults.memory,
        cpus=positive(args.max_cpus, "--max-cpus", float, defaults.cpus),
        pids=positive(args.max_pids, "--max-pids", int, defaults.pids),
        timeout=positive(args.max_timeout, "--max-timeout", float, defaults.timeout),
        network=not args.no_network_allowed)


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
