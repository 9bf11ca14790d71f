"""What a server holds of its finished runs: their results, within a byte budget
(serve --finished-memory), said in GET /health; a run it no longer holds is read back
from the history, in the same shape, and one it never had is still a 404."""

from __future__ import annotations

from runner.units import KiB, MiB
from tui_sandbox.history.store import KEPT_OUTPUT_CHARS

from .conftest import events

FLOOD = "while True:\n    print('x' * 1000)\n"
BUDGET = 3 * MiB
FLOODS = 5


def test_finished_runs_are_held_within_their_byte_budget_and_read_back_from_the_history(serve):
    server = serve("--finished-memory", "3m")
    assert server.client.get("/health").json()["finished"] == {"runs": 0, "bytes": 0, "budget_bytes": BUDGET}
    floods = [server.run({"code": FLOOD}, headers={"X-Sandbox-User": "flooder"}) for _ in range(FLOODS)]
    assert all(run["verdict"] == "output_limit" and len(run["output"]) > 512 * KiB for run in floods)
    with server.stream({"code": "print('last')"}) as stream:
        last = events(stream.iter_lines())
    assert [event["event"] for event in last][-1] == "finished" and last[-1]["output"] == "last\n"

    finished = server.client.get("/health").json()["finished"]
    # Each flood's result holds its megabyte of output: two fit in the budget, the oldest went.
    assert finished["budget_bytes"] == BUDGET and 0 < finished["bytes"] <= BUDGET
    assert 1 <= finished["runs"] < FLOODS
    assert finished["bytes"] >= (finished["runs"] - 1) * 512 * KiB

    oldest = server.client.get(f"/runs/{floods[0]['id']}")
    assert oldest.status_code == 200, oldest.text
    row = oldest.json()
    assert row["state"] == "finished" and row["verdict"] == "output_limit" and row["truncated"]
    assert row["user"] == "flooder" and row["source"] == FLOOD and row["output"].startswith("x" * 1000 + "\n")
    assert row["kill_reason"] == floods[0]["kill_reason"] and row["output"] == floods[0]["output"][:KEPT_OUTPUT_CHARS]
    # An ended run cannot be cancelled, held or not; one never seen is not found.
    assert server.client.delete(f"/runs/{floods[0]['id']}").status_code == 409
    missing = server.client.get("/runs/0123456789abcdef")
    assert missing.status_code == 404 and missing.json()["error"] == "no run '0123456789abcdef'"
