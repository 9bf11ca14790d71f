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
        print(json.dumps(result.as_dict()))
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
    return parser


def build_app_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tui-sandbox", description="Open the sandbox app. Commands: run, images, doctor (see tui-sandbox run -h).")
    parser.add_argument("file", nargs="?", metavar="FILE", help="open this program in the editor")
    add_limit_flags(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("run", "images", "doctor"):
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
    from .app import run_app

    return run_app(file=args.file, language=args.lang, limits=limits)


if __name__ == "__main__":
    sys.exit(main())
