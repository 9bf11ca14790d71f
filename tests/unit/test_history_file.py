"""The history file across versions: a file written before a column existed opens, keeps
every row, and takes the new column. SQLite only, no engine."""

import sqlite3

from runner import Limits
from tui_sandbox.history.store import ADDED_COLUMNS, COLUMNS, History, RunRecord

# The runs table as the first release made it: no stdin or compile_failed column.
FIRST_SCHEMA = """
CREATE TABLE runs (
    id TEXT PRIMARY KEY, user TEXT NOT NULL, origin TEXT NOT NULL, language TEXT NOT NULL,
    source TEXT NOT NULL, limits TEXT NOT NULL, verdict TEXT NOT NULL, kill_reason TEXT NOT NULL,
    exit_code INTEGER, signal TEXT, output TEXT NOT NULL, error TEXT NOT NULL,
    truncated INTEGER NOT NULL, duration_s REAL, peak_memory_bytes INTEGER, cpu_seconds REAL,
    runtime TEXT NOT NULL, queued_at REAL NOT NULL, started_at REAL, finished_at REAL NOT NULL
);
"""


def test_an_older_history_file_keeps_its_rows_and_gains_the_new_columns(tmp_path):
    path = tmp_path / "history.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(FIRST_SCHEMA)
    old = [c for c in COLUMNS if c not in ADDED_COLUMNS]
    db.execute(f"INSERT INTO runs ({', '.join(old)}) VALUES ({', '.join('?' * len(old))})",
               ("r1", "ada", "app", "python", "print(1)", '{"memory_bytes": 1}', "ok", "Finished normally",
                0, None, "1\n", "", 0, 0.1, None, None, "runc", 1.0, 1.0, 2.0))
    db.commit()
    db.close()

    store, second = History(path), History(path)     # the second finds the column there
    kept = store.get("r1")
    assert kept.output == "1\n" and kept.stdin == "" and kept.compile_failed is False
    store.add(RunRecord.of_failure(id="r2", user="ada", origin="app", source="input()", language="python",
                                   limits=Limits(), message="no engine", queued_at=3.0, stdin="Ada\n"))
    assert second.get("r2").stdin == "Ada\n"
    store.close()
    second.close()


def test_the_input_kept_is_text_and_capped_like_the_output(tmp_path):
    store = History(tmp_path / "history.sqlite3")
    given = RunRecord.of_failure(id="r", user="u", origin="app", source="", language="c", limits=Limits(),
                                 message="m", queued_at=0.0, stdin=b"caf\xc3\xa9 \xff" + b"x" * 100_000)
    store.add(given)
    kept = store.get("r").stdin
    assert kept.startswith("café \ufffd") and len(kept) == 64 * 1024
    store.close()
