"""The committed XBOM calendar (data/xbom_calendar.json) is the one exchange-calendars computes: when an upgrade of
the library changes a holiday, this fails until scripts/xbom_calendar.py is run again. And the web app never
imports the library (it imports pandas)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

from scripts.xbom_calendar import OUTPUT, calendar_from_library
from utils.market_hours import MarketCalendar, exchange_calendar


def test_the_committed_calendar_is_the_librarys():
    assert json.loads(OUTPUT.read_text()) == calendar_from_library()


def test_sessions_follow_the_calendar_and_the_overrides():
    cal = exchange_calendar()
    assert cal.is_session(date(2026, 11, 20)) and not cal.is_session(date(2026, 11, 24))  # a Friday; Guru Nanak
    assert not cal.is_session(date(2026, 11, 21))  # a Saturday
    market = MarketCalendar({date(2026, 11, 20): "Test holiday"})
    assert not market.is_trading_day(date(2026, 11, 20)) and market.holiday_name(date(2026, 11, 20)) == "Test holiday"
    assert not market.is_trading_day(date(2026, 12, 25)) and market.is_trading_day(date(2026, 12, 24))


def test_the_app_does_not_import_pandas():
    code = (
        "import sys; from backend.settings import Settings; from backend.app import create_app; "
        "app = create_app(Settings.load(_env_file=None, app_env='test', database_url='mysql://a:b@127.0.0.1:1/x', "
        "socketio_async_mode='threading')); "
        "from services.market import market_clock\n"
        "with app.app_context(): market_clock.current_status()\n"
        "print(sorted(m for m in ('pandas', 'exchange_calendars', 'numpy') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pandas" not in done.stdout and "exchange_calendars" not in done.stdout, done.stdout
