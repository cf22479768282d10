"""News headlines with sentiment and symbol tags."""

from __future__ import annotations

import re

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field, field_validator

from controller.news.headlines import NewsRow
from routes._params import Symbol
from routes.validation import query_params
from services.news.headlines import latest_news
from utils.timeutil import iso_ist

bp = Blueprint("news", __name__)
_INTEGER = re.compile(r"-?[0-9]+")


class LatestNewsQuery(BaseModel):
    """Query of GET /news/latest."""

    model_config = ConfigDict(extra="ignore")

    limit: int = Field(12, ge=1, le=50)
    q: str | None = Field(None, max_length=100, description="Words searched in headline and summary")
    symbol: Symbol | None = Field(None, description="Only headlines tagged with this symbol (404 if unknown)")

    @field_validator("limit", mode="before")
    @classmethod
    def _digits_only(cls, value: object) -> object:
        if isinstance(value, str) and not _INTEGER.fullmatch(value):
            raise ValueError("must be an integer")
        return value

    @field_validator("q", mode="after")
    @classmethod
    def _blank_is_absent(cls, value: str | None) -> str | None:
        return (value.strip() or None) if value else None


def news_json(row: NewsRow) -> dict:
    """One item in the shape of docs/API.md."""
    return {
        "headline": row.headline,
        "source": row.source,
        "summary": row.summary,
        "timestamp": iso_ist(row.published_at),
        "imageUrl": row.image_url,
        "url": row.url,
        "category": row.category,
        "sentiment": {"label": row.sentiment_label, "score": float(row.sentiment_score)},
        "symbols": list(row.symbols),
    }


@bp.get("/latest")
@query_params(LatestNewsQuery)
def latest(query: LatestNewsQuery):
    """Newest headlines; `q` searches headline and summary, `symbol` keeps those tagged with it (404 if unknown)."""
    rows = latest_news(query.limit, query.q, query.symbol)
    return {"status": "success", "data": [news_json(row) for row in rows], "count": len(rows)}
