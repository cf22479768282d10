"""The dashboard page at / : served with a strict Content-Security-Policy, no inline code, its modules
resolvable, and front-end libraries pinned through npm."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

from backend.app import create_app
from routes import dashboard
from tests.conftest import make_settings

STATIC = Path(__file__).resolve().parents[2] / "routes" / "static"
_IMPORT = re.compile(r"""^\s*import\s[^'"]*?from\s+["']([^"']+)["']""", re.MULTILINE)


class _Inline(HTMLParser):
    """Collects inline scripts, style elements and style/on* attributes."""

    def __init__(self):
        super().__init__()
        self.problems = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style>")
        self.problems += [f"{tag}[{name}]" for name in names if name == "style" or name.startswith("on")]


def _csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def test_page_is_served_with_a_same_origin_csp(client):
    response = client.get("/", headers={"Host": "dash.example:8080"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    csp = _csp(response)
    assert csp["default-src"] == "'self'" and csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert csp["connect-src"] == "'self' ws://dash.example:8080 wss://dash.example:8080"
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert 'data-google-client-id=""' in response.get_data(as_text=True)


def test_page_has_no_inline_code(client):
    parser = _Inline()
    parser.feed(client.get("/").get_data(as_text=True))
    assert parser.problems == []


def test_page_loads_its_entry_module_and_stylesheet(client):
    html = client.get("/").get_data(as_text=True)
    assert '<script type="module" src="/static/js/main.js"></script>' in html
    for path in ("/static/js/main.js", "/static/css/dashboard.css", "/static/favicon.svg"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["ETag"]
    assert client.get("/static/js/main.js").mimetype == "text/javascript"
    assert client.get("/static/../settings.py").status_code == 404
    assert client.get("/static/js/nope.js").get_json()["error"]["code"] == "NOT_FOUND"


def test_every_module_import_resolves():
    modules = sorted((STATIC / "js").rglob("*.js"))
    assert len(modules) >= 10
    missing = []
    for module in modules:
        for target in _IMPORT.findall(module.read_text()):
            if not (module.parent / target).resolve().is_file():
                missing.append(f"{module.relative_to(STATIC)} -> {target}")
    assert missing == []


def test_frontend_libraries_are_pinned_and_locked(repo_root):
    package = json.loads((repo_root / "package.json").read_text())
    lock = json.loads((repo_root / "package-lock.json").read_text())
    assert set(package["dependencies"]) == {"socket.io-client", "lightweight-charts"}
    for name, version in package["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} must be pinned exactly"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    assert "routes/static/vendor/" in (repo_root / ".gitignore").read_text()


def test_google_sign_in_is_offered_only_when_configured(db_config):
    app = create_app(make_settings(db_config, google_client_id="1234-abc.apps.googleusercontent.com"))
    try:
        response = app.test_client().get("/")
    finally:
        app.extensions["db"].close()
    assert 'data-google-client-id="1234-abc.apps.googleusercontent.com"' in response.get_data(as_text=True)
    csp = _csp(response)
    assert csp["script-src"] == "'self' https://accounts.google.com/gsi/"
    assert csp["frame-src"] == "https://accounts.google.com/gsi/"
    assert "https://accounts.google.com/gsi/" in csp["connect-src"]


def test_missing_front_end_libraries_are_explained(client, monkeypatch, tmp_path):
    monkeypatch.setattr(dashboard, "VENDOR_DIR", tmp_path)
    html = client.get("/").get_data(as_text=True)
    assert "Front-end libraries are missing" in html and "scripts/vendor_assets.sh" in html


def test_static_files_are_compressed_and_revalidated_with_304(client):
    headers = {"Accept-Encoding": "gzip, deflate, br"}  # what browsers send; files stream as brotli
    first = client.get("/static/js/main.js", headers=headers)
    assert first.status_code == 200 and first.headers["Content-Encoding"] == "br"
    again = client.get("/static/js/main.js", headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""


def test_a_large_answer_is_compressed_when_asked_and_always_varies_on_accept_encoding(client):
    plain = client.get("/openapi.json")
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["Vary"] and len(plain.get_data()) > 1024
    compressed = client.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert compressed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in compressed.headers["Vary"]
