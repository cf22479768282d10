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


def test_request_schemas_come_only_from_the_views_models(repo_root):
    """The YAML fragments describe responses and path parameters; bodies and query strings are written from the
    pydantic models the views validate with (routes/validation.py), so they cannot drift from the code."""
    import yaml

    for path in sorted((repo_root / "routes" / "openapi").glob("*.yaml")):
        document = yaml.safe_load(path.read_text()) or {}
        for url, operations in (document.get("paths") or {}).items():
            for method, operation in operations.items():
                if method == "parameters":  # shared by the path's operations
                    assert all(p.get("in") != "query" for p in operation), f"{path.name}: {url}"
                    continue
                assert "requestBody" not in operation, f"{path.name}: {method} {url}"
                params = operation.get("parameters") or []
                assert all(p.get("in") != "query" for p in params), f"{path.name}: {method} {url}"
        for name, parameter in ((document.get("components") or {}).get("parameters") or {}).items():
            assert parameter["in"] != "query", f"{path.name}: components.parameters.{name}"


def test_views_read_requests_only_through_their_declared_models(repo_root):
    import ast

    offenders = []
    for path in sorted((repo_root / "routes").glob("*.py")):
        if path.name == "validation.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "request"
                and node.attr in ("args", "get_json", "json", "form", "values", "data")
            ):
                offenders.append(f"{path.name}:{node.lineno} request.{node.attr}")
    assert offenders == []


def test_a_declared_body_is_documented_with_its_models_constraints(client):
    document = client.get("/openapi.json").get_json()
    body = document["paths"]["/orders"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    order = document["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert order["required"] == ["symbol", "side", "order_type", "quantity"]
    assert order["properties"]["order_type"]["enum"] == ["MARKET", "LIMIT", "SL", "SL-M"]
    history = {p["name"]: p for p in document["paths"]["/stocks/history/{symbol}"]["get"]["parameters"] if "name" in p}
    assert history["interval"]["schema"]["enum"][0] == "1minute" and history["from"]["schema"]["format"] == "date"
