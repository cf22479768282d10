"""Blueprint registry: every URL prefix of the app is set here."""

from flask import Flask

from routes import docs, health, indices, market, stocks


def register_blueprints(app: Flask) -> None:
    """Register every blueprint with its URL prefix."""
    app.register_blueprint(health.bp)
    app.register_blueprint(docs.bp)
    app.register_blueprint(stocks.bp, url_prefix="/stocks")
    app.register_blueprint(indices.bp, url_prefix="/indices")
    app.register_blueprint(market.bp, url_prefix="/market")
