"""What the history says when it cannot be used: at start (HistoryUnavailable, a line
with the fix), or now, while the server runs (HistoryDown: the HTTP front answers a read
with a 503 and the reason)."""

from __future__ import annotations


class HistoryUnavailable(Exception):
    """The history cannot be used as asked: what is wrong and the fix, in one line."""


class HistoryDown(HistoryUnavailable):
    """The history cannot be read now (its database stopped answering, its disk failed):
    runs go on, and their rows are kept until it can be written."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.fix = fix


def disk_hint(exc: BaseException) -> str:
    """SQLite's words for a full disk (or a failing one), with what to do."""
    text = str(exc)
    if "full" in text or "disk I/O" in text:
        return f"{text}: its disk is full, or failing; free some space there"
    return text
