"""A loopback stand-in for EODHD's Fundamentals API, answering with its documented response shapes.

`GET /api/fundamentals/<SYMBOL>.NSE?api_token=…&fmt=json&filter=…` answers the body set for the symbol (sections
General, Highlights, SharesStats, Earnings, Financials as EODHD sends them: Highlights as numbers, statement lines
as numeric strings, History and quarterly statements keyed by period end) or EODHD's 404 for a ticker it does not
know. Scripted answers (status, body, headers) can be queued per symbol to produce 429 and 5xx sequences, and a
delay per symbol makes the server answer too late; every request is recorded.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from backend.local_mariadb import free_port

QUARTER_ENDS = [
    "2022-12-31",
    "2023-03-31",
    "2023-06-30",
    "2023-09-30",
    "2023-12-31",
    "2024-03-31",
    "2024-06-30",
    "2024-09-30",
    "2024-12-31",
    "2025-03-31",
    "2025-06-30",
    "2025-09-30",
    "2025-12-31",
    "2026-03-31",
    "2026-06-30",
    "2026-09-30",
]


def fundamentals_body(symbol: str, quarterly_eps: list[float], shares: float = 1_000_000_000.0) -> dict[str, Any]:
    """A full answer for `symbol` with these quarterly EPS (oldest first, ending 2026-09-30)."""
    ends = QUARTER_ENDS[-len(quarterly_eps) :]
    ttm = round(sum(quarterly_eps[-4:]), 4)
    history = {
        end: {
            "reportDate": end,
            "date": end,
            "beforeAfterMarket": "AfterMarket",
            "currency": "INR",
            "epsActual": eps,
            "epsEstimate": round(eps * 0.98, 4),
            "epsDifference": round(eps * 0.02, 4),
            "surprisePercent": 2.0408,
        }
        for end, eps in zip(ends, quarterly_eps, strict=True)
    }
    history["2026-12-31"] = {"reportDate": "2027-01-20", "date": "2026-12-31", "epsActual": None, "epsEstimate": 9.9}
    income = {
        end: {
            "date": end,
            "filing_date": None,
            "currency_symbol": "INR",
            "totalRevenue": f"{eps * shares * 8:.2f}",
            "netIncome": f"{eps * shares:.2f}",
            "grossProfit": f"{eps * shares * 3:.2f}",
        }
        for end, eps in zip(ends, quarterly_eps, strict=True)
    }
    balance = {
        end: {
            "date": end,
            "currency_symbol": "INR",
            "totalStockholderEquity": f"{shares * 400:.2f}",
            "shortLongTermDebtTotal": f"{shares * 200:.2f}",
            "commonStockSharesOutstanding": f"{shares:.2f}",
        }
        for end in ends[-4:]
    }
    return {
        "General": {
            "Code": symbol,
            "Type": "Common Stock",
            "Name": f"{symbol} Ltd",
            "Exchange": "NSE",
            "CurrencyCode": "INR",
            "CountryISO": "IN",
            "Sector": "Energy",
            "UpdatedAt": "2026-11-19",
        },
        "Highlights": {
            "MarketCapitalization": 1.9e13,
            "EBITDA": 1.6e12,
            "PERatio": 24.5,
            "PEGRatio": 1.8,
            "BookValue": 400.0,
            "DividendShare": 10.0,
            "DividendYield": 0.0071,
            "EarningsShare": ttm,
            "DilutedEpsTTM": ttm,
            "MostRecentQuarter": ends[-1],
            "ReturnOnEquityTTM": 0.0925,
            "QuarterlyEarningsGrowthYOY": 0.11,
        },
        "SharesStats": {"SharesOutstanding": shares, "SharesFloat": shares * 0.5, "PercentInsiders": 50.1},
        "Earnings": {"History": history, "Trend": {}, "Annual": {}},
        "Financials": {
            "Balance_Sheet": {"currency_symbol": "INR", "quarterly": balance, "yearly": {}},
            "Income_Statement": {"currency_symbol": "INR", "quarterly": income, "yearly": {}},
            "Cash_Flow": {"currency_symbol": "INR", "quarterly": {}, "yearly": {}},
        },
    }


@dataclass
class FakeEodhd:
    """The server's state: bodies per symbol, scripted answers and delays, recorded requests."""

    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)
    scripted: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))
    delays: dict[str, float] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def script(self, symbol: str, *answers: tuple[int, Any, dict[str, str]]) -> None:
        """Answer the next requests for `symbol` with these (status, body, headers) first."""
        self.scripted[symbol].extend(answers)

    def app(self, environ, start_response):
        request = Request(environ)
        ticker = request.path.rsplit("/", 1)[-1]
        symbol = ticker.removesuffix(".NSE")
        self.requests.append({"path": request.path, "args": dict(request.args), "at": time.monotonic()})
        time.sleep(self.delays.get(symbol, 0))
        if not request.path.startswith("/api/fundamentals/"):
            return _json({"error": "not found"}, 404)(environ, start_response)
        if request.args.get("api_token") != "test-token":
            return Response("Unauthenticated", status=401)(environ, start_response)
        if self.scripted[symbol]:
            status, body, headers = self.scripted[symbol].popleft()
            return _json(body, status, headers)(environ, start_response)
        if symbol not in self.bodies:
            return Response("Ticker Not Found.", status=404)(environ, start_response)
        return _json(self.bodies[symbol])(environ, start_response)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, mimetype="application/json")


class FakeEodhdServer:
    """Runs a FakeEodhd on 127.0.0.1 in a thread."""

    def __init__(self) -> None:
        self.state = FakeEodhd()
        self.port = free_port()
        self.server = make_server("127.0.0.1", self.port, self.state.app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def __enter__(self) -> FakeEodhdServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
