"""The PEG tab, the stock page's Fundamentals card and the admin page's crawler jobs in headless Chromium against the
real gunicorn server: sort and filter the table, download its CSV, open a stock's quarterly results, create a crawler
job, run it and watch its progress arrive live."""

from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import expect

from tests.dashboard.test_browser import _register

PEG_COLUMN, PE_COLUMN, SECTOR_COLUMN = 8, 4, 2


def _numbers(page, column: int) -> list[float]:
    texts = page.locator(f"table.peg-table tbody tr td:nth-child({column})").all_text_contents()
    return [float(re.sub(r"[^0-9.\-]", "", t)) for t in texts if re.search(r"\d", t)]


def test_a_person_reads_sorts_filters_and_downloads_the_peg_table(open_page, screenshot_dir):
    page, errors = open_page()
    page.goto("/")
    page.locator(".tabs a[data-view=peg]").click()
    expect(page).to_have_url(re.compile(r"#/peg$"))
    rows = page.locator("table.peg-table tbody tr")
    expect(rows).to_have_count(50)
    expect(page.locator(".badge-sim", has_text="SIMULATED FUNDAMENTALS")).to_be_visible()
    expect(page.locator("th[data-field=peg]")).to_have_attribute("aria-sort", "ascending")
    pegs = _numbers(page, PEG_COLUMN)
    assert len(pegs) == 50 and pegs == sorted(pegs)
    page.screenshot(path=screenshot_dir / "peg.png", full_page=True)

    page.locator("th[data-field=pe]").click()
    expect(page.locator("th[data-field=pe]")).to_have_attribute("aria-sort", "ascending")
    pes = _numbers(page, PE_COLUMN)
    assert pes == sorted(pes)
    page.locator("th[data-field=pe]").click()
    expect(page.locator("th[data-field=pe]")).to_have_attribute("aria-sort", "descending")
    assert _numbers(page, PE_COLUMN) == sorted(_numbers(page, PE_COLUMN), reverse=True)

    form = page.locator("form.peg-filters")
    expect(form.locator("select[name=sector] option", has_text="Financial Services")).to_have_count(1)
    form.locator("select[name=sector]").select_option("Financial Services")
    form.locator("input[name=peg_max]").fill("1")
    form.locator("button[type=submit]").click()
    expect(page.locator("[data-testid=peg-summary]")).not_to_contain_text("of 201")
    sectors = page.locator(f"table.peg-table tbody tr td:nth-child({SECTOR_COLUMN})").all_text_contents()
    assert sectors and set(sectors) == {"Financial Services"}
    assert all(value <= 1 for value in _numbers(page, PEG_COLUMN))

    with page.expect_download() as download:
        page.get_by_role("link", name="⬇ CSV").click()
    table = list(csv.reader(io.StringIO(download.value.path().read_text())))
    assert table[0][:3] == ["symbol", "company_name", "sector"] and len(table) - 1 == len(sectors)
    assert {row[2] for row in table[1:]} == {"Financial Services"}

    symbol = rows.first.get_attribute("data-symbol")
    rows.first.locator("td:nth-child(3)").click()
    expect(page).to_have_url(re.compile(rf"#/stock/{re.escape(symbol)}$"))
    panel = page.locator(f".fundamentals[data-symbol='{symbol}']")
    expect(panel.locator("dd[data-field=pe]")).to_have_text(re.compile(r"^\d+\.\d\d$"))
    expect(panel.locator("svg.quarter-chart g.quarter")).to_have_count(8)
    revenue = panel.locator("svg.quarter-chart g.quarter").last.get_attribute("data-revenue")
    assert float(revenue) > 0
    panel.scroll_into_view_if_needed()
    page.screenshot(path=screenshot_dir / "fundamentals.png", full_page=True)
    assert errors == []


def test_an_admin_creates_and_runs_a_crawler_job_and_sees_it_progress(open_page, screenshot_dir):
    page, errors = open_page()
    page.goto("/")
    expect(page.locator(".tabs a[data-view=admin]")).to_be_hidden()
    _register(page, "PEG Admin", "peg.admin@example.com")
    page.locator(".tabs a[data-view=admin]").click()
    expect(page).to_have_url(re.compile(r"#/admin$"))
    expect(page.locator("table.crawler-jobs tbody tr", has_text="NSE universe (simulated)")).to_have_count(1)

    form = page.locator("form.crawler-form")
    form.locator("input[name=name]").fill("Two IT names")
    form.locator("input[name=symbols]").fill("tcs, infy")
    form.locator("textarea[name=metadata]").fill("owner=ops\nnote=browser test")
    form.locator("button[type=submit]").click()
    row = page.locator("table.crawler-jobs tbody tr", has_text="Two IT names")
    expect(row).to_contain_text("TCS, INFY")
    expect(row).to_contain_text("owner=ops")
    expect(row.locator(".run-status")).to_have_text("never run")

    row.get_by_role("button", name="Run now").click()
    status = page.locator("table.crawler-jobs tbody tr", has_text="Two IT names").locator(".run-status")
    expect(status).to_have_attribute("data-status", "completed", timeout=30_000)
    expect(status).to_contain_text("2/2 · 2 updated · 0 failed")
    page.screenshot(path=screenshot_dir / "admin.png", full_page=True)

    page.locator("table.crawler-jobs tbody tr", has_text="Two IT names").get_by_role("checkbox").uncheck()
    expect(
        page.locator("table.crawler-jobs tbody tr", has_text="Two IT names").get_by_role("checkbox")
    ).not_to_be_checked()
    assert errors == []


def test_a_user_who_is_not_an_admin_is_told_so(open_page):
    page, errors = open_page()
    page.goto("/")
    _register(page, "Plain User", "plain.user@example.com")
    expect(page.locator(".tabs a[data-view=admin]")).to_be_hidden()
    page.goto("/#/admin")
    expect(page.locator(".card", has_text="Administrators only.")).to_be_visible()
    assert errors == []
