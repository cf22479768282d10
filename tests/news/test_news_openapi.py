"""The news and sentiment operations of the OpenAPI document, fuzzed with schemathesis against the app:
every generated request gets a documented status and a body matching the documented schema."""

import schemathesis
from hypothesis import HealthCheck, settings

from tests.openapi_helpers import documented_api

schema = schemathesis.openapi.from_dict(documented_api()).include(path_regex="^/(news|sentiment)/")


@schema.parametrize()
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
def test_news_operations_match_the_document(case, news_app):
    # the in-process WSGI transport does not decompress (Flask-Compress answers gzip/br when offered)
    case.call_and_validate(app=news_app, headers={"Accept-Encoding": "identity"})
