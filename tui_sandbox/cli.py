"""The command line. `run`, `images` and `doctor` use the engine alone: Textual is
imported only when the app opens, so scripts and graders start fast."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import NoReturn

from runner import (
    Finished,
    Limits,
    Output,
    RunResult,
    Sandbox,
    SandboxError,
    Verdict,
    for_filename,
    format_size,
    load_languages,
    parse_limits,
)
from runner.errors import LanguageError, LimitError, SourceError
from runner.verdicts import figures, headline

from .source_file import decode_source, read_source

EXIT_USAGE = 2
EXIT_ENGINE = 125
EXIT_TIMEOUT = 124
EXIT_KILLED = 137
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141   # 128 + SIGPIPE, what a shell pipeline expects
USAGE_ERRORS = (LimitError, LanguageError, SourceError)
COMMANDS = ("run", "images", "doctor", "serve", "history", "report", "class")


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
    parser.add_argument("--runtime", metavar="NAME", help="container runtime: runc, or runsc for gVisor "
                        "(the engine says which it has)")


def limits_from_args(args) -> Limits:
    return parse_limits(memory=args.memory, cpus=args.cpus, pids=args.pids, timeout=args.timeout,
                        network=args.network, read_only=args.read_only, runtime=args.runtime).validate()


def read_program(path: str) -> tuple[str, str | None]:
    """(text, file name, or None for standard input), or SourceError."""
    if path == "-":
        return decode_source(sys.stdin.buffer.read(), "standard input"), None
    return read_source(Path(path)), Path(path).name


def read_stdin_file(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read the input file {path}: {exc.strerror}") from None


def pick_language(sandbox_languages, lang: str | None, filename: str | None) -> str:
    if lang:
        return lang
    if filename:
        found = for_filename(filename, sandbox_languages)
        if found:
            return found.name
        raise LanguageError(f"cannot tell the language of {filename} from its extension",
                            "name it with -l/--lang (python, javascript, bash, c)")
    raise LanguageError("reading the program from standard input: the language is unknown",
                        "name it with -l/--lang")


def exit_status(result: RunResult) -> int:
    if result.verdict is Verdict.OK:
        return 0
    if result.verdict is Verdict.ERROR:
        return result.exit_code if result.exit_code not in (None, 0) else 1
    if result.verdict is Verdict.TIMEOUT:
        return EXIT_TIMEOUT
    if result.verdict is Verdict.CANCELLED:
        return EXIT_INTERRUPTED
    if result.verdict is Verdict.SIGNAL and result.exit_code is None and result.signal:
        number = getattr(signal.Signals, result.signal, None)
        if number is not None:
            return 128 + int(number)
    return EXIT_KILLED


def verdict_line(result: RunResult) -> str:
    return f"── {headline(result)}: {result.kill_reason} · {figures(result)}"


def cmd_run(args) -> int:
    try:
        limits = limits_from_args(args)
        source, filename = read_program(args.file)
        stdin = read_stdin_file(args.stdin_file) if args.stdin_file else None
    except USAGE_ERRORS as exc:
        return _fail(args, exc, EXIT_USAGE)
    # A person at a terminal talks to the program as it runs; a pipe, a file and --json
    # give their input whole, then end of file, as before.
    interactive = stdin is None and args.file != "-" and not args.json and _stdin_is_a_terminal()
    with Sandbox() as sandbox:
        try:
            language = pick_language(sandbox.languages, args.lang, filename)
            run = sandbox.start(source, language, limits, stdin, interactive=interactive)
        except USAGE_ERRORS as exc:
            return _fail(args, exc, EXIT_USAGE)
        except SandboxError as exc:
            return _fail(args, exc, EXIT_ENGINE)
        result = None
        # Ctrl-C (or a grader's SIGTERM) cancels the run rather than interrupting the code that
        # is reading it: the container is killed and removed, and the result says cancelled.
        previous = {sig: signal.signal(sig, lambda *_: run.cancel()) for sig in (signal.SIGINT, signal.SIGTERM)}
        if interactive:
            threading.Thread(target=_pass_terminal_input, args=(run,), daemon=True,
                             name="tui-sandbox-terminal").start()
        try:
            for event in run.events():
                if isinstance(event, Output) and not args.json:
                    out = sys.stdout if event.stream == "stdout" else sys.stderr
                    out.write(event.text)
                    out.flush()
                elif isinstance(event, Finished):
                    result = event.result
        except SandboxError as exc:
            return _fail(args, exc, EXIT_ENGINE)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    if result is None:
        return _fail(args, SandboxError("the run ended without a result"), EXIT_ENGINE)
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        # The verdict goes on a line of its own, even after output that ended mid-line.
        if any(text and not text.endswith("\n") for text in (result.output, result.error)):
            sys.stderr.write("\n")
        print(verdict_line(result), file=sys.stderr)
    return exit_status(result)


def _stdin_is_a_terminal() -> bool:
    try:
        return os.isatty(sys.stdin.fileno())
    except (AttributeError, ValueError, OSError):
        return False


def _pass_terminal_input(run) -> None:
    """The terminal's lines to the program as they are typed (the terminal's own line
    editing applies); ctrl+d at the start of a line is end of file."""
    while True:
        try:
            data = os.read(sys.stdin.fileno(), 65536)
        except OSError:
            data = b""
        if not data:
            run.close_input()
            return
        run.send_input(data)


def _fail(args, exc: SandboxError, status: int) -> int:
    if getattr(args, "json", False):
        verdict = "engine_error" if status == EXIT_ENGINE else "usage_error"
        print(json.dumps({"verdict": verdict, "message": exc.message, "fix": exc.fix}))
    print(f"tui-sandbox: {exc}", file=sys.stderr)
    return status


def cmd_images(args) -> int:
    from runner.docker import images
    from runner.docker.backend import connect

    try:
        languages = load_languages()
        api = connect()
        if args.images_command == "build":
            built = images.build_images(api, offline=args.offline, languages=languages,
                                        progress=lambda line: print(line, flush=True))
            print(f"built {len(built)} image(s); all present" if built else "all images up to date")
            return 0
        for status in images.list_images(api, languages):
            size = format_size(status.size_bytes) if status.size_bytes else "-"
            print(f"{status.language:<11} {status.ref:<40} {'present' if status.present else 'missing':<8} {size}")
        return 0
    except SandboxError as exc:
        print(f"tui-sandbox: {exc}", file=sys.stderr)
        return EXIT_ENGINE


def cmd_doctor(args) -> int:
    from .doctor import doctor_lines

    problems = 0
    for ok, line in doctor_lines():
        print(f"{'ok ' if ok else 'NO '} {line}")
        problems += not ok
    return 1 if problems else 0


def cmd_serve(args) -> int:
    # The server's libraries load here only: `run` never pays for them.
    from runner.units import parse_size

    from . import serve as server
    from .classroom.options import class_options_from_args, web_options_from_args
    from .service.core import Ceilings

    try:
        defaults = Ceilings()
        ceilings = Ceilings(
            memory=parse_size(args.max_memory, "--max-memory") if args.max_memory else defaults.memory,
            cpus=_positive(args.max_cpus, "--max-cpus", float, defaults.cpus),
            pids=_positive(args.max_pids, "--max-pids", int, defaults.pids),
            timeout=_positive(args.max_timeout, "--max-timeout", float, defaults.timeout),
            network=not args.no_network_allowed)
        options = server.ServeOptions(
            host=args.host, port=args.port, max_running=args.max_running, per_user=args.per_user,
            max_waiting=args.max_waiting, rate=args.rate,
            tokens=server.parse_tokens(args.token or (), [args.token_file] if args.token_file else ()),
            ceilings=ceilings, history=Path(args.history) if args.history else None,
            cors_origins=tuple(args.cors_origin or ()),
            max_body_bytes=parse_size(args.max_body, "--max-body"), access_log=args.access_log,
            ssh=class_options_from_args(args), web=web_options_from_args(args))
        server.check_options(options)
    except (server.ServeError, LimitError, ValueError) as exc:
        print(f"tui-sandbox: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return server.serve(options)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def _positive(text, flag: str, kind, default):
    if text is None:
        return default
    try:
        value = kind(text)
    except ValueError:
        raise LimitError(f"{flag}: {text!r} is not a {'whole ' if kind is int else ''}number") from None
    if not value > 0:
        raise LimitError(f"{flag} must be more than zero")
    return value


def cmd_history(args) -> int:
    from . import history

    path = Path(args.history) if args.history else history.default_path()
    if not path.exists():
        if args.id:
            print(f"tui-sandbox: no run {args.id}: there is no history at {path} yet", file=sys.stderr)
            return 1
        print("[]" if args.json else f"no runs yet (the history is kept at {path})")
        return 0
    store = history.History(path)
    try:
        if args.id:
            record = store.get(args.id)
            if record is None:
                print(f"tui-sandbox: no run {args.id} in {path}", file=sys.stderr)
                return 1
            print(json.dumps(record.to_dict(), indent=2) if args.json else describe_record(record))
            return 0
        records = store.list(user=args.user, verdict=args.verdict, limit=args.limit)
    finally:
        store.close()
    if args.json:
        print(json.dumps([record.to_dict() for record in records]))
    elif not records:
        print("no runs" + (" match" if args.user or args.verdict else f" yet (the history is kept at {path})"))
    else:
        print(f"{'ID':<16}  {'TIME':<19}  {'USER':<16}  {'LANGUAGE':<10}  {'VERDICT':<12}  DURATION")
        for r in records:
            duration = "-" if r.duration_s is None else f"{r.duration_s:.2f} s"
            print(f"{r.id:<16}  {_when(r.finished_at)}  {r.user[:16]:<16}  {r.language[:10]:<10}  "
                  f"{r.verdict:<12}  {duration}")
    return 0


def _when(unix_time: float | None) -> str:
    import time

    return "-" if unix_time is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(unix_time))


def describe_record(r) -> str:
    """One run from the history, in full, for a person."""
    limits = r.limits
    lines = [
        f"run {r.id}: {r.verdict}: {r.kill_reason}",
        f"user {r.user} (from {r.origin}) · {r.language} · {r.runtime}",
        f"queued {_when(r.queued_at)} · started {_when(r.started_at)} · ended {_when(r.finished_at)}",
        "limits: " + ", ".join([
            f"memory {format_size(limits['memory_bytes'])}", f"cpus {limits['cpus']:g}", f"pids {limits['pids']}",
            f"timeout {limits['timeout_s']:g} s", f"network {'on' if limits['network'] else 'off'}",
            "read-only" if limits["read_only"] else "writable"]),
        " · ".join(part for part in (
            f"exit {r.exit_code}" if r.exit_code is not None else None,
            f"signal {r.signal}" if r.signal else None,
            f"{r.duration_s:.2f} s" if r.duration_s is not None else None,
            f"peak {format_size(r.peak_memory_bytes)}" if r.peak_memory_bytes is not None else None,
            f"cpu {r.cpu_seconds:.2f} s" if r.cpu_seconds is not None else None,
            "output truncated" if r.truncated else None) if part),
    ]
    for title, text in (("source", r.source), ("input", r.stdin), ("output", r.output), ("error", r.error)):
        if text or title in ("source", "output"):
            lines += [f"── {title}", text.rstrip("\n")]
    return "\n".join(lines)


def cmd_report(args) -> int:
    """The seeds' experiments run for real, written up in Markdown (report.py)."""
    from . import report

    try:
        if args.from_history:
            text = report.history_report(limit=args.limit)
        else:
            languages = ("python", "javascript") if args.lang == "all" else (args.lang,)
            runtimes = None if args.runtime == "all" else (args.runtime,)

            def progress(done: int, total: int, case) -> None:
                verdict = case.result.verdict.value.upper() if case.result else "NOT RUN"
                print(f"[{done}/{total}] {case.title}: {verdict}", file=sys.stderr, flush=True)

            text = report.experiment_report(languages=languages, runtimes=runtimes, jobs=args.jobs,
                                            progress=progress).markdown()
    except SandboxError as exc:
        print(f"tui-sandbox: {exc}", file=sys.stderr)
        return EXIT_ENGINE
    if args.output in (None, "-"):
        sys.stdout.write(text)
        return 0
    try:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"tui-sandbox: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


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
    rep.add_argument("--runtime", default="all", choices=["runc", "runsc", "all"],
                     help="runc, runsc (gVisor) or all the engine has (default)")
    rep.add_argument("--jobs", type=int, default=4, metavar="N", help="runs at once (default 4)")
    rep.set_defaults(handler=cmd_report)


