"""The command line: one module per command. `run`, `images` and `doctor` use the engine
alone; Textual is imported only when the app opens, and a server library only when a
server starts, so scripts and graders start fast."""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn

from .common import EXIT_BROKEN_PIPE, EXIT_USAGE, USAGE_ERRORS, add_limit_flags, add_server_flags, limits_from_args
from .engine import add_engine_parsers
from .history import add_history_parser
from .mcp import add_mcp_parser
from .report import add_report_parser
from .run import add_run_parser
from .serve import add_serve_parser
from .teacher import add_class_parser
from .worker import add_worker_parser

__all__ = ["build_parser", "entry", "main"]

# In the order a reader needs them (the README's command-line section follows it).
COMMANDS = ("run", "serve", "class", "worker", "mcp", "history", "report", "images", "doctor")
APP_SUMMARY = "open the app: edit a program, run it, watch the sandbox (the default)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tui-sandbox",
                                     description="Run untrusted code in a disposable, hardened container.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_run_parser(commands)
    add_serve_parser(commands)
    add_class_parser(commands)
    add_worker_parser(commands)
    add_mcp_parser(commands)
    add_history_parser(commands)
    add_report_parser(commands)
    add_engine_parsers(commands)      # images, doctor
    return parser


def command_summaries() -> list[tuple[str, str]]:
    """Each command's one-line summary, as its own parser declares it, in COMMANDS' order."""
    commands = next(action for action in build_parser()._actions
                    if isinstance(action, argparse._SubParsersAction))
    said = {choice.dest: choice.help for choice in commands._choices_actions}
    return [("(none)", APP_SUMMARY)] + [(name, said[name]) for name in COMMANDS]


def build_app_parser() -> argparse.ArgumentParser:
    width = max(len(name) for name, _ in command_summaries())
    listing = "\n".join(f"  {name:<{width}}  {summary}" for name, summary in command_summaries())
    parser = argparse.ArgumentParser(
        prog="tui-sandbox",
        usage="tui-sandbox [FILE] [-l NAME] [limit flags] [--server URL --user NAME [--token TOKEN]]\n"
              "       tui-sandbox COMMAND ...     (tui-sandbox COMMAND -h says more of one)",
        description="Run untrusted code in a disposable, hardened container, and see what the sandbox does.\n"
                    f"commands:\n{listing}",
        formatter_class=_CommandTable)
    parser.add_argument("file", nargs="?", metavar="FILE", help="open this program in the editor")
    add_limit_flags(parser)
    add_server_flags(parser.add_argument_group("a teacher's server instead of the local engine"))
    return parser


class _CommandTable(argparse.HelpFormatter):
    """Wraps the description's first paragraph as usual, but keeps the command table's
    lines as they are written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        intro, _, table = text.partition("\ncommands:\n")
        lines = ["", "commands:", *table.splitlines()] if table else []
        return super()._fill_text(intro, width, indent) + "".join("\n" + indent + line for line in lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in COMMANDS:
        args = build_parser().parse_args(argv)
        try:
            return args.handler(args)
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly, as Unix tools do. A run's
            # generator is closed on the way out, which removes its container.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_BROKEN_PIPE
    args = build_app_parser().parse_args(argv)
    try:
        limits = limits_from_args(args)
    except USAGE_ERRORS as exc:
        print(f"tui-sandbox: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from ..app.app import run_app

    return run_app(file=args.file, language=args.lang, limits=limits, server=args.server, user=args.user,
                   token=args.token)


def entry() -> NoReturn:
    """The `tui-sandbox` command."""
    status = main()
    if sys.argv[1:2] == ["run"]:
        # Everything `run` owns is finished when main returns: the result is written, the
        # container removed (or left to Docker's auto-remove) and the engine closed. Tearing
        # down the few hundred modules the Docker SDK brings costs a tenth of the command's
        # time, so it is skipped; only the output still buffered must go out first.
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass   # a reader that left (`| head`) was already answered with its status
        os._exit(status)
    sys.exit(status)


if __name__ == "__main__":
    entry()
