"""Jobs of the features around the tick path (caches, news, trading, alerts, auth), scheduled beside the realtime
ones."""

from __future__ import annotations

from backend.settings import Settings
from services.accounts.auth import purge_revoked_tokens
from services.alerts import jobs as alert_jobs
from services.fundamentals import schedule as crawler_schedule
from services.news.headlines import refresh_news
from services.platform.scheduler import Job
from services.realtime.sessions import SESSION_CHECK_INTERVAL_S, check_sessions
from services.trading.equity_curve import FLUSH_EVERY_S, flush_fill_points
from services.trading.order_jobs import trading_jobs

_PHASES = {"open": frozenset({"open"}), "any": None}


def every_process_jobs(settings: Settings) -> list[Job]:
    """Jobs each process runs for itself: ending its sockets whose sign-in ended, writing its fills' equity points
    (its hot caches are kept warm with `movers_update`: `feed_jobs.MarketViews`)."""
    return [
        Job("socket_sessions", SESSION_CHECK_INTERVAL_S, check_sessions),
        Job("equity_fill_points", FLUSH_EVERY_S, flush_fill_points),
    ]


def writer_process_jobs(settings: Settings) -> list[Job]:
    """Jobs that write shared state, run by the writer (leader) process only."""
    jobs = [
        Job("news", settings.news_refresh_interval_s, refresh_news),
        Job("purge_revoked_tokens", 3600.0, purge_revoked_tokens),
        Job("crawler_schedule", crawler_schedule.CHECK_INTERVAL_S, crawler_schedule.enqueue_due_runs),
    ]
    jobs += [Job(name, interval, func, _PHASES[phase]) for name, (func, interval, phase) in trading_jobs().items()]
    return jobs + alert_jobs.writer_jobs()
