"""`tui-sandbox mcp`'s flags: the engine as a Model Context Protocol server on stdio, for
AI agents. The SDK is an optional extra and loads only when the server starts: building
this parser costs `run` nothing."""

from __future__ import annotations

import sys

from runner.errors import LimitError

from .common import EXIT_INTERRUPTED, EXIT_USAGE, add_server_flags
from .serve import add_ceiling_flags, ceilings_from_args

# Said when the SDK is not installed; the one failure that is not the user's flags.
EXIT_NOT_INSTALLED = 1
INSTALL_HINT = "tui-sandbox mcp needs the MCP SDK: pip install 'tui-sandbox[mcp]' (or pip install mcp)"


def add_mcp_parser(commands) -> None:
    mcp = commands.add_parser(
        "mcp", help="serve runs to AI agents over the Model Context Protocol (stdio)",
        description="A Model Context Protocol server on standard input and output: the run_code tool "
        "(language, code, stdin, limits within the ceilings below) and the languages as a resource. "
        "Runs go to the local engine, or with --server through a tui-sandbox serve (its queue, caps "
        "and history).")
    add_server_flags(mcp)
    add_ceiling_flags(mcp)
    mcp.set_defaults(handler=cmd_mcp)


def cmd_mcp(args) -> int:
    try:
        ceilings = ceilings_from_args(args)
    except LimitError as exc:
        print(f"tui-sandbox: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        from ..mcp.server import McpOptions, serve
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] not in ("mcp", "mcp_types"):
            raise
        print(f"tui-sandbox: {INSTALL_HINT}", file=sys.stderr)
        return EXIT_NOT_INSTALLED
    try:
        return serve(McpOptions(ceilings=ceilings, server=args.server, user=args.user, token=args.token))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
