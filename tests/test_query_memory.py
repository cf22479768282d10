"""A query string is parsed and validated once per model (routes/validation.py): later requests with the same text
get the same model; a refused query string is refused again every time."""

from __future__ import annotations

import pytest

import routes.stocks


@pytest.fixture
def validations(monkeypatch):
    """The payloads the search's query model validated."""
    seen = []
    original = routes.stocks.SearchQuery.model_validate

    def counted(payload, *args, **kwargs):
        seen.append(payload)
        return original(payload, *args, **kwargs)

    monkeypatch.setattr(routes.stocks.SearchQuery, "model_validate", counted)
    return seen


def test_a_repeated_query_string_is_validated_once(client, validations):
    answers = [client.get("/stocks/search?q=memo-once&limit=3") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert validations == [{"q": "memo-once", "limit": "3"}]
    assert client.get("/stocks/search?limit=3&q=memo-once").status_code == 200  # another spelling: validated once
    assert len(validations) == 2


def test_a_refused_query_string_is_refused_every_time(client, validations):
    answers = [client.get("/stocks/search?q=memo-refused&limit=0") for _ in range(2)]
    assert [a.status_code for a in answers] == [400, 400]
    assert answers[1].get_json()["error"]["details"]["fields"][0]["field"] == "limit"
    assert len(validations) == 2
