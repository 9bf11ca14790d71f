"""Every run's request and result, in one SQLite file shared by the app, the service and
`tui-sandbox history`. No Textual, no server: each of them reads and writes it alike."""

from .store import History, RunRecord, default_path

__all__ = ["History", "RunRecord", "default_path"]
