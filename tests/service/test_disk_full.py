"""The history's disk full, on a real tmpfs of 1 MiB filled to its last byte under a
running `tui-sandbox serve`: runs still answer with their results, the rows that cannot
be written are held (and read back) and said once in the log, not with a traceback, and
they are all written once there is room; `tui-sandbox history` on a full disk says so in
a line."""

from __future__ import annotations

import subprocess
import sys
import time

from runner import Limits
from tui_sandbox.history.store import History, RunRecord

from .conftest import ROOT


def history_cli(path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui_sandbox", "history", "--history", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def listed(server) -> set[str]:
    answer = server.client.get("/runs", params={"limit": 100})
    assert answer.status_code == 200, answer.text
    return {row["id"] for row in answer.json()["runs"]}


def test_a_full_disk_holds_the_rows_back_and_the_runs_go_on(tiny_disk, serve):
    path = tiny_disk.path / "history.sqlite3"
    server = serve(history=path)
    before = server.run({"code": "print('before')"})
    tiny_disk.fill()
    during = [server.run({"code": f"print({i})"}) for i in range(3)]
    assert [run["output"] for run in during] == ["0\n", "1\n", "2\n"]
    # The history is read meanwhile: what it has, and each held run by its id.
    assert before["id"] in listed(server)
    for run in during:
        again = server.client.get(f"/runs/{run['id']}")
        assert again.status_code == 200 and again.json()["output"] == run["output"], again.text
    cli = history_cli(path)
    assert cli.returncode == 0 and before["id"] in cli.stdout and "Traceback" not in cli.stderr, cli
    log = server.stderr()
    assert log.count("cannot be written") == 1 and "disk is full" in log, log
    assert "Traceback" not in log, log

    tiny_disk.free()
    after = server.run({"code": "print('after')"})
    assert {before["id"], after["id"], *(run["id"] for run in during)} <= listed(server)
    assert "can be written again" in server.stderr() and "Traceback" not in server.stderr(), server.stderr()


def test_history_on_a_full_disk_is_one_line(tiny_disk):
    path = tiny_disk.path / "history.sqlite3"
    store = History(path)
    store.add(RunRecord.of_failure(id="kept", user="ada", origin="cli", source="print(1)", language="python",
                                   limits=Limits(), message="no engine", queued_at=time.time()))
    store.close()
    tiny_disk.fill()
    shown = history_cli(path)
    # SQLite cannot make the file it shares between readers (-shm): no reading, but the reason.
    assert shown.returncode == 1 and "Traceback" not in shown.stderr, shown.stderr
    assert len(shown.stderr.strip().splitlines()) == 1, shown.stderr
    assert str(path) in shown.stderr and "disk is full" in shown.stderr, shown.stderr
