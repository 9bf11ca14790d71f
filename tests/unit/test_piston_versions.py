"""The version ranges Piston's clients send, matched as Piston's npm semver matches them
(the expected answers are npm semver 7's; tests/service/test_piston.py checks many more
against npm itself). No Docker needed."""

import pytest

from tui_sandbox.service.piston import satisfies

PYTHON, NODE, BASH, GCC = "3.11.2", "18.20.4", "5.2.15", "12.2.0"


@pytest.mark.parametrize("version, spec, matches", [
    # Anything: what ultra-piston and most examples send, and what a missing version means.
    (PYTHON, "*", True), (GCC, "*", True), (PYTHON, "", True), (PYTHON, "x", True),
    # A major, a minor, an exact version.
    (PYTHON, "3", True), (NODE, "3", False), (PYTHON, "3.11", True), (PYTHON, "3.10", False),
    (PYTHON, "3.11.2", True), (PYTHON, "3.11.3", False), (PYTHON, "=3.11.2", True), (PYTHON, "v3.11.2", True),
    # Comparisons, with or without a space after the operator.
    (PYTHON, ">=3.10", True), (PYTHON, ">= 3.10", True), (PYTHON, ">=3.12", False), (PYTHON, ">=3.10 <4", True),
    (PYTHON, ">=3.10 <3.11", False), (PYTHON, "<=3.11", True), (PYTHON, ">3.11", False),
    # Carets and tildes.
    (NODE, "^18", True), (NODE, "^18.21", False), (PYTHON, "^18", False), (BASH, "^5.1", True),
    (PYTHON, "~3.11.0", True), (PYTHON, "~3.11.3", False), (PYTHON, "~3.10.0", False), (PYTHON, "~> 3.11.1", True),
    # X-ranges.
    (PYTHON, "3.x", True), (PYTHON, "3.X", True), (PYTHON, "3.11.x", True), (GCC, "12.x", True),
    (NODE, "3.x", False), (GCC, "12.x.x", True),
    # Hyphen ranges and alternatives.
    (PYTHON, "3.0.0 - 3.11", True), (PYTHON, "3.0.0 - 3.11.1", False), (NODE, "2 || 18", True),
    (PYTHON, "2.x || >=3.11.1 <3.12", True), (PYTHON, "2 || 4", False),
    # A prerelease in the range does not match the release it precedes.
    (PYTHON, "3.11.2-rc1", False), (PYTHON, ">=3.11.2-rc1", True),
])
def test_a_range_matches_as_npm_semver_does(version, spec, matches):
    assert satisfies(version, spec) is matches


@pytest.mark.parametrize("spec", ["banana", "latest", "python", "3.11.2.1", "03.11", ">=3.1o", "3 .11", "~", ">"])
def test_a_bad_range_matches_nothing(spec):
    assert satisfies(PYTHON, spec) is False


@pytest.mark.parametrize("spec, matches", [
    # npm semver 7.8 refuses a wildcard before a number in a plain comparator...
    ("x.2", False), ("3.x.2", False), ("*.11", False), ("2 || x.2", False), (">= x.2", False),
    # ... but not after a tilde or a caret, nor in a hyphen range.
    ("~3.x.2", True), ("~ 3.x.2", True), ("^3.x", True), ("x.2 - 4", True), ("3.x.2 - 4", True),
])
def test_a_wildcard_before_a_number_is_read_as_npm_semver_7_8_reads_it(spec, matches):
    assert satisfies(PYTHON, spec) is matches


def test_a_version_that_is_not_one_matches_nothing():
    assert satisfies("banana", "*") is False
