"""`tui-sandbox run`: one program, once, its output streamed live and its verdict last
(or one JSON object). It stays lean: the engine alone, no Textual and no server library."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path

from runner import Blocked, Finished, Output, RunResult, Sandbox, SandboxError, Verdict, describe, for_filename
from runner.errors import LanguageError, SourceError
from runner.verdicts import figures, headline

from ..source_file import decode_source, read_source
from .common import (
    EXIT_ENGINE,
    EXIT_INTERRUPTED,
    EXIT_KILLED,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    USAGE_ERRORS,
    add_limit_flags,
    fail,
    limits_from_args,
)


def add_run_parser(commands) -> None:
    run = commands.add_parser("run", help="run a program once and print its output and verdict")
    run.add_argument("file", metavar="FILE|-", help="the program, or - for standard input")
    add_limit_flags(run)
    run.add_argument("--stdin-file", metavar="FILE", help="feed this file to the program's standard input")
    run.add_argument("--expect", metavar="FILE", help="the output the program should give: the verdict says "
                     "whether it did (trailing spaces and blank lines at the end do not count), and a run "
                     "that gave another exits with 3")
    run.add_argument("--json", action="store_true", help="print one JSON object with the result")
    run.set_defaults(handler=cmd_run)


def read_program(path: str) -> tuple[str, str | None]:
    """(text, file name, or None for standard input), or SourceError."""
    if path == "-":
        return decode_source(sys.stdin.buffer.read(), "standard input"), None
    return read_source(Path(path)), Path(path).name


def read_stdin_file(path: str, what: str = "input file") -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read the {what} {path}: {exc.strerror}") from None


def read_expected(path: str) -> str:
    return decode_source(read_stdin_file(path, "expected output"), f"the expected output {path}")


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


# A run that finished normally with another output than --expect's: a grader's failure,
# apart from the program's own statuses (1 is often its own) and from usage (2).
EXIT_WRONG_ANSWER = 3


def exit_status(result: RunResult) -> int:
    if result.verdict is Verdict.OK:
        return EXIT_WRONG_ANSWER if result.passed is False else 0
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
    line = f"── {headline(result)}: {result.kill_reason} · {figures(result)}"
    if result.passed is not None:
        line += "\n── " + expected_line(result)
    return line


def expected_line(result: RunResult) -> str:
    """'PASSED: the output is the one expected', or 'FAILED: ' and the first difference."""
    if result.passed:
        return "PASSED: the output is the one expected"
    return f"FAILED: {result.first_difference}"


def cmd_run(args) -> int:
    try:
        limits = limits_from_args(args)
        source, filename = read_program(args.file)
        stdin = read_stdin_file(args.stdin_file) if args.stdin_file else None
        expected = read_expected(args.expect) if args.expect else None
    except USAGE_ERRORS as exc:
        return fail(args, exc, EXIT_USAGE)
    # A person at a terminal talks to the program as it runs; a pipe, a file and --json
    # give their input whole, then end of file, as before.
    interactive = stdin is None and args.file != "-" and not args.json and _stdin_is_a_terminal()
    with Sandbox() as sandbox:
        try:
            language = pick_language(sandbox.languages, args.lang, filename)
            run = sandbox.start(source, language, limits, stdin, interactive=interactive,
                                expected_output=expected)
        except USAGE_ERRORS as exc:
            return fail(args, exc, EXIT_USAGE)
        except SandboxError as exc:
            return fail(args, exc, EXIT_ENGINE)
        result, walls_said = None, {}
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
                elif isinstance(event, Blocked) and not args.json and _key(event) not in walls_said:
                    # A wall as it is first hit; its count grows quietly, and is said at the end.
                    walls_said[_key(event)] = event.count
                    print(f"── wall: {describe(event, limits)}", file=sys.stderr, flush=True)
                elif isinstance(event, Finished):
                    result = event.result
        except SandboxError as exc:
            return fail(args, exc, EXIT_ENGINE)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    if result is None:
        return fail(args, SandboxError("the run ended without a result"), EXIT_ENGINE)
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        # The verdict goes on a line of its own, even after output that ended mid-line.
        if any(text and not text.endswith("\n") for text in (result.output, result.error)):
            sys.stderr.write("\n")
        for wall in result.blocked or ():
            if wall.count > walls_said.get(_key(wall), 0):
                print(f"── wall: {describe(wall, limits)}", file=sys.stderr)
        print(verdict_line(result), file=sys.stderr)
    return exit_status(result)


def _key(wall: Blocked) -> tuple:
    return wall.wall, wall.call, wall.target, wall.errno


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
