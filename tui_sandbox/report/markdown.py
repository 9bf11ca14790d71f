"""The experiment report in Markdown: a header of what ran where, the summary table,
what worked, what failed or was prevented, each run in full, and what I learned
(lessons.py). The small writers here serve the history's report too (my_runs.py)."""

from __future__ import annotations

import re
import time

from runner import Limits, RunResult, SandboxError, describe, format_size, not_watched
from runner.runtimes import ordered, runtime
from runner.verdicts import figures, headline

from ..compare import first_lines
from .lessons import learned
from .runs import ERROR_LINES, OUTPUT_LINES, Case, Report, baseline


def date(unix_time: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(unix_time))


def limits_line(limits: Limits) -> str:
    return (f"{format_size(limits.memory)} memory (no swap), {limits.cpus:g} CPU, {limits.pids} PIDs, "
            f"{limits.timeout:g} s, network {'on' if limits.network else 'off'}, "
            f"{'read-only root' if limits.read_only else 'writable root'}, "
            f"{format_size(limits.output)} output, {runtime(limits.runtime).label}")


def fence(text: str, language: str = "text") -> str:
    """A code block that no backticks in the text can end early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def verdict_line(result: RunResult) -> str:
    return f"**{headline(result)}** · {figures(result)}"


def walls_line(result: RunResult) -> str:
    """The walls a run hit, each with its count: what the sandbox really stopped."""
    if result.blocked is None:
        return not_watched(result.runtime)
    if not result.blocked:
        return f"none (watched: {', '.join(result.walls_watched) or 'nothing'})"
    return "; ".join(f"`{describe(wall, result.limits)}`" for wall in result.blocked)


def _entry(case: Case) -> list[str]:
    """One run, in full: what was expected, the verdict, the limits, the code, the output."""
    lines = [f"### {case.title}", ""]
    if case.toggled:
        lines.append(f"> {case.experiment.toggle}")
    else:
        lines.append(f"> Expected: {case.experiment.expect}")
    lines.append("")
    result = case.result
    if result is None:
        error = case.refused or SandboxError("no result")
        lines += [f"- **Not run**: the engine refused it: {error.message}"
                  + (f" (fix: {error.fix})" if error.fix else ""),
                  f"- **Limits**: {limits_line(case.limits)}", ""]
    else:
        lines += [f"- **Verdict**: {verdict_line(result)}", f"- **Kill reason**: {result.kill_reason}",
                  f"- **Walls hit**: {walls_line(result)}", f"- **Limits**: {limits_line(case.limits)}"]
        if case.as_expected:
            lines.append(f"- **As expected**: {case.expectation()}")
        else:
            missing = ", ".join(f"“{line}”" for line in case.missing)
            missed = ", ".join(f"the {wall} wall" for wall in case.missed_walls)
            lines.append(f"- **Unexpected**: index.toml expects {case.expectation()}; the run ended "
                         f"{headline(result)}" + (f" and did not show {missing}" if missing else "")
                         + (f" and did not hit {missed}" if missed else ""))
        lines.append("")
    name = {"python": "main.py", "javascript": "main.js"}.get(case.experiment.language, case.experiment.file)
    lines += ["<details><summary>The code (" + name + ")</summary>", "",
              fence(case.source, case.experiment.language), "", "</details>", ""]
    if result is not None:
        shown = first_lines(result.output, OUTPUT_LINES)
        lines += ["Output" + (" (the first lines)" if len(result.output.splitlines()) > OUTPUT_LINES else "") + ":",
                  "", fence("\n".join(shown) if shown else "(nothing)"), ""]
        if result.error.strip():
            lines += ["Errors:", "", fence("\n".join(first_lines(result.error, ERROR_LINES))), ""]
        if result.truncated:
            lines += ["*The output was cut at its cap.*", ""]
    return lines


def experiments_markdown(report: Report) -> str:
    cases, info = report.cases, report.info
    ran = [c for c in cases if c.result is not None]
    unexpected = [c for c in ran if not c.as_expected]
    refused = [c for c in cases if c.result is None]
    # The baseline first: the others are compared against it (lessons.py).
    base = baseline(c.limits.runtime for c in cases) if cases else ""
    runtimes = sorted(ordered({c.limits.runtime for c in cases}), key=lambda name: name != base)
    shown = ", ".join(runtime(r).label + (" (a run's default here: the others are compared with it)"
                                          if r == base and len(runtimes) > 1 else "") for r in runtimes)
    lines = [
        "# What the sandbox did: an experiment report", "",
        f"Written by `tui-sandbox report` on {date(report.written_at)}, from {len(ran)} real runs, each in a "
        "fresh container that was removed afterwards. Everything below is what those runs did.", "",
        "| | |", "| --- | --- |",
        f"| Engine | {cell(info.name)}, {info.cpus} CPUs, cgroup v{info.cgroup_version} |",
        f"| Runtimes | {shown} |",
    ]
    if report.seccomp:
        loaded = [runtime(r).label for r in runtimes if runtime(r).seccomp_loaded]
        own = [runtime(r).label for r in runtimes if not runtime(r).seccomp_loaded]
        lines.append(f"| System calls | {cell(report.seccomp)} (under {', '.join(loaded) or 'none of these'}"
                     + (f"; not under {', '.join(own)}: a kernel of its own answers the calls" if own else "")
                     + ") |")
    lines += [f"| Default limits | {cell(limits_line(Limits()).rsplit(', ', 1)[0])} |", ""]
    tally = f"**{len(ran) - len(unexpected)} of {len(cases)} runs behaved as expected.**"
    if unexpected:
        tally += (f" {len(unexpected)} did not: {'it is' if len(unexpected) == 1 else 'they are'} marked "
                  "**unexpected** below, with what was expected instead.")
    if refused:
        tally += f" {len(refused)} could not run: the engine refused {'it' if len(refused) == 1 else 'them'}."
    lines += [tally, "", "## Summary", "",
              "| Experiment | Runtime | Setting | Verdict | Kill reason | As expected? |",
              "| --- | --- | --- | --- | --- | --- |"]
    for case in cases:
        if case.result is None:
            verdict, reason, judged = "NOT RUN", (case.refused.message if case.refused else ""), "not run"
        else:
            verdict, reason = headline(case.result), case.result.kill_reason
            judged = "yes" if case.as_expected else "**unexpected**"
        lines.append(f"| {cell(case.experiment.title)} ({case.experiment.language}) | {case.runtime} | "
                     f"{case.variant or 'default'} | {verdict} | {cell(reason)} | {judged} |")
    lines += ["", "## What worked", "",
              "The program did what it tried, and the sandbox let it.", ""]
    worked = [c for c in cases if c.worked]
    for case in worked:
        lines += _entry(case)
    if not worked:
        lines += ["Nothing.", ""]
    lines += ["## What failed or was prevented", "",
              "The sandbox stopped the program, or the program failed, or the run could not start.", ""]
    for case in cases:
        if not case.worked:
            lines += _entry(case)
    lines += ["## What I learned", ""]
    lines += [f"- {line}" for line in learned(cases)]
    lines.append("")
    return "\n".join(lines)
