"""The OpenAPI document is served, well-formed, and documents every registered route."""

import re


def test_openapi_document_is_served(client):
    document = client.get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert "/health" in document["paths"] and "Error" in document["components"]["schemas"]


def test_every_route_is_documented(app, client):
    documented = client.get("/openapi.json").get_json()["paths"]
    undocumented = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith(("/_", "/socket.io")):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        methods = {m.lower() for m in rule.methods - {"HEAD", "OPTIONS"}}
        missing = [m for m in methods if m not in documented.get(path, {})]
        if missing:
            undocumented.append(f"{sorted(missing)} {path}")
    assert undocumented == []
