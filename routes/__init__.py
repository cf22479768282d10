"""Blueprint registry: every URL prefix of the app is set here."""

from flask import Flask

from routes import (
    account,
    admin,
    alerts,
    auth,
    crawler_jobs,
    dashboard,
    docs,
    fundamentals,
    health,
    indices,
    market,
    news,
    orders,
    portfolio,
    provider,
    scans,
    sentiment,
    stocks,
    trades,
    watchlists,
)


def register_blueprints(app: Flask) -> None:
    """Register every blueprint with its URL prefix."""
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(docs.bp)
    app.register_blueprint(stocks.bp, url_prefix="/stocks")
    app.register_blueprint(indices.bp, url_prefix="/indices")
    app.register_blueprint(market.bp, url_prefix="/market")
    app.register_blueprint(auth.bp, url_prefix="/auth")
    app.register_blueprint(auth.user_alias_bp, url_prefix="/user")
    app.register_blueprint(admin.bp, url_prefix="/admin")
    app.register_blueprint(provider.bp, url_prefix="/admin/provider")
    app.register_blueprint(news.bp, url_prefix="/news")
    app.register_blueprint(sentiment.bp, url_prefix="/sentiment")
    app.register_blueprint(account.bp, url_prefix="/account")
    app.register_blueprint(orders.bp, url_prefix="/orders")
    app.register_blueprint(trades.bp, url_prefix="/trades")
    app.register_blueprint(portfolio.bp, url_prefix="/portfolio")
    app.register_blueprint(watchlists.bp, url_prefix="/watchlists")
    app.register_blueprint(scans.bp, url_prefix="/scans")
    app.register_blueprint(alerts.bp, url_prefix="/alerts")
    app.register_blueprint(fundamentals.bp, url_prefix="/fundamentals")
    app.register_blueprint(fundamentals.stock_bp, url_prefix="/stocks/fundamentals")
    app.register_blueprint(crawler_jobs.bp, url_prefix="/admin/crawler-jobs")
