"""The report's runs: every seed experiment under every runtime the engine has (and again
with its toggle flipped), a few at a time, each in a fresh container, and what each
was expected to do (index.toml) beside what it did."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from runner import Engine, EngineInfo, Finished, Limits, RunResult, Sandbox, SandboxError, Verdict
from runner.errors import LanguageError
from runner.languages import load_languages, resolve
from runner.runtimes import AUTO, default_name, ordered, runtime

from ..experiments import Experiment, load_experiments

# The seeds' experiments, in the seeds' order (file names without their extension).
SEEDS = ("hello", "infinite_loop", "memory_bomb", "network", "read_passwd", "overwrite_self", "write_files",
         "fork_bomb")
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
    def language_title(self) -> str:
        """What the report calls its language: the language's own title (languages.toml's too)."""
        try:
            return resolve(self.experiment.language, load_languages()).display_name
        except LanguageError:
            return self.experiment.language

    @property
    def expected_verdict(self) -> str | None:
        return self.experiment.toggled_verdict if self.toggled else self.experiment.verdict

    @property
    def expected_shows(self) -> tuple[str, ...]:
        return self.experiment.toggled_shows if self.toggled else self.experiment.shows

    @property
    def expected_hits(self) -> tuple[str, ...]:
        return self.experiment.toggled_hits if self.toggled else self.experiment.hits

    @property
    def missed_walls(self) -> list[str]:
        """The walls it was expected to hit and did not, of the kinds this run could see
        (under gVisor, none can be: nothing is asked of it there)."""
        if self.result is None:
            return []
        hit = {f"{wall.wall} {wall.call}" for wall in self.result.blocked or ()}
        watched = set(self.result.walls_watched)
        return [wall for wall in self.expected_hits if wall.split()[0] in watched and wall not in hit]

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
        return runtime(self.limits.runtime).label

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
        return verdict_ok and not self.missing and not self.missed_walls

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

    @property
    def outcome(self) -> str:
        """The run's title and how it ended, in a line: what the report's progress says."""
        return f"{self.title}: " + (self.result.verdict.value.upper() if self.result else "NOT RUN")

    def expectation(self) -> str:
        shows = ", ".join(f"“{line.strip()}”" for line in self.expected_shows)
        verdict = (self.expected_verdict or "any verdict").upper().replace("_", " ")
        walls = ", ".join(f"the {wall} wall" for wall in self.expected_hits)
        return verdict + (f", showing {shows}" if shows else "") + (f", hitting {walls}" if walls else "")


def plan(experiments: Iterable[Experiment], runtimes: Iterable[str], base: Limits | None = None) -> list[Case]:
    """Every run the report makes: each experiment under each runtime, and again with its
    toggle flipped when it has one."""
    base = base or Limits()
    cases = []
    for experiment in experiments:
        for name in runtimes:
            limits = base.with_(runtime=name)
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


def run_cases(sandbox: Engine, cases: list[Case], jobs: int = DEFAULT_JOBS, progress: Progress | None = None,
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


def _run_one(sandbox: Engine, case: Case, stopper: Stopper) -> RunResult:
    run = sandbox.start(case.source, case.experiment.language, case.limits, stdin=b"")
    stopper.track(run)
    try:
        for event in run.events():
            if isinstance(event, Finished):
                return event.result
    finally:
        stopper.forget(run)
    raise SandboxError("the run ended without a result")


def baseline(names: Iterable[str]) -> str:
    """Of these runtimes, the one the others are compared against: the one a run that names
    none would get among them (crun, else runc: the host's kernel, as a learner's run gets
    it), or the first of them where none could be the default."""
    names = ordered(set(names))
    return default_name(names) or names[0]


def engine_runtimes(info: EngineInfo, wanted: Iterable[str] | None = None) -> list[str]:
    """What the report compares by default: the runtime a run that names none gets (crun
    or runc), and every registered runtime with a kernel of its own (gVisor; a VM-class
    runtime) — the host's kernel against a sandbox's. Or just those asked for ("all":
    every registered runtime; "auto": the default)."""
    if wanted is None:
        base = baseline(info.runtimes)
        return [name for name in ordered(info.runtimes) if name == base or runtime(name).own_kernel]
    if tuple(wanted) == ("all",):
        return ordered(info.runtimes)
    return [baseline(info.runtimes) if name == AUTO else name for name in wanted
            if name == AUTO or name in info.runtimes]


@dataclass
class Report:
    cases: list[Case]
    info: EngineInfo
    written_at: float = field(default_factory=time.time)
    seccomp: str = ""

    def markdown(self) -> str:
        from .markdown import experiments_markdown

        return experiments_markdown(self)


def experiment_report(sandbox: Engine | None = None, *, languages: Iterable[str] = ("python",),
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
        policy = _policy(sandbox)
    finally:
        if own:
            sandbox.close()
    return Report(cases, info, seccomp=policy)


def _policy(sandbox: Engine) -> str:
    """The system-call policy's line for the header, where the engine says (a local one)."""
    try:
        return sandbox.policy() if isinstance(sandbox, Sandbox) else ""
    except Exception:  # noqa: BLE001 - a line of the header, not worth failing for
        return ""