def cmd_class(args) -> int:
    """The teacher's view of a class, read from a server (tui_sandbox.teacher): no Docker here."""
    from .teacher.client import ClassClient, ClassError, describe

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
    from .teacher.app import run_teacher_app

    return run_teacher_app(args.server, args.token, args.theme)


def add_class_parser(commands) -> None:
    # Not imported from tui_sandbox.teacher: building the parser must not load httpx for `run`.
    default_server = "http://127.0.0.1:8000"
    cls = commands.add_parser(
        "class", help="the teacher's live view of a class: who is connected, who runs what, the queue, totals",
        description="Reads a `tui-sandbox serve` (GET /class every second; no Docker needed here): who is "
        "connected over SSH, who runs what (language, time, memory), who waits, each student's last verdict, "
        "the queue and the totals. c cancels the selected student's run (after a yes), t switches to the "
        "projector theme, q quits. With tokens, the server shows the class only to the token of the user "
        "named teacher.")
    cls.add_argument("--server", metavar="URL", default=os.environ.get("TUI_SANDBOX_SERVER") or default_server,
                     help=f"the server (default $TUI_SANDBOX_SERVER, else {default_server})")
    cls.add_argument("--token", metavar="TOKEN", default=os.environ.get("TUI_SANDBOX_TOKEN"),
                     help="the teacher's token, when the server has tokens (default $TUI_SANDBOX_TOKEN)")
    cls.add_argument("--once", action="store_true", help="print one snapshot and exit")
    cls.add_argument("--json", action="store_true", help="print one snapshot as JSON (GET /class's) and exit")
    cls.add_argument("--theme", metavar="NAME", help="the app's theme, e.g. projector (default: the app's own)")
    cls.set_defaults(handler=cmd_class)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tui-sandbox",
                                     description="Run untrusted code in a disposable, hardened container.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a program once and print its output and verdict")
    run.add_argument("file", metavar="FILE|-", help="the program, or - for standard input")
    add_limit_flags(run)
    run.add_argument("--stdin-file", metavar="FILE", help="feed this file to the program's standard input")
    run.add_argument("--json", action="store_true", help="print one JSON object with the result")
    run.set_defaults(handler=cmd_run)
    imgs = commands.add_parser("images", help="build or list the runner images")
    img_commands = imgs.add_subparsers(dest="images_command", required=True)
    build = img_commands.add_parser("build", help="build the runner images that are missing")
    build.add_argument("--offline", action="store_true",
                       help="make the Debian base locally with debootstrap (no registry needed)")
    img_commands.add_parser("list", help="show the runner images and whether they are built")
    imgs.set_defaults(handler=cmd_images)
    doctor = commands.add_parser("doctor", help="check the engine, images and runtimes, with fixes")
    doctor.set_defaults(handler=cmd_doctor)
    add_serve_parser(commands)
    hist = commands.add_parser("history", help="list the runs the server has kept, or show one")
    hist.add_argument("id", nargs="?", metavar="ID", help="show this run in full")
    hist.add_argument("--user", help="only this user's runs")
    hist.add_argument("--verdict", help="only runs that ended so: ok, error, timeout, oom, output_limit, signal, "
                      "cancelled, engine_error")
    hist.add_argument("--limit", type=int, default=20, metavar="N", help="how many (default 20, newest first)")
    hist.add_argument("--json", action="store_true", help="print JSON")
    hist.add_argument("--history", metavar="PATH", help="the history's file (default: in $XDG_DATA_HOME)")
    hist.set_defaults(handler=cmd_history)
    add_report_parser(commands)
    add_class_parser(commands)
    return parser


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
    ceilings = ceiling_defaults()
    serve.add_argument("--max-memory", metavar="SIZE", help=f"the most memory a run may ask for (default "
                       f"{format_size(ceilings['memory'], 'flag')})")
    serve.add_argument("--max-cpus", metavar="N", help=f"the most CPUs (default {ceilings['cpus']:g})")
    serve.add_argument("--max-pids", metavar="N", help=f"the most processes (default {ceilings['pids']})")
    serve.add_argument("--max-timeout", metavar="SECONDS", help=f"the longest timeout (default "
                       f"{ceilings['timeout']:g})")
    serve.add_argument("--no-network-allowed", action="store_true", help="refuse runs that ask for the network")
    serve.add_argument("--history", metavar="PATH", help="the history's SQLite file (default: in $XDG_DATA_HOME)")
    serve.add_argument("--cors-origin", action="append", metavar="ORIGIN",
                       help="let web pages from this origin call the API (repeatable; default: none)")
    serve.add_argument("--max-body", default="1m", metavar="SIZE", help="the largest request body (default 1m)")
    serve.add_argument("--access-log", action="store_true", help="log every request")
    from .classroom.options import add_ssh_flags, add_web_flags  # light: no asyncssh until a class starts

    add_ssh_flags(serve)
    add_web_flags(serve)
    serve.set_defaults(handler=cmd_serve)


