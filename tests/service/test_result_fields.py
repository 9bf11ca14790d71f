"""Every field of a run's result reaches the API with its value: POST /run's answer, the
stream's finished event and GET /runs/{id} (read back from the history) each carry all
of RunResult, built from its one data form (RunResult.to_dict()), not from a list of
their own. A C compile failure, for a field (compile_failed) that is not its default."""

from __future__ import annotations

from dataclasses import fields

import pytest

from runner import RunResult
from tui_sandbox.service.models import FinishedEvent, RunInfo, RunResponse

from .conftest import events

FIELDS = [field.name for field in fields(RunResult)]
BROKEN_C = {"code": "int main(void) { return undeclared; }\n", "language": "c"}
ABSENT = object()


def result_part(answer: dict) -> dict:
    return {name: answer.get(name, ABSENT) for name in FIELDS}


@pytest.mark.parametrize("model", [RunResponse, FinishedEvent, RunInfo])
def test_every_answer_with_a_result_has_a_field_for_each_of_its_fields(model):
    assert set(FIELDS) <= set(model.model_fields)


def test_a_compile_failure_says_so_with_every_field_in_the_answer_and_read_back(server):
    answer = server.run(BROKEN_C)
    assert answer["compile_failed"] is True, answer
    assert "undeclared" in answer["error"], answer
    # Every field, each a value RunResult takes, as its data form gives it.
    assert result_part(answer) == RunResult.from_dict(answer).to_dict()

    read = server.client.get(f"/runs/{answer['id']}")
    assert read.status_code == 200, read.text
    back = read.json()
    assert back["state"] == "finished"
    assert result_part(back) == result_part(answer)


def test_the_streams_finished_event_has_every_field_as_read_back(server):
    with server.stream(BROKEN_C) as response:
        assert response.status_code == 200
        lines = events(response.iter_lines())
    finished = lines[-1]
    assert finished["event"] == "finished" and finished["compile_failed"] is True, lines
    assert result_part(finished) == RunResult.from_dict(finished).to_dict()

    back = server.client.get(f"/runs/{finished['id']}").json()
    assert result_part(back) == result_part(finished)
