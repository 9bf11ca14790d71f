"""Piston's version ranges: whether a runtime's version satisfies the range a request
names, as Piston's `semver.satisfies(version, range)` (npm's semver) reads it.

    satisfies("3.11.2", "3.x")      # True
    satisfies("3.11.2", "banana")   # False: an invalid range matches nothing

The matching is node-semver's, a port of npm's semver: Piston's server depends on npm
`semver` ^7.3.4, and node-semver reads npm's ranges as npm does (x-ranges, tildes,
carets, hyphen ranges, `||`, and spaces after an operator). `semantic-version`'s NpmSpec
refuses ">= 3.10", "~> 3.11.1" and "3.11.2 - *" and reads "3.11.2+build" and
"3.11.2-rc1" otherwise; `semver` (python-semver) reads one comparison (">=3.10"), not
ranges such as "3.x" or "*".

One rule is npm's own, added here: npm semver since 7.8 (what a Piston install gets
today) refuses a wildcard before a number in a plain comparator ("x.2", "3.x.2", "*.11"),
which node-semver, ported from an older npm semver, still reads as "*". With a tilde or
a caret, or in a hyphen range, npm reads them as before ("~3.x.2" is ~3).
"""

from __future__ import annotations

import re

import nodesemver

_ALTERNATIVES = re.compile(r"\s*\|\|\s*")
_SPACE_AFTER_OPERATOR = re.compile(r"(~>?|\^|[<>]=?|=)\s+")
_HYPHEN_RANGE = nodesemver.regexp[nodesemver.HYPHENRANGE]
_PLAIN_COMPARATOR = nodesemver.regexp[nodesemver.XRANGE]


def satisfies(version: str, spec: str) -> bool:
    """Whether a plain version satisfies an npm range; an invalid range matches nothing."""
    if _wildcard_before_a_number(spec):
        return False
    try:
        return nodesemver.make_range(spec, loose=False).test(version.strip())
    except ValueError:          # an invalid range or version
        return False


def _wildcard_before_a_number(spec: str) -> bool:
    """npm's invalidXRangeOrder, on each plain comparator of the range."""
    for alternative in _ALTERNATIVES.split(spec.strip()):
        if _HYPHEN_RANGE.search(alternative):
            continue
        for comparator in _SPACE_AFTER_OPERATOR.sub(r"\1", alternative).split():
            match = _PLAIN_COMPARATOR.match(comparator)
            if match:
                major, minor, patch = match.group(2, 3, 4)
                if (_x(major) and not _x(minor)) or (_x(minor) and patch and not _x(patch)):
                    return True
    return False


def _x(part: str | None) -> bool:
    return nodesemver.is_x(part)
