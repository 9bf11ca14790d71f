"""The experiment report: the seeds' experiments run for real, and a Markdown report of
what happened, in three parts: what worked, what failed or was prevented, and what I
learned. Each experiment comes with its code, its limits, its verdict, its kill reason
and its real output; the report says only what the runs showed, and an experiment that
did not behave as index.toml expects is reported as unexpected, never hidden.

`tui-sandbox report [-o REPORT.md]` and the app's command both go through
`write_report` (flow.py). With --from-history it describes the learner's own runs
instead (my_runs.py). The runs are runs.py's; the Markdown, markdown.py's and
lessons.py's. No Textual here: the command line must not pay for it.
"""

from .flow import NotWritten, write_report
from .lessons import learned
from .markdown import experiments_markdown
from .my_runs import history_markdown, history_report
from .runs import (
    DEFAULT_JOBS,
    SEEDS,
    Case,
    Report,
    Stopper,
    engine_runtimes,
    experiment_report,
    plan,
    run_cases,
    seed_experiments,
)

__all__ = [
    "DEFAULT_JOBS", "SEEDS", "Case", "NotWritten", "Report", "Stopper", "engine_runtimes",
    "experiment_report", "experiments_markdown", "history_markdown", "history_report", "learned", "plan",
    "run_cases", "seed_experiments", "write_report",
]
