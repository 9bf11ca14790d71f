"""The API fuzzed from its own OpenAPI schema (schemathesis), against the real server:
valid and invalid requests alike never get a 5xx, and every answer is one the schema
documents, in the shape it documents. Bounded: a few examples an operation, and short
runs (the server's timeout ceiling is 3 s)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from .conftest import Server, assert_nothing_left

CONFIG = {
    # Examples and fuzzing; the coverage phase's boundary cases too (they find the 5xx).
    "phases": {"stateful": {"enabled": False}},
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


def test_the_schema_is_valid_openapi(fuzzed):
    """As client generators read it: every path parameter declared, every reference whole."""
    from openapi_spec_validator import validate

    document = fuzzed.client.get("/openapi.json").json()
    validate(document)
    undeclared = [f"{method.upper()} {path}" for path, operations in document["paths"].items()
                  for method, operation in operations.items()
                  if "{" in path and not any(p.get("in") == "path" for p in operation.get("parameters", []))]
    assert not undeclared, undeclared
