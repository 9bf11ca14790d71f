"""Starting a class: inside a running event loop (`start_class`, for `serve`), or on its
own (`run_ssh_class`, and `python -m tui_sandbox.classroom`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import TextIO

from runner.paths import data_dir as default_data_dir

from .options import ClassOptions, add_ssh_flags, class_options_from_args


def reap_dead_owners() -> None:
    """Remove the containers of tui-sandbox processes that are gone (an app that had to be
    killed). Blocking; lazily imports the engine, so the SSH server pays for it only then."""
    from runner import Sandbox

    with Sandbox() as engine:
        engine.reap_stale()


async def start_class(options: ClassOptions, out: TextIO | None = None, roster=None, forks=None):
    """Start the SSH server of a class and print how to reach it: the port, the class code
    (when generated), the host key's fingerprint. roster: the class's (roster.ClassRoster),
    when the browser front shares its cap. forks: the class's fork server (forks.ForkServer,
    serve's, shared with the browser front); else one of its own, unless
    options.fork_server is off. Returns the SSHClassServer: close() it, then
    await wait_closed(). Raises OSError (port in use) or HostKeyError."""
    from .admission import generate_class_code
    from .ssh import start_ssh_server

    options.check()
    out = out or sys.stdout
    generated = options.class_code is None
    code = generate_class_code() if generated else options.class_code
    data_dir = options.data_dir or default_data_dir()
    server = await start_ssh_server(
        host=options.host, port=options.port, class_code=code, data_dir=data_dir,
        app_command=options.app_command, app_env=options.app_env, max_sessions=options.max_sessions,
        idle_timeout_s=options.idle_timeout_s or None, attempts_per_minute=options.attempts_per_minute,
        reap=reap_dead_owners, roster=roster, forks=forks or options.fork_server)
    print(announcement(server, options, code, generated), file=out, flush=True)
    return server


def announcement(server, options: ClassOptions, code: str, generated: bool) -> str:
    where = options.host or "every interface"
    idle = (f"idle sessions end after {options.idle_timeout_s / 60:g} min" if options.idle_timeout_s
            else "no idle timeout")
    return "\n".join([
        f"tui-sandbox class over SSH on port {server.port} ({where})",
        f"  students connect with:  ssh -p {server.port} NAME@THIS-HOST",
        f"  class code:             {code}" + ("   (generated: set one with --class-code)" if generated else ""),
        f"  host key fingerprint:   {server.fingerprint} (ED25519), kept in {server.host_key_path}",
        f"  at most {server.roster.capacity} at once; {idle}",
    ])


def run_ssh_class(options: ClassOptions, out: TextIO | None = None) -> int:
    """Serve the class until SIGINT or SIGTERM; then every app is stopped. Blocks."""

    # Who came, who left and why, for the teacher: one line each, on stderr.
    logger = logging.getLogger("tui_sandbox.classroom")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)

    async def serve() -> int:
        try:
            server = await start_class(options, out)
        except (OSError, ValueError) as exc:
            print(f"tui-sandbox: cannot start the SSH server: {exc}", file=sys.stderr)
            return 1
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            print("tui-sandbox: closing the class: stopping every app…", file=out or sys.stdout, flush=True)
            server.close()
            await server.wait_closed()
        return 0

    return asyncio.run(serve())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tui_sandbox.classroom",
                                     description="Serve the tui-sandbox app to a class over SSH.")
    add_ssh_flags(parser)
    parser.add_argument("--data-dir", metavar="DIR", help=f"the host key and students' files (default "
                        f"{default_data_dir()})")
    parser.add_argument("--server-url", metavar="URL", help="the service each app uses (TUI_SANDBOX_SERVER)")
    parser.add_argument("app_args", nargs=argparse.REMAINDER,
                        help="after --: the app's own flags, e.g. -- --timeout 5 --memory 64m")
    args = parser.parse_args(argv)
    if args.ssh is None:
        parser.error("--ssh PORT is required")
    app_args = [a for a in args.app_args if a != "--"] if args.app_args else []
    try:
        options = class_options_from_args(args, server_url=args.server_url, app_args=app_args)
    except ValueError as exc:
        parser.error(str(exc))
    if args.data_dir:
        from dataclasses import replace
        from pathlib import Path

        options = replace(options, data_dir=Path(args.data_dir))
    return run_ssh_class(options)
