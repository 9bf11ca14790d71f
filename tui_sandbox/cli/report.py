"""`tui-sandbox report`: the seeds' experiments run for real, written up in Markdown."""

from __future__ import annotations

import sys
from pathlib import Path

from runner import SandboxError

from .common import EXIT_ENGINE, EXIT_USAGE


def add_report_parser(commands) -> None:
    rep = commands.add_parser("report", help="run the experiments for real and write a Markdown report",
                              description="Runs the seeds' experiments (hello world, infinite loop, memory bomb, "
                              "network, /etc/passwd, overwriting its own script, writing files with and without "
                              "read-only, a fork bomb) under every runtime the engine has, and writes what really "
                              "happened: what worked, what failed or was prevented, what I learned.")
    rep.add_argument("-o", "--output", metavar="FILE", help="write the report here (default: standard output)")
    rep.add_argument("--from-history", action="store_true", help="report your own runs from the history instead")
    rep.add_argument("--limit", type=int, default=20, metavar="N",
                     help="with --from-history: your last N runs (default 20)")
    rep.add_argument("--lang", default="python", choices=["python", "javascript", "all"],
                     help="the experiments' language (default python)")
    rep.add_argument("--runtime", metavar="NAME|auto|all",
                     help="one runtime the engine has (auto: the one a run that names none gets), or all of "
                     "them (default: that one, crun or runc, and every runtime with a kernel of its own, gVisor)")
    rep.add_argument("--jobs", type=int, default=4, metavar="N", help="runs at once (default 4)")
    rep.set_defaults(handler=cmd_report)


def cmd_report(args) -> int:
    """The seeds' experiments run for real, written up in Markdown (tui_sandbox.report)."""
    from ..report import NotWritten, write_report

    def progress(done: int, total: int, line: str) -> None:
        print(f"[{done}/{total}] {line}", file=sys.stderr, flush=True)

    to_file = args.output not in (None, "-")
    try:
        text = write_report(None, Path(args.output) if to_file else None, from_history=args.from_history,
                            progress=progress, limit=args.limit, jobs=args.jobs,
                            languages=("python", "javascript") if args.lang == "all" else (args.lang,),
                            runtimes=(args.runtime,) if args.runtime else None)
    except SandboxError as exc:
        print(f"tui-sandbox: {exc}", file=sys.stderr)
        return EXIT_ENGINE
    except NotWritten as exc:
        print(f"tui-sandbox: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not to_file:
        sys.stdout.write(text)
        return 0
    print(f"wrote {args.output}", file=sys.stderr)
    return 0
