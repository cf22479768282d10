"""The dashboard as a person uses it: headless Chromium against the real server (gunicorn + gevent,
the simulator ticking, the market held open). One scenario, step by step, with screenshots of the
main views in artifacts/screenshots/ and no console error allowed (except the one HTTP error a step
provokes on purpose)."""

from __future__ import annotations

import re

import requests
from playwright.sync_api import Page, expect

PASSWORD = "correct-horse-42"
# Resolves once any of the elements' texts differs from the snapshot taken when it was called.
_CHANGED = """([selector, before]) => {
  const now = [...document.querySelectorAll(selector)].map((el) => el.textContent);
  return now.length > 0 && now.join("|") !== before.join("|");
}"""


def _texts(page: Page, selector: str) -> list[str]:
    return page.locator(selector).all_text_contents()


def _wait_for_change(page: Page, selector: str, timeout_ms: int = 10_000) -> None:
    """Wait until the text of `selector` changes by itself (a live update)."""
    page.wait_for_function(_CHANGED, arg=[selector, _texts(page, selector)], timeout=timeout_ms)


def _price(text: str) -> float:
    return float(re.sub(r"[^0-9.]", "", text))


def _register(page: Page, name: str, email: str) -> None:
    page.locator("#user-menu").get_by_role("link", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"#/login$"))
    page.locator(".auth .seg[data-mode=register]").click()
    page.locator("input[name=name]").fill(name)
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator(".auth-form button[type=submit]").click()
    expect(page.locator("#user-menu .user-name")).to_have_text(name)


def _search_and_open(page: Page, query: str, moves: list[str]) -> str:
    """Type `query`, move with the arrow keys, press Enter; returns the symbol that was highlighted."""
    search = page.locator("#search-input")
    search.fill(query)
    options = page.locator("#search-results .search-option")
    expect(options.nth(2)).to_be_visible()
    expect(options.first).to_have_attribute("aria-selected", "true")
    for key in moves:
        search.press(key)
    chosen = page.locator("#search-results [aria-selected=true]")
    symbol = chosen.get_attribute("data-symbol")
    assert search.get_attribute("aria-activedescendant") == chosen.get_attribute("id")
    search.press("Enter")
    expect(page).to_have_url(re.compile(rf"#/stock/{re.escape(symbol)}$"))
    expect(page.locator(".stock-head")).to_have_attribute("data-symbol", symbol)
    return symbol


def _place(page: Page, order_type: str, quantity: int, price: float | None = None) -> None:
    panel = page.locator(".order-panel")
    panel.locator("select[name=order_type]").select_option(order_type)
    panel.locator("input[name=quantity]").fill(str(quantity))
    if price is not None:
        panel.locator("input[name=price]").fill(f"{price:.2f}")
    expect(panel.locator(".estimate strong")).to_contain_text("₹")
    panel.locator("button[type=submit]").click()


