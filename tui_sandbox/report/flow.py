"""The report's one flow, for the command line (`tui-sandbox report`) and the app's
command alike: make it (the experiments run for real, or the history read), then write
it where asked. Each front only says how it shows progress and failure."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from runner import Engine

from .my_runs import history_report
from .runs import DEFAULT_JOBS, Case, Stopper, experiment_report


class NotWritten(Exception):
    """The report was made but could not be written (its message says where and why)."""


def write_report(engine: Engine | None, path: Path | None, *, from_history: bool = False,
                 progress: Callable[[int, int, str], None] | None = None, stopper: Stopper | None = None,
                 languages: Iterable[str] = ("python",), runtimes: Iterable[str] | None = None,
                 jobs: int = DEFAULT_JOBS, limit: int = 20, history_path: Path | None = None) -> str:
    """The report's Markdown, written to path (None: only returned). engine None: one of
    its own, closed after. progress(done, total, line) after each experiment's run; with
    from_history, the learner's last `limit` runs instead. Raises SandboxError (no
    engine, or stopped before its runs ended: nothing is written) or NotWritten."""
    if from_history:
        text = history_report(limit=limit, history_path=history_path, sandbox=engine)
    else:
        def each(done: int, total: int, case: Case) -> None:
            progress(done, total, case.outcome)

        text = experiment_report(engine, languages=languages, runtimes=runtimes, jobs=jobs,
                                 progress=each if progress is not None else None, stopper=stopper).markdown()
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise NotWritten(f"cannot write {path}: {exc.strerror}") from exc
    return text
