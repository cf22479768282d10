"""Blueprint registry: every URL prefix of the app is set here."""

from flask import Flask

from routes import admin, auth, dashboard, docs, health, indices, market, news, sentiment, stocks


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
    app.register_blueprint(news.bp, url_prefix="/news")
    app.register_blueprint(sentiment.bp, url_prefix="/sentiment")
