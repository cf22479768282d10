"""Hostile text and the pages' Content-Security-Policy in headless Chromium against the real server: markup in a
user's or a watchlist's name shows as text and never runs, and Swagger UI at /docs works under the CSP."""

from __future__ import annotations

import re
from pathlib import Path

import requests
from playwright.sync_api import expect

MARKUP = '<img src=x onerror="window.__injected = 1">'
JS_DIR = Path(__file__).resolve().parents[2] / "routes" / "static" / "js"


def test_markup_in_names_is_shown_as_text(open_page):
    page, errors = open_page()
    page.goto("/")
    page.locator("#user-menu").get_by_role("link", name="Sign in").click()
    page.locator(".auth .seg[data-mode=register]").click()
    page.locator("input[name=name]").fill(MARKUP)
    page.locator("input[name=email]").fill("markup@example.com")
    page.locator("input[name=password]").fill("correct-horse-42")
    page.locator(".auth-form button[type=submit]").click()
    expect(page.locator("#user-menu .user-name")).to_have_text(MARKUP)

    page.goto("/#/watchlists")
    page.get_by_label("New watchlist name").fill(MARKUP)
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator(".watchlist h2")).to_have_text(MARKUP)
    page.goto("/#/")  # a second render of the same data
    page.goto("/#/watchlists")
    expect(page.locator(".watchlist h2")).to_have_text(MARKUP)

    assert page.locator("img[src=x]").count() == 0
    assert page.evaluate("window.__injected") is None
    assert errors == []


def test_the_dashboard_scripts_never_parse_text_as_html():
    parsing = re.compile(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|createContextualFragment")
    offenders = [
        f"{path.name}: {line.strip()}"
        for path in sorted(JS_DIR.rglob("*.js"))
        for line in path.read_text().splitlines()
        if parsing.search(line)
    ]
    assert offenders == []


def test_swagger_ui_works_under_the_content_security_policy(open_page, live_server):
    policy = requests.get(live_server + "/docs", timeout=10).headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    page, errors = open_page()
    page.goto("/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Market dashboard backend")
    expect(page.locator(".opblock").first).to_be_visible()
    page.locator(".opblock-summary-path", has_text="/health").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    assert errors == []


def test_a_session_ended_by_the_server_is_explained_and_signed_out(open_page, live_server):
    page, errors = open_page()
    page.goto("/")
    page.locator("#user-menu").get_by_role("link", name="Sign in").click()
    page.locator(".auth .seg[data-mode=register]").click()
    page.locator("input[name=name]").fill("Signed Elsewhere")
    page.locator("input[name=email]").fill("elsewhere@example.com")
    page.locator("input[name=password]").fill("correct-horse-42")
    page.locator(".auth-form button[type=submit]").click()
    expect(page.locator("#user-menu .user-name")).to_have_text("Signed Elsewhere")
    expect(page.locator("#connection")).to_have_attribute("data-state", "connected")
    stored = page.evaluate("JSON.parse(localStorage.getItem('mdash.session'))")
    logout = requests.post(
        live_server + "/auth/logout",
        json={"refresh_token": stored["refresh_token"]},
        headers={"Authorization": f"Bearer {stored['access_token']}"},
        timeout=10,
    )
    assert logout.status_code == 200  # e.g. from another tab or device
    expect(page.locator("#banner")).to_have_text("You were signed out: this session's token was revoked.")
    expect(page.locator("#user-menu").get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.locator("#connection")).to_have_attribute("data-state", "connected")  # back, as a guest
    assert errors == []
