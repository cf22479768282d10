"""GET /stocks/history/<symbol>: stored candles, n-minute/week/month aggregation by hand, validation."""

from datetime import date, datetime, timedelta

import pytest

from controller.sql import fetch_all, fetch_one
from tests.market_helpers import OPEN_NOW, freeze
from utils.timeutil import IST, as_utc


@pytest.fixture
def frozen(app):
    freeze(app, OPEN_NOW)
    return app


def history(client, query: str, symbol: str = "TCS"):
    response = client.get(f"/stocks/history/{symbol}?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # the bars are the top-level `data`, with symbol, interval and count beside it


def daily_bars(db_conn, symbol: str = "TCS") -> list[dict]:
    """Stored daily candles plus today's session from the snapshot quote (as the API includes it)."""
    rows = fetch_all(
        db_conn,
        """SELECT c.ts, c.open, c.high, c.low, c.close, c.volume FROM stock_candles c
        JOIN stocks s ON s.stock_id = c.stock_id WHERE s.symbol = %s AND c.timeframe = '1d' ORDER BY c.ts""",
        (symbol,),
    )
    bars = [
        {"day": as_utc(r["ts"]).astimezone(IST).date(), **{k: r[k] for k in ("open", "high", "low", "close", "volume")}}
        for r in rows
    ]
    q = fetch_one(
        db_conn,
        """SELECT q.* FROM stock_quotes q JOIN stocks s ON s.stock_id = q.stock_id
        WHERE s.symbol = %s""",
        (symbol,),
    )
    today = as_utc(q["as_of"]).astimezone(IST).date()
    assert bars[-1]["day"] < today
    bars.append(
        {
            "day": today,
            "open": q["day_open"],
            "high": q["day_high"],
            "low": q["day_low"],
            "close": q["ltp"],
            "volume": q["volume"],
        }
    )
    return bars


def by_hand(bars: list[dict], period) -> list[dict]:
    """Group daily bars by `period(day)`: open of the first, close of the last, max high, min low, sum volume."""
    groups: dict[date, list[dict]] = {}
    for bar in bars:
        groups.setdefault(period(bar["day"]), []).append(bar)
    return [
        {
            "time": key.isoformat(),
            "open": float(g[0]["open"]),
            "high": float(max(b["high"] for b in g)),
            "low": float(min(b["low"] for b in g)),
            "close": float(g[-1]["close"]),
            "volume": sum(b["volume"] for b in g),
        }
        for key, g in sorted(groups.items())
    ]


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def test_day_history_is_the_stored_candles_plus_the_current_session(frozen, client, db_conn):
    data = history(client, "interval=day&limit=5")
    assert (data["symbol"], data["interval"], data["count"]) == ("TCS", "day", 5)
    assert data["data"] == by_hand(daily_bars(db_conn)[-5:], lambda d: d)
    assert data["data"][-1]["time"] == "2026-11-20"


def test_day_history_default_limit_and_range(frozen, client, db_conn):
    assert history(client, "")["count"] == 250
    ranged = history(client, "interval=day&from=2026-11-02&to=2026-11-06")
    assert [b["time"] for b in ranged["data"]] == ["2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06"]


def test_week_bars_by_hand(frozen, client, db_conn):
    bars = [b for b in daily_bars(db_conn) if b["day"] >= date(2026, 9, 1)]
    data = history(client, "interval=week&from=2026-09-01&to=2026-11-20")
    expected = by_hand(bars, monday)
    assert data["data"] == expected
    assert data["data"][0]["time"] == "2026-08-31"  # the Monday of the week that holds 1 Sep (clipped to the range)
    week_of_diwali = next(b for b in expected if b["time"] == "2026-11-09")  # 10 Nov is a holiday: 4 sessions
    assert week_of_diwali["volume"] == sum(b["volume"] for b in bars if monday(b["day"]) == date(2026, 11, 9))


def test_week_limit_returns_the_newest_complete_bars(frozen, client, db_conn):
    expected = by_hand(daily_bars(db_conn), monday)[-3:]
    assert history(client, "interval=week&limit=3")["data"] == expected


def test_month_bars_by_hand(frozen, client, db_conn):
    expected = by_hand(daily_bars(db_conn), first_of_month)
    data = history(client, "interval=month&limit=6")
    assert data["data"] == expected[-6:]
    assert [b["time"] for b in data["data"]] == [
        "2026-06-01",
        "2026-07-01",
        "2026-08-01",
        "2026-09-01",
        "2026-10-01",
        "2026-11-01",
    ]


def test_intraday_bars_align_to_the_open_and_aggregate_minutes(frozen, client, db_conn):
    minutes = fetch_all(
        db_conn,
        """SELECT c.ts, c.open, c.high, c.low, c.close, c.volume FROM stock_candles c
        JOIN stocks s ON s.stock_id = c.stock_id WHERE s.symbol = 'TCS' AND c.timeframe = '1m' ORDER BY c.ts""",
    )
    assert len(minutes) == 106  # 09:15 .. 11:00
    one = history(client, "interval=1minute&limit=2")["data"]
    assert [b["time"] for b in one] == [int(as_utc(m["ts"]).timestamp()) for m in minutes[-2:]]
    five = history(client, "interval=5minute&limit=1000")["data"]
    assert len(five) == 22  # 21 full bars and 11:00's single minute
    first = minutes[:5]
    assert five[0] == {
        "time": int(datetime(2026, 11, 20, 9, 15, tzinfo=IST).timestamp()),
        "open": float(first[0]["open"]),
        "high": float(max(m["high"] for m in first)),
        "low": float(min(m["low"] for m in first)),
        "close": float(first[-1]["close"]),
        "volume": sum(m["volume"] for m in first),
    }
    thirty = history(client, "interval=30minute&limit=2")["data"]
    assert [datetime.fromtimestamp(b["time"], IST).strftime("%H:%M") for b in thirty] == ["10:15", "10:45"]
    assert thirty[-1]["volume"] == sum(m["volume"] for m in minutes[-16:])  # 10:45 .. 11:00


def test_a_range_before_the_data_is_empty(frozen, client):
    data = history(client, "interval=day&from=1995-01-01&to=1995-12-31")
    assert (data["count"], data["data"]) == (0, [])


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("interval=2minute", "interval"),
        ("interval=DAY", "interval"),
        ("from=2026-13-01", "from"),
        ("from=20261101", "from"),
        ("to=2026-02-30", "to"),
        ("from=1700000000", "from"),
        ("from=0001-01-01", "from"),
        ("to=9999-12-31", "to"),
        ("from=2026-11-20&to=2026-11-01", "from"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=x", "limit"),
    ],
)
def test_bad_history_parameters_are_400(frozen, client, query, field):
    response = client.get(f"/stocks/history/TCS?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"]["code"] == "VALIDATION_ERROR" and body["error"]["details"]["fields"][0]["field"] == field


def test_unknown_symbol_history_is_404(frozen, client):
    assert client.get("/stocks/history/NOPE?interval=day").status_code == 404


def test_history_is_cacheable(frozen, client):
    response = client.get("/stocks/history/TCS?interval=week&limit=2")
    assert response.headers["Cache-Control"] == "public, max-age=60" and response.headers["ETag"]
