"""The experiment report: the seeds' experiments run for real, and a Markdown report of
what happened, in three parts: what worked, what failed or was prevented, and what I
learned. Each experiment comes with its code, its limits, its verdict, its kill reason
and its real output; the report says only what the runs showed, and an experiment that
did not behave as index.toml expects is reported as unexpected, never hidden.

`tui-sandbox report [-o REPORT.md]` runs it from the command line; the app's command
calls the same functions in a worker. With --from-history it describes the learner's
own runs instead. No Textual here: the command line must not pay for it.
"""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from runner import EngineInfo, Finished, Limits, RunResult, Sandbox, SandboxError, Verdict, format_size
from runner.verdicts import figures, headline

from .compare import Side, difference, first_lines, how_it_ended, last_error_line
from .experiments import Experiment, load_experiments

# The seeds' experiments, in the seeds' order (file names without their extension).
SEEDS = ("hello", "infinite_loop", "memory_bomb", "network", "read_passwd", "overwrite_self", "write_files",
         "fork_bomb")
RUNTIME_NAMES = {"runc": "runc", "runsc": "gVisor (runsc)"}
LANGUAGE_NAMES = {"python": "Python", "javascript": "JavaScript", "bash": "Bash", "c": "C"}
OUTPUT_LINES = 15
ERROR_LINES = 10
DEFAULT_JOBS = 4

Progress = Callable[[int, int, "Case"], None]


class Stopper:
    """Stops a report part-way (the app quitting): runs going now are cancelled (their
    containers killed), runs not yet begun are not begun."""

    def __init__(self) -> None:
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._runs: set = set()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def stop(self) -> None:
        with self._lock:
            self._stopped.set()
            runs = list(self._runs)
        for run in runs:
            run.cancel()

    def track(self, run) -> bool:
        """Follow a run; False (and it is cancelled) if the report was stopped already."""
        with self._lock:
            if not self._stopped.is_set():
                self._runs.add(run)
                return True
        run.cancel()
        return False

    def forget(self, run) -> None:
        with self._lock:
            self._runs.discard(run)


# --- the runs ------------------------------------------------------------------------------


@dataclass
class Case:
    """One run of one experiment: under which limits, what was expected, what happened."""
    experiment: Experiment
    limits: Limits
    toggled: bool = False               # the experiment's toggle_limit flipped from its default
    result: RunResult | None = None
    refused: SandboxError | None = None  # the engine would not run it
    source: str = ""

    @property
    def stem(self) -> str:
        return Path(self.experiment.file).stem

    @property
    def expected_verdict(self) -> str | None:
        return self.experiment.toggled_verdict if self.toggled else self.experiment.verdict

    @property
    def expected_shows(self) -> tuple[str, ...]:
        return self.experiment.toggled_shows if self.toggled else self.experiment.shows

    @property
    def expected_outcome(self) -> str:
        return self.experiment.toggled_outcome if self.toggled else self.experiment.outcome

    @property
    def variant(self) -> str:
        """'network on', 'writable root', or for the untoggled run of a toggled experiment
        'network off', 'read-only root'; '' when there is nothing to tell apart."""
        field_name = self.experiment.toggle_limit
        if not field_name:
            return ""
        value = getattr(self.limits, field_name)
        if field_name == "network":
            return "network on" if value else "network off"
        if field_name == "read_only":
            return "read-only root" if value else "writable root"
        return f"{field_name} {'on' if value else 'off'}"

    @property
    def runtime(self) -> str:
        return RUNTIME_NAMES.get(self.limits.runtime, self.limits.runtime)

    @property
    def title(self) -> str:
        parts = [f"{self.experiment.title} ({self.experiment.language})", self.runtime]
        if self.variant:
            parts.append(self.variant)
        return " · ".join(parts)

    @property
    def missing(self) -> list[str]:
        """What the run was expected to show and did not."""
        if self.result is None:
            return []
        seen = self.result.output + self.result.error
        return [line for line in self.expected_shows if line not in seen]

    @property
    def as_expected(self) -> bool | None:
        """True or False once it ran; None when the engine refused to run it."""
        if self.result is None:
            return None
        verdict_ok = self.expected_verdict is None or self.result.verdict.value == self.expected_verdict
        return verdict_ok and not self.missing

    @property
    def worked(self) -> bool:
        """The section it belongs in: the program did what it tried (True), or the sandbox
        (or its own failure) stopped it. As expected, index.toml says which; otherwise the
        verdict does, and the entry says it was unexpected."""
        if self.result is None:
            return False
        if self.as_expected:
            return self.expected_outcome == "works"
        return self.result.verdict is Verdict.OK

    def expectation(self) -> str:
        shows = ", ".join(f"“{line.strip()}”" for line in self.expected_shows)
        verdict = (self.expected_verdict or "any verdict").upper().replace("_", " ")
        return verdict + (f", showing {shows}" if shows else "")