def test_a_person_trades_through_the_dashboard(open_page, live_server, screenshot_dir):
    page, errors = open_page()
    page.goto("/")

    # The market streams: index strip and movers change by themselves.
    expect(page.locator("#connection")).to_have_attribute("data-state", "connected")
    expect(page.locator(".index-chip")).to_have_count(9)
    expect(page.locator("#sim-badge")).to_be_visible()
    expect(page.locator("#market-badge")).to_have_attribute("data-phase", "open")
    expect(page.locator(".movers-col[data-kind=gainers] tbody tr[data-symbol]").first).to_be_visible()
    _wait_for_change(page, ".index-chip .index-value")
    _wait_for_change(page, ".movers td.num")
    expect(page.locator("#last-updated")).not_to_have_text("—")
    expect(page.locator("#data-source")).to_have_text("simulated live feed")
    expect(page.locator(".news-item .chip[class*=sentiment-]").first).to_be_visible()
    expect(page.locator(".gauge-score")).to_have_text(re.compile(r"^\d{1,3}$"))
    page.screenshot(path=screenshot_dir / "market.png", full_page=True)

    _register(page, "Asha Rao", "asha@example.in")
    page.locator(".tabs a[data-view=portfolio]").click()
    expect(page.locator(".holdings")).to_contain_text("No holdings yet")
    page.locator(".tabs a[data-view=orders]").click()
    expect(page.locator(".orders")).to_contain_text("No orders yet")

    # Search with the keyboard and open the chart.
    symbol = _search_and_open(page, "bank", ["ArrowDown", "ArrowDown", "ArrowUp", "ArrowDown"])
    chart = page.locator(".chart")
    expect(chart).to_have_attribute("data-state", "ready")
    expect(chart.locator("canvas").first).to_be_visible()
    page.locator(".seg[data-interval='5minute']").click()
    expect(chart).to_have_attribute("data-interval", "5minute")
    expect(chart).to_have_attribute("data-state", "ready")
    # Live prices extend the chart's last candle (the first tick is the quote the page loaded with).
    page.wait_for_function(
        """() => {
      const chart = document.querySelector('.chart').dataset;
      return Number(chart.ticks) >= 3 && chart.lastClose === document.querySelector('.quote-price').dataset.value;
    }""",
        timeout=15_000,
    )
    page.screenshot(path=screenshot_dir / "stock.png", full_page=True)

    # A market order fills and shows up in holdings.
    _place(page, "MARKET", 2)
    expect(page.locator(".order-message")).to_have_attribute("data-kind", "ok")
    expect(page.locator(".order-message")).to_contain_text("filled at ₹")
    ltp = _price(page.locator(".quote-price").text_content())

    # A limit price beyond the circuit band: the API's message is shown as it is.
    errors.allow("status of 422")
    _place(page, "LIMIT", 1, round(ltp * 3, 1))
    expect(page.locator(".order-message")).to_have_attribute("data-kind", "error")
    expect(page.locator(".order-message")).to_contain_text(re.compile("circuit|band", re.I))

    # A limit order below the market rests OPEN, then is cancelled from the orders view.
    _place(page, "LIMIT", 1, round(ltp * 0.95 / 0.05) * 0.05)
    expect(page.locator(".order-message")).to_contain_text("open")
    page.locator(".tabs a[data-view=orders]").click()
    working = page.locator(f"tr[data-status=OPEN]:has(a.symbol:text-is('{symbol}'))")
    expect(working).to_have_count(1)
    order_id = working.get_attribute("data-order-id")
    working.get_by_role("button", name="Modify").click()
    page.locator(f"tr[data-order-id='{order_id}'] input[name=quantity]").fill("3")
    page.locator(f"tr[data-order-id='{order_id}']").get_by_role("button", name="Save").click()
    row = page.locator(f"tr[data-order-id='{order_id}']")
    expect(row.locator("td").nth(4)).to_have_text("0/3")
    row.get_by_role("button", name="Cancel").click()
    expect(row).to_have_attribute("data-status", "CANCELLED")

    # An order placed elsewhere (another tab, the API) shows up live through the private socket room.
    token = page.evaluate("JSON.parse(localStorage.getItem('mdash.session')).access_token")
    placed = requests.post(
        f"{live_server}/orders",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
        json={"symbol": symbol, "side": "SELL", "order_type": "MARKET", "quantity": 1},
    )
    assert placed.status_code == 201, placed.text
    elsewhere = page.locator(f"tr[data-order-id='{placed.json()['data']['order_id']}']")
    expect(elsewhere).to_have_attribute("data-status", "COMPLETE")
    page.screenshot(path=screenshot_dir / "orders.png", full_page=True)

    page.locator(".tabs a[data-view=portfolio]").click()
    holding = page.locator(f".holdings tr[data-symbol='{symbol}']")
    expect(holding.locator("td").nth(1)).to_have_text("1")  # bought 2, sold 1
    page.screenshot(path=screenshot_dir / "portfolio.png", full_page=True)

    # Add the stock to a new watchlist from its page.
    page.go_back()
    page.go_back()
    expect(page.locator(".stock-head")).to_have_attribute("data-symbol", symbol)
    page.locator(".stock-head summary").click()
    page.locator(".menu-body input").fill("Banks")
    page.locator(".menu-body").get_by_role("button", name="Create & add").click()
    expect(page.locator(".menu-body .menu-item")).to_have_text("✓ In Banks")

    # Reload: the session, watchlist, order history and holding are all still there.
    page.goto("/#/watchlists")
    page.reload()
    expect(page.locator("#user-menu .user-name")).to_have_text("Asha Rao")
    expect(page.locator(f".watchlist[data-name=Banks] tr[data-symbol='{symbol}']")).to_be_visible()
    _wait_for_change(page, ".watchlist td.ltp", timeout_ms=15_000)
    page.screenshot(path=screenshot_dir / "watchlists.png", full_page=True)
    banks = page.locator(".watchlist[data-name=Banks]")
    banks.get_by_role("button", name="Rename").click()
    banks.locator("h2 input").fill("PSU banks")
    banks.get_by_role("button", name="Save").click()
    renamed = page.locator(".watchlist[data-name='PSU banks']")
    expect(renamed).to_be_visible()
    renamed.get_by_role("button", name=f"Remove {symbol}").click()
    expect(renamed).to_contain_text("Empty list")
    page.locator(".tabs a[data-view=orders]").click()
    expect(page.locator(f"tr[data-order-id='{order_id}']")).to_have_attribute("data-status", "CANCELLED")
    page.locator(".tabs a[data-view=portfolio]").click()
    expect(page.locator(f".holdings tr[data-symbol='{symbol}']")).to_be_visible()

    # The light theme sticks across reloads.
    page.locator("#theme-toggle").click()
    page.goto(f"/#/stock/{symbol}")
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    expect(page.locator(".chart")).to_have_attribute("data-state", "ready")
    page.screenshot(path=screenshot_dir / "stock-light.png", full_page=True)
    assert errors == []


