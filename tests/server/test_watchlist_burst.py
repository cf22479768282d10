"""Bursts of concurrent watchlist writes by one user against the real server: every answer is a 201/200 or a
409, never a 500, whatever the interleaving; the list limit (WATCHLIST_MAX_LISTS = 20) and unique positions hold."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

MAX_LISTS = 20  # the default WATCHLIST_MAX_LISTS


def register(url: str) -> dict[str, str]:
    response = requests.post(
        url + "/auth/register",
        json={"email": f"burst-{uuid.uuid4().hex[:8]}@example.com", "password": "correct horse battery", "name": "B"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['data']['access_token']}"}


def burst(calls: list, threads: int | None = None) -> list[requests.Response]:
    """Run (method, url, kwargs) calls from as many threads released together; return the responses."""
    start = threading.Barrier(len(calls))

    def run(call):
        method, url, kwargs = call
        with requests.Session() as session:
            start.wait()
            return session.request(method, url, timeout=30, **kwargs)

    with ThreadPoolExecutor(threads or len(calls)) as pool:
        return list(pool.map(run, calls))


def lists(url: str, headers: dict) -> list[dict]:
    response = requests.get(url + "/watchlists", headers=headers, timeout=10)
    assert response.status_code == 200
    return response.json()["data"]


def statuses(responses) -> Counter:
    return Counter(r.status_code for r in responses)


@pytest.mark.parametrize("size", [25, 60])
def test_a_burst_of_creates_never_fails_and_keeps_the_limit(module_server, size):
    headers = register(module_server.url)
    url = module_server.url + "/watchlists"
    responses = burst([("POST", url, {"json": {"name": f"list {n}"}, "headers": headers}) for n in range(size)])
    failed = [r.text for r in responses if r.status_code >= 500]
    assert statuses(responses) == {201: MAX_LISTS, 409: size - MAX_LISTS}, failed
    found = lists(module_server.url, headers)
    assert len(found) == MAX_LISTS
    assert sorted(w["position"] for w in found) == list(range(MAX_LISTS))


def test_a_burst_of_the_same_name_creates_one_list(module_server):
    headers = register(module_server.url)
    url = module_server.url + "/watchlists"
    responses = burst([("POST", url, {"json": {"name": "Same"}, "headers": headers}) for _ in range(30)])
    assert statuses(responses) == {201: 1, 409: 29}
    assert [w["name"] for w in lists(module_server.url, headers)] == ["Same"]


def test_creates_renames_moves_deletes_and_items_interleaved(module_server):
    headers = register(module_server.url)
    base = module_server.url + "/watchlists"
    ids = [
        requests.post(base, json={"name": f"seed {n}"}, headers=headers, timeout=10).json()["data"]["watchlist_id"]
        for n in range(6)
    ]

    def call(method: str, path: str, body: dict | None = None) -> tuple:
        return method, base + path, {"json": body, "headers": headers}

    calls = []
    for n in range(10):
        calls.append(call("POST", "", {"name": f"new {n}"}))
        calls.append(call("PATCH", f"/{ids[n % 6]}", {"name": f"renamed {n}", "position": n}))
        calls.append(call("POST", f"/{ids[n % 3]}/items", {"symbol": ["TCS", "INFY", "SBIN", "ITC"][n % 4]}))
    calls += [call("DELETE", f"/{ids[5]}"), call("DELETE", f"/{ids[4]}")]
    responses = burst(calls)
    assert not [r.text for r in responses if r.status_code >= 500]
    assert set(statuses(responses)) <= {200, 201, 404, 409}
    found = lists(module_server.url, headers)
    assert len(found) <= MAX_LISTS
    for watchlist in found:
        assert len({item["symbol"] for item in watchlist["items"]}) == watchlist["count"]
