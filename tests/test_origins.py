"""Socket.IO origin check: configured origins, or the page's own host (the dashboard), never another site."""

from utils.origins import configured_or_same_host


def test_configured_origins_and_the_same_host_are_accepted():
    check = configured_or_same_host(["https://app.example.com"])
    assert check("https://app.example.com", {"HTTP_HOST": "api.example.com"})
    assert check("http://127.0.0.1:8000", {"HTTP_HOST": "127.0.0.1:8000"})
    behind_proxy = {"HTTP_HOST": "10.0.0.5:10000", "HTTP_X_FORWARDED_HOST": "dash.onrender.com"}
    assert check("https://dash.onrender.com", behind_proxy)


def test_other_sites_are_refused():
    check = configured_or_same_host(["https://app.example.com"])
    assert not check("https://evil.example", {"HTTP_HOST": "127.0.0.1:8000"})
    assert not check("http://127.0.0.1:8001", {"HTTP_HOST": "127.0.0.1:8000"})
    assert not check("null", {"HTTP_HOST": "127.0.0.1:8000"})
    assert not check("https://app.example.com.evil", {})


def test_a_wildcard_accepts_everyone():
    assert configured_or_same_host(["*"])("https://anywhere.example", {})