def plan(experiments: Iterable[Experiment], runtimes: Iterable[str], base: Limits | None = None) -> list[Case]:
    """Every run the report makes: each experiment under each runtime, and again with its
    toggle flipped when it has one."""
    base = base or Limits()
    cases = []
    for experiment in experiments:
        for runtime in runtimes:
            limits = base.with_(runtime=runtime)
            cases.append(Case(experiment, limits, source=experiment.source()))
            if experiment.toggle_limit:
                flipped = limits.with_(**{experiment.toggle_limit: not getattr(limits, experiment.toggle_limit)})
                cases.append(Case(experiment, flipped, toggled=True, source=experiment.source()))
    return cases


def seed_experiments(languages: Iterable[str] = ("python",)) -> list[Experiment]:
    """The seeds' experiments in these languages, in the seeds' order."""
    wanted = set(languages)
    chosen = [e for e in load_experiments() if e.language in wanted and Path(e.file).stem in SEEDS]
    return sorted(chosen, key=lambda e: (SEEDS.index(Path(e.file).stem), e.language))


def run_cases(sandbox: Sandbox, cases: list[Case], jobs: int = DEFAULT_JOBS, progress: Progress | None = None,
              stopper: Stopper | None = None) -> list[Case]:
    """Run them for real, a few at a time, each in a fresh container. The program's input
    is empty (end of file at once)."""
    done = 0
    lock = threading.Lock()
    stopper = stopper or Stopper()

    def one(case: Case) -> Case:
        nonlocal done
        if stopper.stopped:
            case.refused = SandboxError("not run: the report was stopped")
        else:
            try:
                case.result = _run_one(sandbox, case, stopper)
            except SandboxError as exc:
                case.refused = exc
            except Exception as exc:  # noqa: BLE001 - reported, never a crash
                case.refused = SandboxError(f"the run failed: {exc!r}")
        with lock:
            done += 1
            if progress is not None:
                progress(done, len(cases), case)
        return case

    with ThreadPoolExecutor(max(1, jobs), thread_name_prefix="tui-sandbox-report") as pool:
        try:
            return list(pool.map(one, cases))
        except BaseException:        # ctrl+c: the runs going now are killed, not waited for
            stopper.stop()
            raise


def _run_one(sandbox: Sandbox, case: Case, stopper: Stopper) -> RunResult:
    run = sandbox.start(case.source, case.experiment.language, case.limits, stdin=b"")
    stopper.track(run)
    try:
        for event in run.events():
            if isinstance(event, Finished):
                return event.result
    finally:
        stopper.forget(run)
    raise SandboxError("the run ended without a result")


def engine_runtimes(info: EngineInfo, wanted: Iterable[str] | None = None) -> list[str]:
    """runc, and gVisor when the engine has it (or just those asked for)."""
    have = [name for name in RUNTIME_NAMES if name in info.runtimes]
    if wanted is None:
        return have
    return [name for name in wanted if name in info.runtimes]


@dataclass
class Report:
    cases: list[Case]
    info: EngineInfo
    written_at: float = field(default_factory=time.time)
    seccomp: str = ""

    def markdown(self) -> str:
        return experiments_markdown(self)


