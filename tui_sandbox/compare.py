"""Two runs of the same program, and the difference between them in one line, taken from
what the runs really did: their verdicts first, then their output. F6 uses it for a
toggle off and on; the report for the same, and for one runtime against another. No Textual.

Numbers and container ids are set aside before outputs are compared (a loop's count,
an address, a host name differ between any two runs), so a difference stated here is
one the toggle made, not one every run makes."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from runner import Limits, RunResult, Verdict
from runner.verdicts import headline

QUOTE_CHARS = 60


@dataclass(frozen=True)
class Toggle:
    """A switch F6 flips: the limit it sets and how to say each side."""
    field: str            # the Limits field
    name: str             # for the setting and the picker
    off: str              # "with the network off"
    on: str               # "with the network on"
    column_off: str       # column titles
    column_on: str

    def sides(self, limits: Limits) -> tuple[Limits, Limits]:
        """The same limits with this switch off, then on."""
        return limits.with_(**{self.field: False}), limits.with_(**{self.field: True})


TOGGLES = {
    "network": Toggle("network", "network", "with the network off", "with the network on",
                      "NETWORK OFF", "NETWORK ON"),
    "read_only": Toggle("read_only", "read-only", "with a writable root filesystem",
                        "with a read-only root filesystem", "WRITABLE ROOT", "READ-ONLY ROOT"),
}


@dataclass(frozen=True)
class Side:
    """One of the two runs: how to say it, and its result or why it could not run."""
    label: str                      # "with the network on", "under gVisor"
    result: RunResult | None
    refused: str | None = None      # the engine's message when it could not run at all


_ID = re.compile(r"\b[0-9a-f]{12,64}\b")
_NUMBER = re.compile(r"\d[\d,._:]*")


def _masked(line: str) -> str:
    return _NUMBER.sub("#", _ID.sub("<id>", line)).rstrip()


def _quote(line: str) -> str:
    line = line.strip()
    return f"“{line if len(line) <= QUOTE_CHARS else line[:QUOTE_CHARS - 1] + '…'}”"


def last_error_line(result: RunResult) -> str | None:
    """The line of its errors that says the most: the last one (a traceback's last line)."""
    lines = [line.strip() for line in result.error.splitlines() if line.strip()]
    return lines[-1] if lines else None


def how_it_ended(result: RunResult) -> str:
    """'OK', or 'ERROR (exit 1): socket.gaierror: …', 'TIMEOUT: Timed out after 10 s …'."""
    if result.verdict is Verdict.OK:
        return headline(result)
    why = (last_error_line(result) if result.verdict is Verdict.ERROR else None) or result.kill_reason
    return f"{headline(result)}: {why if len(why) <= 140 else why[:139] + '…'}"


def _first_difference(a: list[str], b: list[str]) -> tuple[str, int] | None:
    """The first place two outputs differ (numbers and ids aside), said in a phrase with
    a, b as placeholders, and how many more lines differ besides."""
    matcher = difflib.SequenceMatcher(a=[_masked(x) for x in a], b=[_masked(x) for x in b], autojunk=False)
    changes = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    if not changes:
        return None
    tag, i1, i2, j1, j2 = changes[0]
    differing = sum(max(i2_ - i1_, j2_ - j1_) for _, i1_, i2_, j1_, j2_ in changes)
    if tag == "replace":
        return f"{{b}}: {_quote(b[j1])}; {{a}}: {_quote(a[i1])}", differing - 1
    if tag == "insert":
        return f"{{b}} the output also has {_quote(b[j1])}", differing - 1
    return f"{{b}} the output lacks {_quote(a[i1])}, printed {{a}}", differing - 1


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def difference(a: Side, b: Side) -> str:
    """One line: what changed from a to b. Only what the two runs showed."""
    if a.result is None and b.result is None:
        if a.refused == b.refused:
            return f"Neither run could start: {a.refused}"
        return f"Neither run could start: {a.label}, {a.refused}; {b.label}, {b.refused}"
    if b.result is None:
        return _cap(f"{b.label} the run was refused: {b.refused}; {a.label} it ends {how_it_ended(a.result)}")
    if a.result is None:
        return _cap(f"{a.label} the run was refused: {a.refused}; {b.label} it ends {how_it_ended(b.result)}")
    walls = "; ".join(filter(None, (_walls_apart(a, b), _walls_apart(b, a))))
    said = _outcome_difference(a, b)
    if said is None:
        alike = a.result.output == b.result.output and a.result.error == b.result.error
        if walls:
            return _cap(walls) + f"; both end {how_it_ended(a.result)}, with the same output"
        return (f"No difference: both end {how_it_ended(a.result)}, with the same output"
                + ("" if alike else " (numbers and ids aside)"))
    return said + (f"; {walls}" if walls else "")


def _outcome_difference(a: Side, b: Side) -> str | None:
    ra, rb = a.result, b.result
    if headline(ra) != headline(rb):
        return _cap(f"{b.label} it ends {how_it_ended(rb)}; {a.label}, {how_it_ended(ra)}")
    for stream in ("output", "error"):
        found = _first_difference(getattr(ra, stream).splitlines(), getattr(rb, stream).splitlines())
        if found is not None:
            phrase, more = found
            where = "" if stream == "output" else " (on stderr)"
            text = _cap(phrase.format(a=a.label, b=b.label)) + where
            if more > 0:
                text += f" (and {more} more line{'s' if more > 1 else ''} differ)"
            return text
    return None


def _walls_apart(side: Side, other: Side) -> str:
    """'with the network off the sandbox blocked network connect ×2': the walls one run hit
    and the other did not (by kind and call); '' when there are none."""
    theirs = {(wall.wall, wall.call) for wall in other.result.blocked or ()}
    mine = [f"{wall.wall} {wall.call}" + (f" ×{wall.count:,}" if wall.count > 1 else "")
            for wall in side.result.blocked or () if (wall.wall, wall.call) not in theirs]
    return f"{side.label} the sandbox blocked {', '.join(mine)}" if mine else ""


def first_lines(text: str, count: int) -> list[str]:
    """The first count lines, and a last one saying how many more there were."""
    lines = text.splitlines()
    if len(lines) <= count:
        return lines
    return lines[:count - 1] + [f"… {len(lines) - count + 1} more lines"]
