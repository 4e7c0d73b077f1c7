"""Schemathesis over every operation in ``/openapi.json``, against a real ``digitpad-serve``:
valid and invalid inputs generated from the schema, a few hundred per operation, with the
server-error, status-code, content-type and response-schema checks. Any failure is a bug
in the server or in the schema it publishes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.main import create_app
from app.settings import Settings
from scripts.harness.server import serving
from tests.app_fixtures import app_weights

pytestmark = pytest.mark.slow  # hundreds of generated requests per operation

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 200


# The document the server publishes, built from the app itself (no server needed to collect).
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    weights = app_weights(tmp_path_factory.mktemp("w") / "tiny.npz")
    # Live training off: each valid POST /api/train would start a training process (and the next get
    # 503 training_busy); its routes still answer (404) to their schema. tests/api/test_train.py and
    # tests/server/test_training.py hold them to their behaviour.
    # Otherwise as deployed: one worker per core.
    with serving(tmp_path_factory.mktemp("log"), weights, workers=None, training=False) as s:
        assert httpx.get(f"{s.url}/openapi.json").json() == schema.raw_schema  # the same document
        yield s.url


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_every_operation_holds_to_its_schema(case: schemathesis.Case[Any], base_url: str) -> None:
    case.call_and_validate(base_url=base_url, checks=CHECKS, timeout=30)
