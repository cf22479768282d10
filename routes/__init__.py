"""Blueprint registry: every URL prefix of the app is set here."""

from flask import Flask

from routes import account, docs, health, orders, portfolio, trades, watchlists


def register_blueprints(app: Flask) -> None:
    """Register every blueprint with its URL prefix."""
    app.register_blueprint(health.bp)
    app.register_blueprint(docs.bp)
    app.register_blueprint(account.bp, url_prefix="/account")
    app.register_blueprint(orders.bp, url_prefix="/orders")
    app.register_blueprint(trades.bp, url_prefix="/trades")
    app.register_blueprint(portfolio.bp, url_prefix="/portfolio")
    app.register_blueprint(watchlists.bp, url_prefix="/watchlists")
