"""The API fuzzed from its own OpenAPI schema (schemathesis), against the real server:
valid and invalid requests alike never get a 5xx, and every answer is one the schema
documents, in the shape it documents; then the stateful phase, sequences that follow the
document's links (a run made, then read, cancelled, typed into). Bounded: a few examples
an operation, a few short sequences, and short runs (the server's timeout ceiling is 3 s)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.config import SchemathesisConfig

from .conftest import Server, assert_nothing_left

CONFIG = {
    # Examples and fuzzing; the coverage phase's boundary cases too (they find the 5xx); and
    # sequences along the links the document declares (docs.LINKS), not ones guessed from names.
    # Sequences are of valid calls: an invalid one makes nothing to follow.
    "phases": {"stateful": {"generation": {"mode": "positive"}, "inference": {"algorithms": []}}},
    "generation": {"mode": "all", "max-examples": 8},
    "checks": {
        # Valid by the schema is not always acceptable: a limit over this server's ceiling,
        # an unknown language or a malformed size are 4xx by design.
        "positive_data_acceptance": {"enabled": False},
        # Invalid data is rejected as schemathesis expects by default, or, when it is also
        # over the server's body cap (a code field past its maxLength can be), with the
        # 413 every operation documents: which of the two comes first depends on the draw.
        "negative_data_rejection": {"expected-statuses": [400, 401, 403, 404, 405, 406, 409, 413, 415, 422,
                                                          428, 429, "5xx"]},
    },
    "request-timeout": 30,
}


@pytest.fixture(scope="module")
def fuzzed(sandbox, tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("fuzzed"), "--max-running", "4", "--per-user", "100",
                    "--max-waiting", "100", "--max-timeout", "3", "--max-memory", "256m")
    yield server
    server.stop()
    assert_nothing_left(sandbox, server)


@pytest.fixture(scope="module")
def api(fuzzed):
    return schemathesis.openapi.from_url(f"{fuzzed.url}/openapi.json",
                                         config=SchemathesisConfig.from_dict({**CONFIG, "base-url": fuzzed.url}))


schema = schemathesis.pytest.from_fixture("api")


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), max_examples=8)
def test_the_api_keeps_its_own_schema(case):
    case.call_and_validate()


# A sequence: a first call, then up to three along the links from its answer.
SEQUENCES = 40


def test_sequences_along_the_documents_links(api):
    steps: list[tuple[str, str | None, int]] = []     # (operation, the link followed, status)

    class Followed(api.as_state_machine()):
        def step(self, input):
            output = super().step(input)            # raises on a 5xx or an answer the schema does not say
            link = input.transition.id if input.transition is not None and input.is_applied else None
            steps.append((input.case.operation.label, link, output.response.status_code))
            return output

    Followed.run(settings=settings(max_examples=SEQUENCES, stateful_step_count=4, deadline=None,
                                   phases=[Phase.generate], suppress_health_check=list(HealthCheck)))
    followed = [(label, status) for label, link, status in steps if link is not None]
    assert followed, steps
    # The links lead somewhere real: a run made, then found by its id.
    assert ("GET /runs/{run_id}", 200) in followed, steps


def test_the_schema_is_valid_openapi(fuzzed):
    """As client generators read it: every path parameter declared, every reference whole."""
    from openapi_spec_validator import validate

    document = fuzzed.client.get("/openapi.json").json()
    validate(document)
    undeclared = [f"{method.upper()} {path}" for path, operations in document["paths"].items()
                  for method, operation in operations.items()
                  if "{" in path and not any(p.get("in") == "path" for p in operation.get("parameters", []))]
    assert not undeclared, undeclared
