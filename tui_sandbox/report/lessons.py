"""What I learned, each lesson built from the runs themselves: what did not go as
expected first, then what each experiment showed, then what the toggles changed and what
each other runtime changed against the baseline, the runtime a run that names none gets
(said as F6 says it, compare.py)."""

from __future__ import annotations

import re

from runner import format_size
from runner.runtimes import ordered, runtime
from runner.verdicts import headline

from ..compare import Side, difference, how_it_ended, last_error_line
from .runs import Case, baseline


def quote(text: str) -> str:
    return f"“{text.strip()}”"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _phrase(variant: str) -> str:
    return {"network off": "with the network off", "network on": "with the network on",
            "read-only root": "with a read-only root", "writable root": "with a writable root"}.get(
        variant, f"with {variant}")


def _under(case: Case) -> str:
    return f"under {case.runtime}"


def _lesson(case: Case) -> str | None:
    """What one run that behaved as expected showed, in a sentence built from its output."""
    r, limits = case.result, case.limits
    if r is None:
        return None
    out = r.output
    if case.stem == "hello":
        return f"a plain program runs normally {_under(case)}: {headline(r)} in {r.duration_s:.2f} s" + (
            f", peak memory {format_size(r.peak_memory_bytes)}" if r.peak_memory_bytes else "")
    if case.stem == "infinite_loop":
        last = out.strip().splitlines()[-1] if out.strip() else "nothing"
        return (f"the timeout holds {_under(case)}: the loop was killed after {r.duration_s:.2f} s against a "
                f"{limits.timeout:g} s limit; the last it printed was {quote(last)}")
    if case.stem == "memory_bomb":
        holding = re.findall(r"holding \d+ MiB", out)
        return (f"the memory limit holds {_under(case)}: " + (f"after {quote(holding[-1])}, " if holding else "")
                + f"the run ended {headline(r)} ({r.kill_reason})"
                + (f", peak {format_size(r.peak_memory_bytes)}" if r.peak_memory_bytes else ""))
    if case.stem == "network":
        interesting = [line for line in out.splitlines() if line.startswith(("interfaces:", "default route:"))
                       or "answered" in line]
        return (f"with the network {'on' if limits.network else 'off'} {_under(case)} the program saw "
                + _join([quote(line) for line in interesting]))
    if case.stem == "fork_bomb":
        found = re.search(r"(?:fork|spawn) refused after (\d+) children: (.+)", out)
        if found:
            return (f"the PIDs limit ({limits.pids}) holds {_under(case)}: a new process was refused after "
                    f"{found.group(1)} children ({found.group(2).strip()}), and the parent lived on to say so")
    if case.stem == "read_passwd":
        body = out.split("--- /etc/passwd ---", 1)[-1].split("--- hostname:", 1)[0]
        accounts = [line for line in body.splitlines() if line.count(":") >= 6]
        who = next((line for line in out.splitlines() if line.startswith("I am uid")), "")
        host = re.search(r"--- hostname: (.+)", out)
        return (f"reading /etc/passwd works {_under(case)}, but it is the container's own file: "
                f"{len(accounts)} accounts" + (f"; the program says {quote(who)}" if who else "")
                + (f"; the host name is {quote(host.group(1))}" if host else ""))
    if case.stem == "overwrite_self":
        marker = case.expected_shows[0] if case.expected_shows else ""
        line = next((line.strip() for line in r.error.splitlines() if marker and marker in line), None)
        return f"the program cannot rewrite its own source {_under(case)}: {quote(line or last_error_line(r) or '')}"
    if case.stem == "write_files":
        wrote = re.findall(r"^wrote\s+(\S+)", out, re.M)
        refused = re.findall(r"^refused\s+(\S+): (.+)$", out, re.M)
        why = sorted({reason.strip() for _, reason in refused})
        text = (f"with a {'read-only' if limits.read_only else 'writable'} root {_under(case)}, "
                f"{_join(wrote) or 'nothing'} could be written")
        if refused:
            text += (f"; {_join([path for path, _ in refused])} {'was' if len(refused) == 1 else 'were'} "
                     f"refused ({', '.join(why)})")
        return text
    return f"{case.experiment.title} {_under(case)} ended {how_it_ended(r)}"


def learned(cases: list[Case]) -> list[str]:
    """The lessons, each from the runs themselves: what did not go as expected first, then
    each experiment's, then what the toggles and the runtimes changed."""
    lines = []
    for case in cases:
        if case.result is not None and not case.as_expected:
            missing = ", ".join(f"“{line}”" for line in case.missing)
            lines.append(f"**Not as expected**: {case.title} ended {how_it_ended(case.result)}, where "
                         f"index.toml expects {case.expectation()}"
                         + (f" (it did not show {missing})" if missing else "") + ".")
    for case in cases:
        if case.result is None:
            lines.append(f"**Not run**: {case.title}: {case.refused.message if case.refused else 'no result'}.")
    several = len({c.experiment.language for c in cases}) > 1
    for case in cases:
        if case.as_expected:
            lesson = _lesson(case)
            if lesson and several:
                lesson = f"in {case.language_title}, {lesson}"
            if lesson:
                lines.append(f"{lesson[0].upper()}{lesson[1:]}.")
    # A toggle flipped: the difference it made, said as F6 says it.
    for case in cases:
        if not case.toggled:
            continue
        base = next((c for c in cases if c.experiment is case.experiment and not c.toggled
                     and c.limits.runtime == case.limits.runtime), None)
        if base is None:
            continue
        sides = [Side(_phrase(c.variant), c.result, c.refused.message if c.refused else None) for c in (base, case)]
        lines.append(f"{case.experiment.title} ({case.experiment.language}) {_under(case)}, {base.variant} "
                     f"against {case.variant}: {difference(*sides)}.")
    # The same runs under each other runtime against the baseline: where they differ.
    names = {c.limits.runtime for c in cases}
    compared_to = baseline(names)
    for name in ordered(names - {compared_to}):
        lines += _against(cases, compared_to, name, several)
    return lines


def _against(cases: list[Case], base: str, name: str, several: bool) -> list[str]:
    """Whether the runs under runtime `name` gave the verdicts they gave under `base`."""
    agree, differ, labels = 0, [], (runtime(base).label, runtime(name).label)
    for case in cases:
        if case.limits.runtime != base or case.result is None:
            continue
        other = next((c for c in cases if c.experiment is case.experiment and c.toggled == case.toggled
                      and c.limits.runtime == name and c.result is not None), None)
        if other is None:
            continue
        if headline(case.result) == headline(other.result):
            agree += 1
        else:
            title = (case.experiment.title + (f" ({case.experiment.language})" if several else "")
                     + (f", {case.variant}" if case.variant else ""))
            differ.append(f"{title}: " + difference(Side(f"under {labels[0]}", case.result),
                                                    Side(f"under {labels[1]}", other.result)))
    if not agree and not differ:
        return []
    if differ:
        return [f"{labels[0]} and {labels[1]} gave the same verdict in {agree} of {agree + len(differ)} experiments "
                "that ran under both; where they differ: " + "; ".join(differ) + "."]
    return [f"{labels[0]} and {labels[1]} gave the same verdict in all {agree} experiments that ran under both."]