def experiment_report(sandbox: Sandbox | None = None, *, languages: Iterable[str] = ("python",),
                      runtimes: Iterable[str] | None = None, jobs: int = DEFAULT_JOBS,
                      progress: Progress | None = None, stopper: Stopper | None = None) -> Report:
    """Run the seeds' experiments and return the report. SandboxError if there is no engine."""
    own = sandbox is None
    sandbox = sandbox or Sandbox()
    try:
        info = sandbox.info
        chosen = engine_runtimes(info, runtimes)
        if not chosen:
            raise SandboxError(f"none of the runtimes asked for is registered: the engine has "
                               f"{', '.join(sorted(info.runtimes))}")
        cases = run_cases(sandbox, plan(seed_experiments(languages), chosen), jobs, progress, stopper)
        if stopper is not None and stopper.stopped:
            raise SandboxError("the report was stopped before its runs ended: nothing was written")
    finally:
        if own:
            sandbox.close()
    return Report(cases, info, seccomp=_seccomp())


def _seccomp() -> str:
    try:
        from runner.docker import seccomp

        return seccomp.describe()
    except Exception:  # noqa: BLE001 - a line of the header, not worth failing for
        return ""


# --- writing it -----------------------------------------------------------------------------


def _date(unix_time: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(unix_time))


def _limits(limits: Limits) -> str:
    return (f"{format_size(limits.memory)} memory (no swap), {limits.cpus:g} CPU, {limits.pids} PIDs, "
            f"{limits.timeout:g} s, network {'on' if limits.network else 'off'}, "
            f"{'read-only root' if limits.read_only else 'writable root'}, "
            f"{format_size(limits.output)} output, {RUNTIME_NAMES.get(limits.runtime, limits.runtime)}")


