"""An output against the expected one, as Judge0 compares them (its IsolateJob#strip):
trailing whitespace on a line and blank lines at the end do not count, the rest does."""

from __future__ import annotations

import pytest

from runner import Verdict
from runner.expected import compare, judge, normalized


@pytest.mark.parametrize("output, expected", [
    ("4\n", "4"), ("4", "4\n\n\n"), ("a  \nb\t\n", "a\nb"), ("", ""), (None, ""), ("x\r\n", "x\n"),
])
def test_what_judge0_does_not_count_does_not_count_here(output, expected):
    assert compare(output, expected).passed is True
    assert compare(output, expected).first_difference is None


@pytest.mark.parametrize("output, expected, difference", [
    ("4\n5\n", "4\n6\n", "line 2: expected '6', got '5'"),
    (" 4\n", "4\n", "line 1: expected '4', got ' 4'"),
    ("Hello\n", "hello\n", "line 1: expected 'hello', got 'Hello'"),
    ("1\n", "1\n2\n", "line 2: expected '2', got the end of the output"),
    ("1\n2\n", "1\n", "line 2: expected the end of the output, got '2'"),
    ("", "1\n", "line 1: expected '1', got the end of the output"),
    ("1\n\n2\n", "1\n2\n", "line 2: expected '2', got ''"),
])
def test_a_mismatch_names_its_first_differing_line(output, expected, difference):
    assert compare(output, expected).passed is False
    assert compare(output, expected).first_difference == difference


def test_the_normal_form_is_judge0s_strip():
    assert normalized("a \n b\t\n\n") == "a\n b"
    assert normalized(None) == ""


def test_a_long_line_is_quoted_short():
    difference = compare("x" * 10_000, "y").first_difference
    assert len(difference) < 200 and difference.endswith("…'")


def test_the_right_output_from_a_run_that_did_not_finish_normally_does_not_pass():
    checked = judge("4\n", "4\n", Verdict.TIMEOUT, "Timed out after 1 s and was killed")
    assert checked.passed is False
    assert checked.first_difference == ("the output matches, but the run did not finish normally: "
                                        "Timed out after 1 s and was killed")
    assert judge("4\n", "4\n", Verdict.OK, "Finished normally").passed is True
    assert judge("5\n", "4\n", Verdict.ERROR, "Exited with status 1").first_difference.startswith("line 1")
