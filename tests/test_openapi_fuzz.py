"""Schemathesis over the whole OpenAPI document, in-process against the WSGI app.

Every operation, with valid and invalid inputs: no 5xx, and every response's status, content type
and body match what the document says. Operations that require a token may answer 401 (the fuzzer
has none) as long as the body is the error envelope. Examples per operation are bounded so the run
stays well under a minute as the document grows.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi import checks as openapi_checks

from backend.app import create_app
from tests.conftest import make_settings
from tests.openapi_helpers import documented_api

CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]
CONFIG = {"seed": 20261120, "generation": {"max-examples": 12, "deterministic": True}}


# Loaded from the YAML fragments at import (no server needed) and called in-process with the app
# fixture; schemathesis' lazy fixture loader does not work with pytest 9.2 (it sets Node._nodeid).
schema = schemathesis.openapi.from_dict(documented_api(), config=SchemathesisConfig.from_dict(CONFIG))


@pytest.fixture(scope="module")
def fuzz_app(db_config):
    """One app for every generated case (hypothesis runs many inputs per test function)."""
    application = create_app(make_settings(db_config))
    yield application
    application.extensions["db"].close()


def _requires_token(operation) -> bool:
    security = operation.definition.raw.get("security", operation.schema.raw_schema.get("security", []))
    return any(requirement for requirement in security)


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
def test_api_matches_its_openapi_document(case, fuzz_app):
    response = case.call(app=fuzz_app, headers={"Accept-Encoding": "identity"})  # the WSGI client does not decompress
    if response.status_code == 401 and _requires_token(case.operation):
        body = response.json()
        assert body["status"] == "error" and body["error"]["code"] == "UNAUTHORIZED"
        return
    case.validate_response(response, checks=CHECKS)