def ceiling_defaults() -> dict:
    """service.core.Ceilings' defaults, for the help text: `run` must not import the service
    (a test holds the two equal)."""
    return {"memory": 1024 ** 3, "cpus": 1.0, "pids": 256, "timeout": 60.0}


def build_app_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tui-sandbox",
        description="Open the sandbox app. Commands: run, images, doctor, serve, history (see tui-sandbox run -h).")
    parser.add_argument("file", nargs="?", metavar="FILE", help="open this program in the editor")
    add_limit_flags(parser)
    remote = parser.add_argument_group("a teacher's server instead of the local engine")
    remote.add_argument("--server", metavar="URL", default=os.environ.get("TUI_SANDBOX_SERVER"),
                        help="send every run to this `tui-sandbox serve` (no Docker needed here); "
                        "default $TUI_SANDBOX_SERVER")
    remote.add_argument("--user", metavar="NAME", default=os.environ.get("TUI_SANDBOX_USER"),
                        help="your name on that server (default $TUI_SANDBOX_USER, else your login)")
    remote.add_argument("--token", metavar="TOKEN", default=os.environ.get("TUI_SANDBOX_TOKEN"),
                        help="the server's token, when it asks for one (default $TUI_SANDBOX_TOKEN)")
    return parser


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
    from .app.app import run_app

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
