"""Piston's version ranges: whether a runtime's version satisfies the range a request
names, as Piston's `semver.satisfies(version, range)` (npm's semver) reads it.

    satisfies("3.11.2", "3.x")      # True
"""

from __future__ import annotations

import re

_PART = r"0|[1-9]\d*|[xX*]"
_IDENT = r"[0-9A-Za-z-]+"
_PARTIAL = (rf"[v=\s]*(?P<M>{_PART})(?:\.(?P<m>{_PART})(?:\.(?P<p>{_PART})"
            rf"(?:-(?P<pre>{_IDENT}(?:\.{_IDENT})*))?(?:\+{_IDENT}(?:\.{_IDENT})*)?)?)?")
_COMPARATOR = re.compile(rf"(?P<op>~>?|\^|[<>]=?|=)?{_PARTIAL}")
_HYPHEN = re.compile(rf"^\s*(?P<a>{_PARTIAL.replace('?P<', '?P<a')})\s+-\s+"
                     rf"(?P<b>{_PARTIAL.replace('?P<', '?P<b')})\s*$")
_VERSION = re.compile(r"v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?")

# A bound: (major, minor, patch, prerelease identifiers or None for a release).
_Bound = tuple[int, int, int, tuple | None]


def satisfies(version: str, spec: str) -> bool:
    """Whether a plain version satisfies an npm range; an invalid range matches nothing."""
    match = _VERSION.fullmatch(version.strip())
    if not match:
        return False
    have = (int(match[1]), int(match[2]), int(match[3]), _pre(match[4]))
    try:
        sets = [_comparators(part) for part in re.split(r"\s*\|\|\s*", spec.strip())]
    except ValueError:
        return False
    return any(all(_holds(have, op, bound) for op, bound in comparators) for comparators in sets)


def _comparators(text: str) -> list[tuple[str, _Bound]]:
    hyphen = _HYPHEN.match(text)
    if hyphen:
        low = _partial(hyphen, "a")
        high = _partial(hyphen, "b")
        out = []
        if not _x(low[0]):
            out.append((">=", _fill(low)))
        if not _x(high[0]):
            M, m, p, pre = high
            if _x(m):
                out.append(("<", (int(M) + 1, 0, 0, (0,))))
            elif _x(p):
                out.append(("<", (int(M), int(m) + 1, 0, (0,))))
            else:
                out.append(("<=", (int(M), int(m), int(p), _pre(pre))))
        return out
    text = re.sub(r"([<>]=?|=)\s+", r"\1", text)
    text = re.sub(r"(~>?|\^)\s+", r"\1", text)
    out = []
    for word in text.split():
        match = _COMPARATOR.fullmatch(word)
        if not match:
            raise ValueError(word)
        out += _expand(match["op"] or "", (match["M"], match["m"], match["p"], match["pre"]))
    return out


def _partial(match: re.Match, side: str) -> tuple:
    return (match[f"{side}M"], match[f"{side}m"], match[f"{side}p"], match[f"{side}pre"])


def _x(part: str | None) -> bool:
    return part is None or part in ("x", "X", "*")


def _fill(parts: tuple) -> _Bound:
    M, m, p, pre = parts
    return (int(M), 0 if _x(m) else int(m), 0 if _x(p) else int(p), None if _x(p) else _pre(pre))


def _pre(text: str | None) -> tuple | None:
    if not text:
        return None
    return tuple(int(i) if i.isdigit() else i for i in text.split("."))


def _expand(op: str, parts: tuple) -> list[tuple[str, _Bound]]:
    """One comparator as plain bounds, as npm semver's replaceTilde, replaceCaret and
    replaceXRange do."""
    M, m, p, pre = parts
    below = (0,)    # npm's "-0": below every prerelease of that version
    if op in ("~", "~>"):
        if _x(M):
            return []
        if _x(m):
            return [(">=", (int(M), 0, 0, None)), ("<", (int(M) + 1, 0, 0, below))]
        top = ("<", (int(M), int(m) + 1, 0, below))
        return [(">=", _fill(parts)), top]
    if op == "^":
        if _x(M):
            return []
        M = int(M)
        if _x(m):
            return [(">=", (M, 0, 0, None)), ("<", (M + 1, 0, 0, below))]
        m = int(m)
        if _x(p):
            top = (M, m + 1, 0, below) if M == 0 else (M + 1, 0, 0, below)
            return [(">=", (M, m, 0, None)), ("<", top)]
        p = int(p)
        if M == 0:
            top = (0, 0, p + 1, below) if m == 0 else (0, m + 1, 0, below)
        else:
            top = (M + 1, 0, 0, below)
        return [(">=", (M, m, p, _pre(pre))), ("<", top)]
    if (_x(M) and not _x(m)) or (_x(m) and p is not None and not _x(p)):
        raise ValueError("an x before a number")        # "x.2", "3.x.2": npm refuses them
    any_x = _x(M) or _x(m) or _x(p)
    if not any_x:
        return [(op or "=", (int(M), int(m), int(p), _pre(pre)))]
    if op == "=":
        op = ""
    if _x(M):
        return [("<", (0, 0, 0, below))] if op in (">", "<") else []
    M = int(M)
    if op:
        xm = _x(m)
        m = 0 if xm else int(m)
        if op == ">":
            op = ">="
            M, m = (M + 1, 0) if xm else (M, m + 1)
        elif op == "<=":
            op = "<"
            M, m = (M + 1, 0) if xm else (M, m + 1)
        return [(op, (M, m, 0, below if op == "<" else None))]
    if _x(m):
        return [(">=", (M, 0, 0, None)), ("<", (M + 1, 0, 0, below))]
    return [(">=", (M, int(m), 0, None)), ("<", (M, int(m) + 1, 0, below))]


def _key(bound: _Bound) -> tuple:
    M, m, p, pre = bound
    if pre is None:
        return (M, m, p, 1, ())
    return (M, m, p, 0, tuple((0, i, "") if isinstance(i, int) else (1, 0, i) for i in pre))


def _holds(have: _Bound, op: str, bound: _Bound) -> bool:
    a, b = _key(have), _key(bound)
    return {"=": a == b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
