"""`tui-sandbox run --expect FILE`, as a grader uses it: the verdict line says whether the
output was the expected one (or its first differing line), --json carries `passed` and
`first_difference`, and a wrong answer does not exit 0."""

import json

from .test_cli import cli, program  # noqa: F401 - the fixture, shared

PROGRAM = "n = int(input())\nprint(n * 2)\nprint('done')\n"


def test_the_expected_output_passes_and_exits_0(sandbox, program, tmp_path):  # noqa: F811
    (tmp_path / "expected.txt").write_text("42  \ndone\n\n")
    done = cli("run", program(PROGRAM), "--stdin-file", str(_input(tmp_path)), "--expect",
               str(tmp_path / "expected.txt"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"42\ndone\n"
    assert b"OK: Finished normally" in done.stderr and b"PASSED: the output is the one expected" in done.stderr


def test_another_output_says_its_first_difference_and_exits_3(sandbox, program, tmp_path):  # noqa: F811
    (tmp_path / "expected.txt").write_text("43\ndone\n")
    done = cli("run", program(PROGRAM), "--stdin-file", str(_input(tmp_path)), "--expect",
               str(tmp_path / "expected.txt"))
    assert done.returncode == 3, done.stderr
    assert b"FAILED: line 1: expected '43', got '42'" in done.stderr

    as_json = cli("run", program(PROGRAM), "--stdin-file", str(_input(tmp_path)), "--expect",
                  str(tmp_path / "expected.txt"), "--json")
    assert as_json.returncode == 3
    data = json.loads(as_json.stdout)
    assert data["verdict"] == "ok" and data["passed"] is False
    assert data["first_difference"] == "line 1: expected '43', got '42'"


def test_a_run_that_fails_keeps_its_own_status_and_does_not_pass(sandbox, program, tmp_path):  # noqa: F811
    (tmp_path / "expected.txt").write_text("1\n")
    done = cli("run", program("print(1)\nraise SystemExit(4)\n"), "--expect", str(tmp_path / "expected.txt"),
               "--json")
    assert done.returncode == 4
    data = json.loads(done.stdout)
    assert data["passed"] is False and data["first_difference"].startswith("the output matches, but")


def test_without_expect_the_fields_are_null_and_a_missing_file_is_usage(sandbox, program, tmp_path):  # noqa: F811
    data = json.loads(cli("run", program("print(1)"), "--json").stdout)
    assert data["passed"] is None and data["first_difference"] is None
    missing = cli("run", program("print(1)"), "--expect", str(tmp_path / "nope.txt"))
    assert missing.returncode == 2 and b"cannot read the expected output" in missing.stderr


def _input(tmp_path):
    path = tmp_path / "input.txt"
    path.write_text("21\n")
    return path
