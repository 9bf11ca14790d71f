"""`tui-sandbox class`: the teacher's view of a class, read from a server over HTTP."""

from __future__ import annotations

import json
import sys

from ..settings import environment


def add_class_parser(commands) -> None:
    # Not imported from tui_sandbox.teacher: building the parser must not load httpx for `run`.
    default_server = "http://127.0.0.1:8000"
    env = environment()
    cls = commands.add_parser(
        "class", help="the teacher's live view of a class: who is connected, who runs what, the queue, totals",
        description="Reads a `tui-sandbox serve` (GET /class every second; no Docker needed here): who is "
        "connected over SSH, who runs what (language, time, memory), who waits, each student's last verdict, "
        "the queue and the totals. c cancels the selected student's run (after a yes), t switches to the "
        "projector theme, q quits. With tokens, the server shows the class only to the token of the user "
        "named teacher.")
    cls.add_argument("--server", metavar="URL", default=env.server or default_server,
                     help=f"the server (default $TUI_SANDBOX_SERVER, else {default_server})")
    cls.add_argument("--token", metavar="TOKEN", default=env.token,
                     help="the teacher's token, when the server has tokens (default $TUI_SANDBOX_TOKEN)")
    cls.add_argument("--once", action="store_true", help="print one snapshot and exit")
    cls.add_argument("--json", action="store_true", help="print one snapshot as JSON (GET /class's) and exit")
    cls.add_argument("--theme", metavar="NAME", help="the app's theme, e.g. projector (default: the app's own)")
    cls.set_defaults(handler=cmd_class)


def cmd_class(args) -> int:
    """The teacher's view of a class, read from a server (tui_sandbox.teacher): no Docker here."""
    from ..teacher.client import ClassClient, ClassError, describe

    if args.once or args.json:
        try:
            with ClassClient(args.server, args.token) as client:
                view = client.snapshot()
        except ClassError as exc:
            if args.json:
                print(json.dumps({"error": exc.message, "fix": exc.fix, "status": exc.status}))
            print(f"tui-sandbox: {exc}", file=sys.stderr)
            return 1
        print(json.dumps(view) if args.json else describe(view))
        return 0
    from ..teacher.app import run_teacher_app

    return run_teacher_app(args.server, args.token, args.theme)
