"""`python -m tui_sandbox.forkserver --socket PATH`: see the package's docstring."""

import argparse
import sys

from .server import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tui_sandbox.forkserver",
                                     description="Fork each student's app from one pre-imported process.")
    parser.add_argument("--socket", required=True, metavar="PATH",
                        help="the Unix socket to listen on (its folder should be private: mode 0700)")
    return serve(parser.parse_args(argv).socket)


sys.exit(main())
