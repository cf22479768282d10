"""The Scanner tab in headless Chromium against the real gunicorn server: run a preset scan, watch the progress bar
reach completion, sort the results, open a row's stock chart at its day, and see the scan among past scans."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.dashboard.test_browser import _register


def test_a_person_runs_a_scan_and_reads_its_results(open_page, screenshot_dir):
    page, errors = open_page()
    page.goto("/")
    _register(page, "Scanner User", "scanner.user@example.com")
    page.locator(".tabs a[data-view=scanner]").click()
    expect(page).to_have_url(re.compile(r"#/scanner$"))
    form = page.locator("form.scan-form")
    expect(form.locator("select[name=preset] option")).to_have_count(4)
    form.locator("select[name=preset]").select_option("gap_up_volume")
    form.locator("button[type=submit]").click()

    status = page.locator("[data-testid=scan-status]")
    expect(status).to_have_attribute("data-status", "completed", timeout=60_000)  # from the scan_done event
    expect(page.locator("progress.scan-progress")).to_have_attribute("value", "100")
    rows = page.locator("table.scan-results tbody tr")
    expect(rows.first).to_be_visible()
    scores = [float(t) for t in page.locator("table.scan-results tbody tr td:nth-child(11)").all_text_contents()]
    assert scores == sorted(scores, reverse=True)
    page.screenshot(path=screenshot_dir / "scanner.png", full_page=True)

    page.locator("table.scan-results th[data-field=symbol]").click()  # sort by symbol
    expect(page.locator("table.scan-results th[data-field=symbol]")).to_have_attribute("aria-sort", "descending")
    symbols = page.locator("table.scan-results tbody tr").evaluate_all("rows => rows.map(r => r.dataset.symbol)")
    assert symbols == sorted(symbols, reverse=True)

    expect(page.locator("[data-scan-id]").first.locator(".chip")).to_have_text("completed")
    first = page.locator("table.scan-results tbody tr").first
    symbol, day = first.get_attribute("data-symbol"), first.get_attribute("data-date")
    first.locator("td:nth-child(2)").click()
    expect(page).to_have_url(re.compile(rf"#/stock/{re.escape(symbol)}/{day}$"))
    expect(page.locator(".chart")).to_have_attribute("data-focus", day)
    assert errors == []