def _fence(text: str, language: str = "text") -> str:
    """A code block that no backticks in the text can end early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _verdict(result: RunResult) -> str:
    return f"**{headline(result)}** · {figures(result)}"


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
                  f"- **Limits**: {_limits(case.limits)}", ""]
    else:
        lines += [f"- **Verdict**: {_verdict(result)}", f"- **Kill reason**: {result.kill_reason}",
                  f"- **Limits**: {_limits(case.limits)}"]
        if case.as_expected:
            lines.append(f"- **As expected**: {case.expectation()}")
        else:
            missing = ", ".join(f"“{line}”" for line in case.missing)
            lines.append(f"- **Unexpected**: index.toml expects {case.expectation()}; the run ended "
                         f"{headline(result)}" + (f" and did not show {missing}" if missing else ""))
        lines.append("")
    name = {"python": "main.py", "javascript": "main.js"}.get(case.experiment.language, case.experiment.file)
    lines += ["<details><summary>The code (" + name + ")</summary>", "",
              _fence(case.source, case.experiment.language), "", "</details>", ""]
    if result is not None:
        shown = first_lines(result.output, OUTPUT_LINES)
        lines += ["Output" + (" (the first lines)" if len(result.output.splitlines()) > OUTPUT_LINES else "") + ":",
                  "", _fence("\n".join(shown) if shown else "(nothing)"), ""]
        if result.error.strip():
            lines += ["Errors:", "", _fence("\n".join(first_lines(result.error, ERROR_LINES))), ""]
        if result.truncated:
            lines += ["*The output was cut at its cap.*", ""]
    return lines


def experiments_markdown(report: Report) -> str:
    cases, info = report.cases, report.info
    ran = [c for c in cases if c.result is not None]
    unexpected = [c for c in ran if not c.as_expected]
    refused = [c for c in cases if c.result is None]
    runtimes = sorted({c.limits.runtime for c in cases}, key=lambda r: list(RUNTIME_NAMES).index(r)
                      if r in RUNTIME_NAMES else 9)
    lines = [
        "# What the sandbox did: an experiment report", "",
        f"Written by `tui-sandbox report` on {_date(report.written_at)}, from {len(ran)} real runs, each in a "
        "fresh container that was removed afterwards. Everything below is what those runs did.", "",
        "| | |", "| --- | --- |",
        f"| Engine | {_cell(info.name)}, {info.cpus} CPUs, cgroup v{info.cgroup_version} |",
        f"| Runtimes | {', '.join(RUNTIME_NAMES.get(r, r) for r in runtimes)} |",
    ]
    if report.seccomp:
        lines.append(f"| System calls | {_cell(report.seccomp)} (under runc; gVisor has its own kernel) |")
    lines += [f"| Default limits | {_cell(_limits(Limits()).rsplit(', ', 1)[0])} |", ""]
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
        lines.append(f"| {_cell(case.experiment.title)} ({case.experiment.language}) | {case.runtime} | "
                     f"{case.variant or 'default'} | {verdict} | {_cell(reason)} | {judged} |")
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


# --- what the runs showed ------------------------------------------------------------------


def _quote(text: str) -> str:
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
                f"{limits.timeout:g} s limit; the last it printed was {_quote(last)}")
    if case.stem == "memory_bomb":
        holding = re.findall(r"holding \d+ MiB", out)
        return (f"the memory limit holds {_under(case)}: " + (f"after {_quote(holding[-1])}, " if holding else "")
                + f"the run ended {headline(r)} ({r.kill_reason})"
                + (f", peak {format_size(r.peak_memory_bytes)}" if r.peak_memory_bytes else ""))
    if case.stem == "network":
        interesting = [line for line in out.splitlines() if line.startswith(("interfaces:", "default route:"))
                       or "answered" in line]
        return (f"with the network {'on' if limits.network else 'off'} {_under(case)} the program saw "
                + _join([_quote(line) for line in interesting]))
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
                f"{len(accounts)} accounts" + (f"; the program says {_quote(who)}" if who else "")
                + (f"; the host name is {_quote(host.group(1))}" if host else ""))
    if case.stem == "overwrite_self":
        marker = case.expected_shows[0] if case.expected_shows else ""
        line = next((line.strip() for line in r.error.splitlines() if marker and marker in line), None)
        return f"the program cannot rewrite its own source {_under(case)}: {_quote(line or last_error_line(r) or '')}"
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
                lesson = f"in {LANGUAGE_NAMES.get(case.experiment.language, case.experiment.language)}, {lesson}"
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
    # The same run under both runtimes: where they differ.
    if len({c.limits.runtime for c in cases}) > 1:
        agree, differ = 0, []
        for case in cases:
            if case.limits.runtime != "runc" or case.result is None:
                continue
            other = next((c for c in cases if c.experiment is case.experiment and c.toggled == case.toggled
                          and c.limits.runtime != "runc" and c.result is not None), None)
            if other is None:
                continue
            if headline(case.result) == headline(other.result):
                agree += 1
            else:
                title = (case.experiment.title + (f" ({case.experiment.language})" if several else "")
                         + (f", {case.variant}" if case.variant else ""))
                differ.append(f"{title}: " + difference(Side("under runc", case.result),
                                                        Side(f"under {other.runtime}", other.result)))
        if differ:
            lines.append(f"runc and gVisor gave the same verdict in {agree} of {agree + len(differ)} experiments "
                         "that ran under both; where they differ: " + "; ".join(differ) + ".")
        else:
            lines.append(f"runc and gVisor gave the same verdict in all {agree} experiments that ran under both.")
    return lines


# --- the learner's own runs ---------------------------------------------------------------------


def history_markdown(records: list, *, user: str, history_path: Path, info: EngineInfo | None,
                     written_at: float | None = None) -> str:
    """The report of the learner's own runs (newest first, as the history gives them)."""
    from .history.records import limits_of, result_of, verdict_text, when

    written_at = written_at or time.time()
    used = ", ".join(sorted({RUNTIME_NAMES.get(r.runtime, r.runtime) for r in records})) or "-"
    lines = ["# What the sandbox did: my runs", "",
             f"Written by `tui-sandbox report --from-history` on {_date(written_at)}, from the last "
             f"{len(records)} runs of {user} kept in `{history_path}`. Everything below is what those runs did.", "",
             "| | |", "| --- | --- |",
             f"| Engine | {_cell(info.name) + f', cgroup v{info.cgroup_version}' if info else 'not reachable now'} |",
             f"| Runtimes used | {used} |",
             ""]
    if not records:
        return "\n".join(lines + ["There are no runs in the history yet.", ""])

    def entry(record) -> list[str]:
        result = result_of(record)
        first = next((line.strip() for line in record.source.splitlines() if line.strip()), "")
        out = [f"### {when(record.finished_at)} · {record.language} · {_cell(first[:60])}", ""]
        limits = limits_of(record.limits)
        if result is None:
            out += [f"- **Not run**: {record.kill_reason}", f"- **Limits**: {_limits(limits)}", ""]
        else:
            out += [f"- **Verdict**: {_verdict(result)}", f"- **Kill reason**: {result.kill_reason}",
                    f"- **Limits**: {_limits(limits)}", ""]
        out += ["<details><summary>The code</summary>", "", _fence(record.source, record.language), "",
                "</details>", ""]
        if result is not None:
            shown = first_lines(result.output, OUTPUT_LINES)
            out += ["Output:", "", _fence("\n".join(shown) if shown else "(nothing)"), ""]
            if result.error.strip():
                out += ["Errors:", "", _fence("\n".join(first_lines(result.error, ERROR_LINES))), ""]
        return out

    ok = [r for r in records if r.verdict == "ok"]
    lines += ["## What worked", ""]
    for record in ok:
        lines += entry(record)
    if not ok:
        lines += ["None of these runs ended OK.", ""]
    lines += ["## What failed or was prevented", ""]
    others = [r for r in records if r.verdict != "ok"]
    for record in others:
        lines += entry(record)
    if not others:
        lines += ["Nothing: every run ended OK.", ""]
    lines += ["## What I learned", ""]
    counts: dict[str, int] = {}
    for record in records:
        counts[verdict_text(record).split(" (")[0]] = counts.get(verdict_text(record).split(" (")[0], 0) + 1
    lines.append("- Of these " + str(len(records)) + " runs: "
                 + ", ".join(f"{n} ended {v}" for v, n in sorted(counts.items(), key=lambda kv: -kv[1])) + ".")
    for verdict, what in (("timeout", "hit the timeout"), ("oom", "ran out of memory"),
                          ("output_limit", "printed past the output cap"), ("signal", "got killed by a signal")):
        chosen = [r for r in records if r.verdict == verdict]
        if chosen:
            reasons = sorted({r.kill_reason for r in chosen})
            lines.append(f"- {len(chosen)} {'run' if len(chosen) == 1 else 'runs'} {what}: "
                         + "; ".join(reasons) + ".")
    # The same program under two settings (F6 makes such pairs): what the switch changed.
    seen = set()
    for i, a in enumerate(records):
        for b in records[i + 1:]:
            if a.source != b.source or a.language != b.language:
                continue
            changed = [k for k in a.limits if a.limits[k] != b.limits.get(k)]
            if len(changed) != 1 or changed[0] not in ("network", "read_only", "runtime"):
                continue
            key = (a.source, changed[0])
            if key in seen:
                continue
            seen.add(key)
            ra, rb = result_of(a), result_of(b)
            name = changed[0]

            def label(record, name=name) -> str:
                value = record.limits[name]
                if name == "network":
                    return f"with the network {'on' if value else 'off'}"
                if name == "read_only":
                    return "with a read-only root" if value else "with a writable root"
                return f"under {RUNTIME_NAMES.get(value, value)}"

            first = next((line.strip() for line in a.source.splitlines() if line.strip()), "")
            lines.append(f"- {_quote(first[:50])}: "
                         + difference(Side(label(b), rb, None if rb else b.kill_reason),
                                      Side(label(a), ra, None if ra else a.kill_reason)) + ".")
    peak = max((r for r in records if r.peak_memory_bytes), key=lambda r: r.peak_memory_bytes, default=None)
    if peak is not None:
        lines.append(f"- The most memory a run held: {format_size(peak.peak_memory_bytes)} "
                     f"(the run of {when(peak.finished_at)}, {verdict_text(peak)}).")
    lines.append("")
    return "\n".join(lines)


def history_report(*, user: str | None = None, limit: int = 20, history_path: Path | None = None,
                   sandbox: Sandbox | None = None) -> str:
    """The learner's own runs, from the history, as a report."""
    from .history.records import user_name
    from .history.store import History, default_path

    user = user or user_name()
    path = history_path or default_path()
    records = []
    if path.exists():
        store = History(path)
        try:
            records = store.list(user=user, limit=limit)
        finally:
            store.close()
    info = None
    own = sandbox is None
    sandbox = sandbox or Sandbox()
    try:
        info = sandbox.info
    except SandboxError:
        info = None
    finally:
        if own:
            sandbox.close()
    return history_markdown(records, user=user, history_path=path, info=info)
