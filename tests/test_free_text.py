"""Free text written by users (user names, watchlist and saved-scan names) refuses control, invisible and bidirectional
formatting characters with a 400 naming the character, keeps the joiners that Indic scripts and emoji need,
stores markup as plain text, and documents the rule (and its pattern) in the OpenAPI document."""

from __future__ import annotations

import re

import pytest

from tests.auth_helpers import access_token, assert_error, bearer, make_user
from tests.openapi_helpers import documented_api
from utils.validators import free_text_pattern

REFUSED = {
    "\x00": "U+0000 (control character)",
    "\x07": "U+0007 (control character)",
    "\x1b": "U+001B (control character)",
    "\x7f": "U+007F (control character)",
    "\x85": "U+0085 (control character)",
    "\u200b": "U+200B (ZERO WIDTH SPACE)",
    "\u200e": "U+200E (LEFT-TO-RIGHT MARK)",
    "\u200f": "U+200F (RIGHT-TO-LEFT MARK)",
    "\u202a": "U+202A (LEFT-TO-RIGHT EMBEDDING)",
    "\u202e": "U+202E (RIGHT-TO-LEFT OVERRIDE)",
    "\u2060": "U+2060 (WORD JOINER)",
    "\u2066": "U+2066 (LEFT-TO-RIGHT ISOLATE)",
    "\u2069": "U+2069 (POP DIRECTIONAL ISOLATE)",
    "\ufeff": "U+FEFF (ZERO WIDTH NO-BREAK SPACE)",
}
# Devanagari conjunct with an explicit ZWJ, Tamil, a ZWJ emoji family, ZWNJ in Persian, and markup.
ACCEPTED = ["क्\u200dष", "தமிழ்", "👨\u200d👩\u200d👧", "می\u200cخواهم", "<img src=x onerror=alert(1)>", 'Tom & "Jerry"']


@pytest.fixture
def headers(app, db_conn):
    return bearer(access_token(app, make_user(db_conn, "writer@example.com")))


def register(client, name: str):
    return client.post("/auth/register", json={"email": "new@example.com", "password": "s3cret-pass", "name": name})


@pytest.mark.parametrize("char", REFUSED, ids=[f"U+{ord(c):04X}" for c in REFUSED])
def test_a_user_name_refuses_the_character_and_says_which(client, char):
    body = assert_error(register(client, f"Mallory{char}Smith"), 400, "VALIDATION_ERROR")
    [field] = body["error"]["details"]["fields"]
    assert field["field"] == "name" and f"contains {REFUSED[char]} at position 7" in field["message"]


@pytest.mark.parametrize("char", REFUSED, ids=[f"U+{ord(c):04X}" for c in REFUSED])
def test_a_watchlist_name_refuses_the_character_and_says_which(client, headers, char):
    created = client.post("/watchlists", json={"name": f"Top{char}Picks"}, headers=headers)
    [field] = assert_error(created, 400, "VALIDATION_ERROR")["error"]["details"]["fields"]
    assert field["field"] == "name" and REFUSED[char] in field["message"]
    listed = client.post("/watchlists", json={"name": "Fine"}, headers=headers).get_json()["data"]
    renamed = client.patch(f"/watchlists/{listed['watchlist_id']}", json={"name": f"x{char}"}, headers=headers)
    assert REFUSED[char] in assert_error(renamed, 400, "VALIDATION_ERROR")["error"]["details"]["fields"][0]["message"]


@pytest.mark.parametrize("char", REFUSED, ids=[f"U+{ord(c):04X}" for c in REFUSED])
def test_a_saved_scans_name_refuses_the_character_and_says_which(client, headers, char):
    saved = client.post("/scans/definitions", json={"name": f"Gap{char}ups", "scan": {}}, headers=headers)
    fields = assert_error(saved, 400, "VALIDATION_ERROR")["error"]["details"]["fields"]
    assert [f["field"] for f in fields] == ["name"] and REFUSED[char] in fields[0]["message"]


@pytest.mark.parametrize("name", ACCEPTED)
def test_joiners_scripts_and_markup_are_kept_as_text(client, db_conn, headers, name):
    response = register(client, name)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["data"]["user"]["name"] == name
    created = client.post("/watchlists", json={"name": name}, headers=headers)
    assert created.status_code == 201 and created.get_json()["data"]["name"] == name
    assert client.get("/watchlists", headers=headers).get_json()["data"][0]["name"] == name


def test_the_document_states_the_rule_and_its_pattern_agrees(client):
    schemas = documented_api()["components"]["schemas"]
    fields = [
        (schemas["RegisterBody"]["properties"]["name"], True),
        (schemas["WatchlistCreate"]["properties"]["name"], False),
        (schemas["WatchlistUpdate"]["properties"]["name"], False),
        (schemas["ScanDefinitionCreate"]["properties"]["name"], False),
    ]
    for schema, trim in fields:
        assert schema["pattern"] == free_text_pattern(trim) and "U+202A-U+202E" in schema["description"]
        for char in REFUSED:
            assert not re.fullmatch(schema["pattern"], f"a{char}b")
        for name in ACCEPTED:
            assert re.fullmatch(schema["pattern"], name)
