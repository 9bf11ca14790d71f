"""Runs kept in the history (store.py), back as the engine's own types: the
limits they ran under and their result, for the app to show again and the report to
describe. No Textual: the report imports this from the command line."""

from __future__ import annotations

import getpass
import os
import time

from runner import Verdict
from runner.verdicts import headline

from ..settings import environment
from .store import RunRecord

VERDICTS = [verdict.value for verdict in Verdict] + ["engine_error"]


def user_name() -> str:
    """Who runs the app, for the history (which is theirs alone): the student's name in a
    class (TUI_SANDBOX_USER), else the login."""
    if environment().user:
        return environment().user
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no name in the passwd file (a container): the uid
        return str(os.getuid())


def verdict_text(record: RunRecord) -> str:
    """'OK', 'ERROR (exit 1)', 'TIMEOUT', or 'NOT RUN' for an engine failure."""
    result = record.result()
    return headline(result) if result is not None else "NOT RUN"


def when(unix_time: float | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "-" if unix_time is None else time.strftime(fmt, time.localtime(unix_time))


def parse_filter(text: str) -> tuple[str | None, str | None]:
    """What the history's search box holds: a verdict's name ('oom', 'output limit',
    'timeout') filters by verdict; any other words search the source, output and reason."""
    words = text.strip()
    lowered = words.lower().replace(" ", "_")
    for verdict in VERDICTS:
        if lowered == verdict:
            return verdict, None
    first, _, rest = words.partition(" ")
    if first.lower() in VERDICTS:
        return first.lower(), rest.strip() or None
    return None, words or None
