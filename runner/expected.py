"""A run's output against the output it was expected to give, compared as Judge0 compares
them (its IsolateJob#strip): each line's trailing whitespace, and the blank lines at the
end, do not count; everything else does, case and leading spaces included.

    compare("4\\n", "4")              # Comparison(passed=True, first_difference=None)
    compare("4\\n5\\n", "4\\n6\\n")      # passed=False, first_difference="line 2: expected '6', got '5'"

Every front gets it alike: the engine fills RunResult.passed and .first_difference when
a run is started with an expected output.
"""

from __future__ import annotations

from dataclasses import dataclass

from .events import Verdict

# A differing line is quoted up to this many characters, so one huge line cannot fill a
# verdict line or a history row.
QUOTED_CHARS = 80


@dataclass(frozen=True)
class Comparison:
    passed: bool
    first_difference: str | None      # None when passed


def normalized(text: str | None) -> str:
    """Judge0's strip: the lines with their trailing whitespace cut, then the end's."""
    return "\n".join(line.rstrip() for line in (text or "").split("\n")).rstrip()


def compare(output: str | None, expected: str) -> Comparison:
    """Whether the output is the expected one, and if not, the first line that differs."""
    got, want = normalized(output), normalized(expected)
    if got == want:
        return Comparison(True, None)
    got_lines, want_lines = got.split("\n") if got else [], want.split("\n") if want else []
    for number, (got_line, want_line) in enumerate(zip(got_lines, want_lines, strict=False), start=1):
        if got_line != want_line:
            return Comparison(False, f"line {number}: expected {_quoted(want_line)}, got {_quoted(got_line)}")
    number = min(len(got_lines), len(want_lines)) + 1
    if len(got_lines) < len(want_lines):
        return Comparison(False, f"line {number}: expected {_quoted(want_lines[number - 1])}, "
                                 f"got the end of the output")
    return Comparison(False, f"line {number}: expected the end of the output, got {_quoted(got_lines[number - 1])}")


def judge(output: str | None, expected: str, verdict: Verdict, kill_reason: str) -> Comparison:
    """A finished run against its expected output: it passes only if it also finished
    normally (as Judge0 compares only an accepted run's output). A run that ended
    otherwise with the right output so far says how it ended instead."""
    comparison = compare(output, expected)
    if verdict is Verdict.OK or not comparison.passed:
        return comparison
    return Comparison(False, f"the output matches, but the run did not finish normally: {kill_reason}")


def _quoted(line: str) -> str:
    return repr(line if len(line) <= QUOTED_CHARS else line[:QUOTED_CHARS] + "…")
