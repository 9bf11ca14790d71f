"""One wire format for run events: every kind (taken from runner.events, so a new one is
walked here with no change to this file) goes through its data form, JSON, the API's
stream schema and the remote client, and comes back the same. A kind that some front
could not carry fails here, not silently in a user's run."""

from __future__ import annotations

import dataclasses
import json
import typing

import pytest
from pydantic import TypeAdapter

from runner import EVENT_KINDS, Failed, Finished, Limits, SandboxError, event_from_data
from runner.events import Event, EventData, WireEvent
from tui_sandbox.remote import event_of
from tui_sandbox.service.models import StreamEvent
from tui_sandbox.service.views import stream_event

from .test_result_data import LIMITS
from .test_result_data import sample as sample_result


def value_for(hint):
    """A value of this type unlike any default, so a dropped field cannot pass unseen."""
    args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    if typing.get_origin(hint) is typing.Literal:
        return args[-1]
    if args:                               # X | None
        return value_for(args[0])
    return {int: 7, float: 2.5, str: "text", bool: True, Limits: LIMITS}[hint]


def sample(kind: type[EventData]):
    if kind is Finished:
        return Finished(sample_result())
    hints = typing.get_type_hints(kind)
    return kind(**{item.name: value_for(hints[item.name]) for item in dataclasses.fields(kind)})


EVERY = [sample(kind) for kind in EVENT_KINDS.values()]


def test_every_event_class_has_a_kind_on_the_wire():
    declared = set(typing.get_args(Event)) | set(typing.get_args(WireEvent))
    assert declared == set(EVENT_KINDS.values())
    assert all(EVENT_KINDS[kind.kind] is kind for kind in declared)


@pytest.mark.parametrize("event", EVERY, ids=lambda event: event.kind)
def test_an_event_survives_json_and_the_stream_schema(event):
    data = json.loads(json.dumps(stream_event("r1", event)))
    assert list(data)[:2] == ["event", "id"] and data["event"] == event.kind
    assert event_from_data(data) == event
    line = TypeAdapter(StreamEvent).validate_python(data)
    assert line.model_dump(mode="json") == data, "the schema's model says other keys than the wire"


@pytest.mark.parametrize("event", EVERY, ids=lambda event: event.kind)
def test_the_remote_client_reads_every_kind(event):
    data = json.loads(json.dumps(stream_event("r1", event)))
    if isinstance(event, Failed):
        with pytest.raises(SandboxError) as failed:
            event_of(data)
        assert (failed.value.message, failed.value.fix) == (event.message, event.fix)
    else:
        assert event_of(data) == event


def test_an_unknown_kind_or_a_missing_field_is_refused_loudly(caplog):
    with pytest.raises(ValueError, match="no event kind 'walls'"):
        event_from_data({"event": "walls"})
    with pytest.raises(ValueError, match="without text"):
        event_from_data({"event": "output", "stream": "stdout"})
    assert event_of({"event": "from-a-newer-server"}) is None
    assert "cannot show" in caplog.text