def test_phone_layout_and_sign_in_page(open_page, screenshot_dir):
    page, errors = open_page(width=390, height=844, color_scheme="light", is_mobile=True, has_touch=True)
    page.goto("/")
    expect(page.locator(".index-chip").first).to_be_visible()
    expect(page.locator(".movers-col[data-kind=losers] tbody tr[data-symbol]").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing overflows sideways
    page.screenshot(path=screenshot_dir / "phone-market.png", full_page=True)
    page.goto("/#/stock/RELIANCE")
    expect(page.locator(".chart")).to_have_attribute("data-state", "ready")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=screenshot_dir / "phone-stock.png", full_page=True)
    page.goto("/#/news")
    expect(page.locator(".news-item").first).to_be_visible()
    page.screenshot(path=screenshot_dir / "phone-news.png", full_page=True)
    page.goto("/#/login")
    expect(page.locator(".auth-form")).to_be_visible()
    expect(page.locator(".google-signin")).to_have_count(0)  # GOOGLE_CLIENT_ID is not set
    page.screenshot(path=screenshot_dir / "phone-login.png")
    assert errors == []


def test_closed_market_and_a_lost_connection(open_page, screenshot_dir):
    """The market-closed state (the status answered as closed), then the network drops: the disconnected
    banner shows, and the page reconnects by itself when the network is back."""
    page, errors = open_page()
    sockets = []

    def closed(route):
        body = route.fetch().json()
        body["data"].update(phase="closed", is_market_open=False)
        route.fulfill(json=body)

    def relay(ws):
        server = ws.connect_to_server()
        sockets.append(ws)
        ws.on_message(server.send)
        # Drop the server's own (open) market status so the page keeps the closed one.
        server.on_message(lambda message: None if str(message).startswith('42["market_status"') else ws.send(message))

    page.route("**/market/status", closed)
    page.route_web_socket(re.compile(r"/socket\.io/"), relay)
    page.goto("/")
    expect(page.locator("#connection")).to_have_attribute("data-state", "connected")
    expect(page.locator("#market-badge")).to_have_attribute("data-phase", "closed")
    expect(page.locator("#market-badge")).to_contain_text(re.compile(r"Market closed · opens \w{3}, \d+ \w{3}, 09:15"))
    _register(page, "Ravi Iyer", "ravi@example.in")
    page.goto("/#/stock/TCS")
    expect(page.locator(".order-panel .note-warn")).to_contain_text("Market closed: orders wait as after-market orders")
    expect(page.locator(".chart")).to_have_attribute("data-state", "ready")
    page.screenshot(path=screenshot_dir / "market-closed.png")

    errors.allow("ERR_INTERNET_DISCONNECTED", times=None)  # the browser logs each failed reconnect
    page.context.set_offline(True)
    for ws in sockets:
        ws.close()
    expect(page.locator("#connection")).to_have_attribute("data-state", "disconnected")
    expect(page.locator("#banner")).to_contain_text("Reconnecting automatically")
    page.screenshot(path=screenshot_dir / "disconnected.png")
    page.context.set_offline(False)
    expect(page.locator("#connection")).to_have_attribute("data-state", "connected", timeout=15_000)
    expect(page.locator("#banner")).to_be_hidden()
    _wait_for_change(page, ".quote-price")  # live prices flow again after the reconnect
    assert errors == []
