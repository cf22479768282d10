"""Alerts in the dashboard, in headless Chromium against the real server (the simulator ticking): "Add alert" on
the stock page prefilled with the price, its level drawn on the chart, a real trigger raising a toast, the bell
and a browser notification while the tab is in the background; the Alerts tab; "Add alert" on a watchlist row."""

from __future__ import annotations

import re

import requests
from playwright.sync_api import expect

from tests.dashboard.test_browser import _register

# The tab is "in the background" when the test says so; Notification is Chromium's own, recording its calls.
BACKGROUND = """
Object.defineProperty(document, "hidden", { configurable: true, get: () => window.__background === true });
window.__notified = [];
const Native = window.Notification;
window.Notification = function (title, options) {
  window.__notified.push({ title, body: options && options.body });
  return new Native(title, options);
};
Object.defineProperty(window.Notification, "permission", { get: () => Native.permission });
window.Notification.requestPermission = (...args) => Native.requestPermission(...args);
"""


def test_an_alert_set_on_the_stock_page_fires_a_toast(open_page, live_server, screenshot_dir):
    page, errors = open_page(permissions=["notifications"])
    page.add_init_script(BACKGROUND)
    page.goto("/")
    _register(page, "Meera Nair", "meera@example.in")
    expect(page.locator("#alert-bell")).to_be_visible()
    expect(page.locator(".bell-count")).to_be_hidden()

    page.goto("/#/stock/TCS")
    expect(page.locator(".chart")).to_have_attribute("data-state", "ready")
    page.locator(".alert-menu summary").click()
    form = page.locator(".alert-menu .alert-form")
    ltp = float(page.locator(".quote-price").get_attribute("data-value"))
    assert abs(float(form.locator("input[name=value]").input_value()) - ltp) < 0.01  # prefilled with the price
    level = round(ltp * 0.95, 2)  # the price is already above it: with fire_if_already it fires on the next tick
    form.locator("input[name=value]").fill(str(level))
    form.locator("input[name=note]").fill("TCS breakout")
    form.locator("input[name=fire_if_already]").check()
    page.evaluate("window.__background = true")  # the user switches to another tab
    form.get_by_role("button", name="Create alert").click()
    expect(form.locator(".note-ok")).to_contain_text("Alert set: TCS crossed above")

    toast = page.locator(".toast")
    expect(toast).to_be_visible(timeout=15_000)
    expect(toast).to_contain_text("TCS crossed above")
    expect(toast).to_contain_text("TCS breakout")
    expect(page.locator(".bell-count")).to_have_text("1")
    notified = page.evaluate("window.__notified")
    assert len(notified) == 1 and notified[0]["title"].startswith("🔔 TCS crossed above"), notified
    page.evaluate("window.__background = false")
    page.screenshot(path=screenshot_dir / "alert-toast.png")

    # a second alert (the menu is still open), still waiting, is drawn on the chart at its level
    far = round(ltp * 1.1, 2)
    form.locator("input[name=value]").fill(str(far))
    form.locator("input[name=fire_if_already]").uncheck()
    form.get_by_role("button", name="Create alert").click()
    expect(page.locator(".chart")).to_have_attribute("data-alert-lines", re.compile(rf"(^|,){far}(,|$)"))

    page.locator(".tabs a[data-view=alerts]").click()
    expect(page.locator(".alerts tbody tr")).to_have_count(2)
    expect(page.locator(".alerts tr[data-status=triggered]")).to_contain_text("TCS breakout")
    unread = page.locator(".alert-history tr[data-unread=true]")
    expect(unread).to_have_count(1)
    page.screenshot(path=screenshot_dir / "alerts.png", full_page=True)
    page.get_by_role("button", name="Mark all read").click()
    expect(page.locator(".bell-count")).to_be_hidden()
    expect(unread).to_have_count(0)
    waiting = page.locator(".alerts tr[data-status=active]")
    waiting.get_by_role("button", name="Disable").click()
    expect(page.locator(".alerts tr[data-status=disabled]")).to_have_count(1)

    # "Add alert" on a watchlist row, prefilled with the row's live price
    token = page.evaluate("JSON.parse(localStorage.getItem('mdash.session')).access_token")
    auth = {"Authorization": f"Bearer {token}"}
    created = requests.post(f"{live_server}/watchlists", json={"name": "Alerts"}, headers=auth, timeout=5).json()
    requests.post(
        f"{live_server}/watchlists/{created['data']['watchlist_id']}/items",
        json={"symbol": "INFY"},
        headers=auth,
        timeout=5,
    )
    page.goto("/#/watchlists")
    row = page.locator(".watchlist tr[data-symbol=INFY]")
    row.get_by_role("button", name="Add an alert on INFY").click()
    inline = page.locator("tr[data-alert-for=INFY] .alert-form")
    row_price = float(row.locator("td.ltp").get_attribute("data-value"))
    assert abs(float(inline.locator("input[name=value]").input_value()) - row_price) < 0.01
    inline.locator("select[name=kind]").select_option("price_below")
    inline.locator("input[name=value]").fill(str(round(row_price * 0.9, 2)))  # out of reach of the random walk
    inline.get_by_role("button", name="Create alert").click()
    expect(inline.locator(".note-ok")).to_contain_text("INFY crossed below")
    listed = requests.get(f"{live_server}/alerts?symbol=INFY", headers=auth, timeout=5).json()["data"]
    assert [(a["kind"], a["status"]) for a in listed] == [("price_below", "active")]
    assert errors == []
