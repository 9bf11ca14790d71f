"""One way to turn a result into data: RunResult.to_dict / from_dict, and every place
built from it keeps every field. The sample result sets each field to a value unlike its
default, and is made from the dataclass's own field list, so a field added to RunResult
is walked here without a change to this file."""

from __future__ import annotations

import dataclasses
import json

import pytest

from runner import Blocked, Limits, RunResult, Verdict
from tui_sandbox.history.store import History, RunRecord

LIMITS = Limits(memory=64 << 20, cpus=1.5, pids=32, timeout=3.5, network=True, read_only=False,
                tmp_size=8 << 20, output=2 << 20, file_size=4 << 20, open_files=64, runtime="runsc")
# A value for each field, none of them a default: a dropped field cannot pass unseen.
VALUES = {"verdict": Verdict.ERROR, "exit_code": 1, "signal": "SIGSEGV", "kill_reason": "Compilation failed",
          "output": "out\n", "error": "main.c:1: error\n", "duration_s": 0.25, "peak_memory_bytes": 9 << 20,
          "truncated": True, "language": "c", "runtime": "runsc", "limits": LIMITS, "compile_failed": True,
          "cpu_seconds": 0.125, "passed": False, "first_difference": "line 2: expected '6', got '5'", "worker": "w1",
          "cpu_throttled_s": 0.375,
          "blocked": (Blocked(wall="process", call="fork", target="", errno="EAGAIN", exact=True, at_s=0.25,
                              count=51),),
          "walls_watched": ("process",)}


def sample() -> RunResult:
    names = [f.name for f in dataclasses.fields(RunResult)]
    missing = set(names) - set(VALUES)
    assert not missing, f"give the new RunResult fields a sample value here: {missing}"
    return RunResult(**{name: VALUES[name] for name in names})


def test_limits_survive_their_round_trip_and_keep_defaults_for_what_is_missing():
    assert Limits.from_dict(LIMITS.to_dict()) == LIMITS
    assert Limits.from_dict({"memory_bytes": 1 << 20, "unknown": 1}) == Limits(memory=1 << 20)


def test_a_result_survives_its_round_trip_through_json():
    result = sample()
    data = json.loads(json.dumps(result.to_dict()))
    assert data["verdict"] == "error" and data["limits"]["runtime"] == "runsc" and data["compile_failed"] is True
    assert RunResult.from_dict(data) == result


def test_from_dict_ignores_extra_keys_and_refuses_what_is_not_a_verdict():
    data = {**sample().to_dict(), "id": "r1", "event": "finished"}
    assert RunResult.from_dict(data) == sample()
    with pytest.raises(ValueError):
        RunResult.from_dict({**data, "verdict": "engine_error"})


def test_a_result_survives_the_history(tmp_path):
    store = History(tmp_path / "history.sqlite3")
    result = sample()
    store.add(RunRecord.of_result(id="r1", user="ada", origin="app", source="int main(", result=result,
                                  queued_at=1.0, started_at=2.0, stdin="in\n"))
    kept = store.get("r1")
    assert kept.compile_failed is True and kept.stdin == "in\n"
    assert kept.result() == result
    store.close()


def test_a_run_the_engine_never_made_has_no_result(tmp_path):
    record = RunRecord.of_failure(id="r2", user="ada", origin="app", source="", language="python",
                                  limits=LIMITS, message="no engine", queued_at=1.0)
    assert record.result() is None and Limits.from_dict(record.limits) == LIMITS


def test_the_history_keeps_output_capped_and_says_so():
    long = dataclasses.replace(sample(), output="x" * 70_000, truncated=False)
    record = RunRecord.of_result(id="r3", user="u", origin="cli", source="", result=long, queued_at=0.0,
                                 started_at=None)
    assert len(record.output) == 64 * 1024 and record.truncated is True


def test_the_apis_limits_model_names_every_limit():
    from tui_sandbox.service.models import LimitsOut

    assert set(LimitsOut.model_fields) == set(LIMITS.to_dict())
    assert LimitsOut(**LIMITS.to_dict()).model_dump() == LIMITS.to_dict()
