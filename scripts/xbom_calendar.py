"""Write data/xbom_calendar.json: the BSE (XBOM) trading calendar of exchange-calendars, as plain dates.

The app reads that file instead of importing exchange-calendars, which imports pandas: about 50 MB of every
web worker's memory for one question (is this weekday a session?). Run this after upgrading exchange-calendars
(requirements-dev.txt); tests/test_market_calendar.py fails while the file and the library disagree.

    .venv/bin/python scripts/xbom_calendar.py
"""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "data" / "xbom_calendar.json"
START = date(2005, 1, 3)  # the oldest history anything here seeds or scans is a few years


def calendar_from_library() -> dict:
    """The XBOM calendar from START to the library's last known session: the weekdays that are not sessions."""
    import exchange_calendars

    cal = exchange_calendars.get_calendar("XBOM", start=START.isoformat())
    first, last = cal.first_session.date(), cal.last_session.date()
    sessions = {ts.date() for ts in cal.sessions}
    closed, day = [], first
    while day <= last:
        if day.weekday() < 5 and day not in sessions:
            closed.append(day.isoformat())
        day += timedelta(days=1)
    if any(day.weekday() >= 5 for day in sessions):
        raise SystemExit("XBOM lists a weekend session; utils/market_hours.py assumes none")
    return {
        "source": f"exchange-calendars {exchange_calendars.__version__}, calendar XBOM",
        "first_session": first.isoformat(),
        "last_session": last.isoformat(),
        "closed_weekdays": closed,
    }


def main() -> int:
    """Write the file."""
    OUTPUT.write_text(json.dumps(calendar_from_library(), indent=1) + "\n")
    sys.stdout.write(f"wrote {OUTPUT.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
