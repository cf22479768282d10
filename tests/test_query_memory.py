"""A query string is parsed and validated once per model (routes/validation.py): later requests with the same text
get the same model; a refused query string is refused again every time; a route whose query strings seldom repeat
(search, a typeahead's prefixes) validates each one without keeping it."""

from __future__ import annotations

import pytest

import routes.stocks


def _counted(monkeypatch, model) -> list:
    """The payloads `model` validated."""
    seen = []
    original = model.model_validate

    def counted(payload, *args, **kwargs):
        seen.append(payload)
        return original(payload, *args, **kwargs)

    monkeypatch.setattr(model, "model_validate", counted)
    return seen


@pytest.fixture
def validations(monkeypatch):
    """The payloads the movers' query model validated."""
    return _counted(monkeypatch, routes.stocks.MoversQuery)


def test_a_repeated_query_string_is_validated_once(client, validations):
    answers = [client.get("/stocks/movers-all?limit=3&intraday=false") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert validations == [{"limit": "3", "intraday": "false"}]
    assert client.get("/stocks/movers-all?intraday=false&limit=3").status_code == 200  # another spelling
    assert len(validations) == 2


def test_a_refused_query_string_is_refused_every_time(client, validations):
    answers = [client.get("/stocks/movers-all?limit=0&intraday=false") for _ in range(2)]
    assert [a.status_code for a in answers] == [400, 400]
    assert answers[1].get_json()["error"]["details"]["fields"][0]["field"] == "limit"
    assert len(validations) == 2


def test_search_validates_each_query_string_without_keeping_it(client, monkeypatch):
    validations = _counted(monkeypatch, routes.stocks.SearchQuery)
    answers = [client.get("/stocks/search?q=memo-never&limit=3") for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert validations == [{"q": "memo-never", "limit": "3"}] * 2


@pytest.mark.parametrize(
    "raw",
    [
        "q=inf&limit=7",
        "q",
        "q=&limit",
        "&&q=a&q=b&",
        "q=a=b",
        "=x",
        "q=hdfc+ba&limit=3",
        "q=%41%zz",
        "q=\xc3\xa9t\xc3\xa9",
    ],
)
def test_a_query_string_is_read_as_request_args_reads_it(raw):
    """The direct split of a string with nothing to decode, and parse_qsl for the rest: what werkzeug's args hold
    (`raw` as a WSGI environ holds it: the bytes as latin-1, here "été" in UTF-8)."""
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    from routes.validation import _query_payload

    environ = {**EnvironBuilder().get_environ(), "QUERY_STRING": raw}
    args = Request(environ).args
    assert _query_payload(raw) == {name: args.get(name) for name in args}
