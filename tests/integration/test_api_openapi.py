"""/openapi.json documents every route, and schemathesis finds no 5xx nor schema violation."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis.generation import GenerationMode
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.overrides import Override
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.routing import Mount, Route

from tests.integration.api_demo import DEMO, MASTER
from tests.integration.trond_process import TrondProcess
from tron.api.app import create_app
from tron.api.openapi import spec

pytestmark = pytest.mark.slow

# Streams never end and `/` leaves the API: they are documented but not fuzzed.
NOT_FUZZED = ("/api/stream", "/")
EXAMPLES_PER_OPERATION = 30
TRON_501_TEXTS = ("Unknown command", "is not supported by this trond")


def app_routes() -> set[tuple[str, str]]:
    app = create_app(None)  # type: ignore[arg-type]
    found = set()
    for route in app.routes:
        if isinstance(route, Route) and not isinstance(route, Mount):
            for method in route.methods or ():
                if method != "HEAD":
                    found.add((route.path, method.lower()))
    return found


def documented_routes() -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, item in spec()["paths"].items()
        for method in item
        if method != "parameters"
    }


def test_every_route_is_documented_and_every_documented_route_exists() -> None:
    assert documented_routes() == app_routes()


# Takes no body, so it has no body to refuse.
BODILESS_POSTS = {"/api/stream/ticket"}


def test_every_operation_documents_its_errors_as_json() -> None:
    for path, method in documented_routes() - {("/", "get")}:
        responses = spec()["paths"][path][method]["responses"]
        assert {"401", "403"} <= responses.keys(), (path, method)
        if method == "post" and path not in BODILESS_POSTS:
            assert {"400", "413", "415"} <= responses.keys(), path


def test_every_integer_parameter_documents_its_range() -> None:
    integers = [
        (path, param)
        for path, item in spec()["paths"].items()
        for operation in item.values()
        if isinstance(operation, dict)
        for param in operation.get("parameters", [])
        if param["schema"].get("type") == "integer"
    ]
    names = {param["name"] for _, param in integers}
    assert names == {"num_runs", "num_lines", "offset", "attempt", "limit", "Last-Event-ID"}
    for path, param in integers:
        assert {"minimum", "maximum"} <= param["schema"].keys(), (path, param["name"])
        assert param["schema"]["maximum"] < 2**63, (path, param["name"])


@pytest.fixture(scope="module")
def trond(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrondProcess]:
    root = tmp_path_factory.mktemp("fuzz")
    config = root / "config"
    config.mkdir()
    (config / "MASTER.yaml").write_text(textwrap.dedent(MASTER), encoding="utf-8")
    (config / "demo.yaml").write_text(textwrap.dedent(DEMO), encoding="utf-8")
    process = TrondProcess(root / "work", config)
    process.start()
    process.post("/api/jobs/demo.dag_job", command="start")
    yield process
    process.stop()


def test_served_document_is_the_spec(trond: TrondProcess) -> None:
    assert trond.get("/openapi.json") == json.loads(json.dumps(spec()))


def no_server_error(ctx: Any, response: Any, case: Any) -> None:
    """Tron answers 501 to an unknown command; every other 5xx is a bug."""
    if response.status_code == 501:
        assert any(text in response.json()["error"] for text in TRON_501_TEXTS)
    else:
        assert response.status_code < 500, (case.method, case.formatted_path, response.text)


CHECKS = [
    no_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_schemathesis_finds_no_server_error_nor_schema_violation(
    trond: TrondProcess, tmp_path: Path
) -> None:
    schema = schemathesis.openapi.from_dict(spec())
    # An Err here (an invalid document) raises, which is the failure we want.
    operations = [op.ok() for op in schema.get_all_operations()]  # type: ignore[union-attr]
    fuzzed = [op for op in operations if op.path not in NOT_FUZZED]
    assert len(fuzzed) >= 30
    for operation in fuzzed:
        _fuzz(operation, trond.url)


def _boundary_cases(operation: Any) -> list[Any]:
    """Schemathesis's coverage phase: each parameter at, just inside and just past its
    bounds, wrong types, missing required fields (valid and invalid data)."""
    generation = operation.schema.config.generation_for(operation=operation, phase="coverage")
    generator = CoverageGenerator(
        operation=operation,
        generation_modes=list(GenerationMode),
        generation_config=generation,
        auth_storage=None,
        override=Override(),
        feedback=FeedbackSources(),
    )
    return list(generator)


def _fuzz(operation: Any, base_url: str) -> None:
    for case in _boundary_cases(operation):
        response = case.call(base_url=base_url, timeout=60)
        case.validate_response(response, checks=CHECKS)
    # Valid and invalid data alike: every parameter also gets values of the wrong type.
    strategy = hypothesis.strategies.one_of(
        [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]
    )

    @hypothesis.given(case=strategy)
    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    def check(case: Any) -> None:
        response = case.call(base_url=base_url, timeout=60)
        case.validate_response(response, checks=CHECKS)

    check()
