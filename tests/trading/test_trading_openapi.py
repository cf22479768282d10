"""Schemathesis fuzzes the trading and watchlist part of the OpenAPI document with a valid token.

Every generated request (valid and invalid) must get a documented status code, content type and a
body matching the documented schema, and never a 5xx. Missing-token 401s are left to the auth suite.
"""

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from backend.app import create_app
from backend.db import connect
from tests.conftest import make_settings
from tests.trading.conftest import make_user

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


def test_trading_endpoints_conform_to_their_documentation(db_config, instruments):
    app = create_app(make_settings(db_config, force_market_open=True))
    conn = connect(db_config)
    try:
        _, token = make_user(app, conn, "fuzzer")
    finally:
        conn.close()
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app).include(
        path_regex="^/(account|orders|trades|portfolio|watchlists)"
    )
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

            @given(operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=5,
                suppress_health_check=list(HealthCheck),
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
            )
            def run(case):
                response = case.call(headers={"Authorization": f"Bearer {token}"})
                if response.status_code != 401:  # a mutated/missing token: the auth issue owns that body
                    case.validate_response(response, checks=CHECKS)

            try:
                run()
            except Exception as exc:  # collect every operation's failure, then report them all
                failures.append(f"{operation.label} {mode.value}: {str(exc)[:800]}")
    assert failures == []
