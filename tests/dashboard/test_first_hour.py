"""What a trader and a newcomer notice in the first hour, in headless Chromium against the real server: the index
strip fits a 1,440 px window, most-active volumes are not coloured as changes, the sector heatmap opens a sector,
the header says plainly that the session is simulated and why NSE is closed, the order panel steps by the tick,
the orders list says why an order was rejected or cancelled and labels its modify inputs, and the exports download.
Screenshots (desktop and phone) land in artifacts/screenshots/."""

from __future__ import annotations

import csv
import io
import re
from contextlib import closing

from playwright.sync_api import Page, expect

from backend.db import connect
from controller.sql import execute, fetch_value
from tests.dashboard.test_browser import _place, _register
from tests.waiting import wait_for

PHONE = {"width": 390, "height": 844, "color_scheme": "light", "is_mobile": True, "has_touch": True}
SUNDAY_NIGHT = "2026-11-22T21:00:00.000+05:30"


def _fits(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing overflows sideways


def test_every_index_card_is_in_view_at_1440_px(open_page, screenshot_dir):
    page, errors = open_page(width=1440, height=900)
    page.goto("/")
    chips = page.locator(".index-chip")
    expect(chips).to_have_count(9)
    expect(page.locator(".index-chip[data-index=SENSEX50] .index-value")).not_to_be_empty()
    for index in range(9):
        box = chips.nth(index).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1440, (index, box)
    strip = page.locator("#index-strip")
    assert strip.evaluate("el => el.scrollWidth <= el.clientWidth")  # no hidden part to scroll to
    sensex50 = page.locator(".index-chip[data-index=SENSEX50]")
    assert sensex50.evaluate("el => el.querySelector('.index-change').scrollWidth <= el.clientWidth")
    page.screenshot(path=screenshot_dir / "index-strip-1440.png")
    _fits(page, 1440)
    assert errors == []


def test_most_active_volume_is_not_coloured_like_a_change(open_page):
    page, errors = open_page()
    page.goto("/")
    rows = page.locator(".movers-col[data-kind=mostActive] tbody tr[data-symbol]")
    expect(rows.first).to_be_visible()
    # each volume cell: no trend class, and the row's own text colour (the movers card updates live: read at once)
    cells = rows.evaluate_all(
        "rows => rows.map((tr) => [tr.cells[2].className, getComputedStyle(tr.cells[2]).color, "
        "getComputedStyle(tr).color])"
    )
    assert len(cells) >= 5
    assert all(name == "num" and color == row_color for name, color, row_color in cells), cells
    gainer = page.locator(".movers-col[data-kind=gainers] tbody tr[data-symbol] td").nth(2)
    assert "up" in gainer.get_attribute("class")  # changes keep their colour
    assert errors == []


def test_the_sector_heatmap_sizes_by_traded_value_and_opens_a_sector(open_page, screenshot_dir):
    page, errors = open_page()
    page.goto("/")
    tiles = page.locator(".heat-tile")
    expect(tiles.first).to_be_visible()
    measured = [
        (float(tiles.nth(i).get_attribute("data-traded-value")), tiles.nth(i).bounding_box())
        for i in range(tiles.count())
    ]
    assert len(measured) >= 10
    areas = [(value, box["width"] * box["height"]) for value, box in measured]
    biggest = max(areas)
    assert biggest[1] == max(area for _, area in areas)  # the most traded sector has the largest tile
    assert areas[0][1] > 3 * areas[-1][1]  # sized by traded value, not equal tiles
    trend = tiles.first.get_attribute("data-trend")
    assert trend in ("up", "down", "flat")
    page.locator("#view").screenshot(path=screenshot_dir / "sectors.png")
    name = tiles.first.get_attribute("data-sector")
    assert name == "Financial Services"
    tiles.first.click()
    expect(page).to_have_url(re.compile(r"#/sector/Financial%20Services$"))
    expect(page.locator(".card-head h2")).to_contain_text("Financial Services")
    expect(page.locator(".sector-stocks tr[data-symbol=HDFCBANK]")).to_be_visible()
    first = page.locator(".sector-stocks tbody tr").first.get_attribute("data-symbol")
    assert first in ("HDFCBANK", "ICICIBANK")  # largest traded value first
    page.screenshot(path=screenshot_dir / "sector-financial-services.png", full_page=True)
    assert errors == []


def test_the_sector_heatmap_on_a_phone(open_page, screenshot_dir):
    page, errors = open_page(**PHONE)
    page.goto("/")
    expect(page.locator(".heat-tile").first).to_be_visible()
    _fits(page, 390)
    page.locator(".heatmap").screenshot(path=screenshot_dir / "phone-sectors.png")
    page.locator(".heat-tile").first.click()
    expect(page.locator(".sector-stocks tr[data-symbol]").first).to_be_visible()
    _fits(page, 390)
    assert errors == []


def _simulated(page: Page, **status) -> None:
    """Answer /market/status as a simulated session at `status`, and keep the socket's own status away."""

    def answer(route):
        body = route.fetch().json()
        body["data"].update(phase="open", is_market_open=True, session="simulated", forced_open=True, **status)
        route.fulfill(json=body)

    def relay(ws):
        server = ws.connect_to_server()
        ws.on_message(server.send)
        server.on_message(lambda message: None if str(message).startswith('42["market_status"') else ws.send(message))

    page.route("**/market/status", answer)
    page.route_web_socket(re.compile(r"/socket\.io/"), relay)


def test_the_header_says_the_session_is_simulated_and_why_nse_is_closed(open_page, screenshot_dir):
    page, errors = open_page()
    _simulated(page, exchange_phase="closed", closed_reason="weekend", holiday_name=None, current_time_ist=SUNDAY_NIGHT)
    page.goto("/")
    badge = page.locator("#market-badge")
    expect(badge).to_have_text("Simulated session — NSE closed (Sunday)")
    expect(badge).to_have_attribute("data-session", "simulated")
    expect(page.locator("#sim-badge")).to_be_visible()
    page.locator(".topbar").screenshot(path=screenshot_dir / "simulated-session.png")
    assert errors == []


def test_a_holiday_is_named_and_the_label_fits_a_phone(open_page, screenshot_dir):
    page, errors = open_page(**PHONE)
    _simulated(page, exchange_phase="closed", closed_reason="holiday", holiday_name="Guru Nanak Jayanti")
    page.goto("/")
    expect(page.locator("#market-badge")).to_have_text("Simulated session — NSE closed (Guru Nanak Jayanti)")
    _fits(page, 390)
    page.screenshot(path=screenshot_dir / "phone-simulated-holiday.png")
    assert errors == []


def _download(page: Page, button) -> list[dict]:
    with page.expect_download() as info:
        button.click()
    download = info.value
    with open(download.path(), encoding="utf-8") as saved:
        return download.suggested_filename, list(csv.DictReader(io.StringIO(saved.read())))


def test_trading_screens(open_page, browser_db, screenshot_dir):
    """Tick-size steps, the reasons of a rejected and an IOC-cancelled order, labelled modify inputs, the equity
    curve on day one and the three CSV exports."""
    page, errors = open_page()
    page.goto("/")
    _register(page, "Nisha Menon", "nisha.menon@example.in")
    page.goto("/#/stock/RELIANCE")  # tick 0.10
    panel = page.locator(".order-panel")
    panel.locator("select[name=order_type]").select_option("LIMIT")
    limit = panel.locator("input[name=price]")
    assert limit.get_attribute("step") == "0.1"
    before = float(limit.input_value())
    assert round(before * 10) == before * 10  # on the tick grid
    limit.press("ArrowUp")
    assert round(float(limit.input_value()) - before, 2) == 0.1
    limit.press("ArrowDown")
    limit.press("ArrowDown")
    assert round(before - float(limit.input_value()), 2) == 0.1

    _place(page, "MARKET", 3)
    expect(page.locator(".order-message")).to_contain_text("filled at ₹")
    ltp = float(re.sub(r"[^0-9.]", "", page.locator(".quote-price").text_content()))
    # an IOC limit far below the market cannot fill: cancelled, with the reason
    panel.locator("select[name=validity]").select_option("IOC")
    _place(page, "LIMIT", 1, round(ltp * 0.9, 1))
    expect(page.locator(".order-message")).to_contain_text("cancelled. IOC order could not be filled immediately")
    panel.locator("select[name=validity]").select_option("DAY")
    _place(page, "LIMIT", 2, round(ltp * 0.95, 1))  # rests OPEN
    expect(page.locator(".order-message")).to_contain_text("open")
    with closing(connect(browser_db)) as conn:  # an order rejected at execution (funds gone meanwhile)
        user_id = fetch_value(conn, "SELECT user_id FROM users WHERE email = 'nisha.menon@example.in'")
        execute(
            conn,
            "INSERT INTO orders (user_id, stock_id, symbol, side, order_type, validity, quantity, price, status, "
            "reject_reason) SELECT %s, stock_id, symbol, 'BUY', 'LIMIT', 'DAY', 1, 1000, 'REJECTED', "
            "'insufficient funds at the execution price' FROM stocks WHERE symbol = 'TCS'",
            (user_id,),
        )

    page.locator(".tabs a[data-view=orders]").click()
    expect(page.locator("tr[data-status=CANCELLED] .order-reason")).to_have_text(
        "IOC order could not be filled immediately"
    )
    expect(page.locator("tr[data-status=REJECTED] .order-reason")).to_have_text(
        "insufficient funds at the execution price"
    )
    working = page.locator("tr[data-status=OPEN]")
    working.get_by_role("button", name="Modify").click()
    form = page.locator("td.modify")
    expect(form.get_by_label("Quantity")).to_have_value("2")
    expect(form.get_by_label("Limit price")).to_have_attribute("step", "0.1")  # the instrument's tick
    page.screenshot(path=screenshot_dir / "orders-reasons.png", full_page=True)
    form.get_by_role("button", name="Back").click()

    name, orders = _download(page, page.get_by_role("button", name="Export orders as CSV"))
    assert name == "orders.csv" and {o["status"] for o in orders} == {"COMPLETE", "CANCELLED", "OPEN", "REJECTED"}
    name, trades = _download(page, page.get_by_role("button", name="Export trades as CSV"))
    assert name == "trades.csv" and [(t["symbol"], t["side"], t["quantity"]) for t in trades] == [
        ("RELIANCE", "BUY", "3")
    ]

    page.locator(".tabs a[data-view=portfolio]").click()
    expect(page.locator(".holdings tr[data-symbol=RELIANCE]")).to_be_visible()
    name, holdings = _download(page, page.get_by_role("button", name="Export holdings as CSV"))
    assert name == "holdings.csv" and [(h["symbol"], h["quantity"]) for h in holdings] == [("RELIANCE", "3")]
    # day one: the fill's equity point (written within seconds) and the live equity
    page.locator(".seg[data-range='1d']").click()
    chart = page.locator(".chart-small")
    expect(chart).to_have_attribute("data-range", "1d")
    page.wait_for_function("() => Number(document.querySelector('.chart-small').dataset.points) >= 1")
    # the fill's point is written within seconds (each process's flush job); polled from here, since a promise
    # in Page.wait_for_function was not always re-run once another test's pages had used the browser
    server_points = """async () => {
      const token = JSON.parse(localStorage.getItem("mdash.session")).access_token;
      const res = await fetch("/portfolio/history?range=1d", { headers: { Authorization: `Bearer ${token}` } });
      return (await res.json()).count;
    }"""
    wait_for(lambda: page.evaluate(server_points) >= 1, timeout_s=30, interval_s=0.5)
    page.locator(".seg[data-range='1w']").click()  # another range: drawn from the server's points (the fill's)
    expect(chart).to_have_attribute("data-range", "1w")
    page.wait_for_function("() => Number(document.querySelector('.chart-small').dataset.history) >= 1", timeout=30_000)
    page.screenshot(path=screenshot_dir / "portfolio-day-one.png", full_page=True)
    assert errors == []


def test_orders_on_a_phone(open_page, screenshot_dir):
    page, errors = open_page(**PHONE)
    page.goto("/")
    _register(page, "Kiran Bose", "kiran.bose@example.in")
    page.goto("/#/orders")
    expect(page.get_by_role("button", name="Export orders as CSV")).to_be_visible()
    _fits(page, 390)
    page.screenshot(path=screenshot_dir / "phone-orders.png", full_page=True)
    assert errors == []
