"""Headline sentiment with VADER (lexicon and rules), extended with market vocabulary."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05

# VADER's lexicon comes from social media and misses how markets talk: "shares surge", "stock
# slumps". Valences are on VADER's -4..+4 scale, set close to its own neighbours ("gain" 2.4,
# "crash" -1.7, "weak" -1.9).
MARKET_LEXICON: dict[str, float] = {
    **dict.fromkeys(("surge", "surges", "surged", "soar", "soars", "soared"), 2.0),
    **dict.fromkeys(
        (
            "rally",
            "rallies",
            "rallied",
            "bullish",
            "outperform",
            "outperforms",
            "outperformed",
            "upgrade",
            "upgrades",
            "upgraded",
        ),
        1.8,
    ),
    **dict.fromkeys(("jump", "jumps", "jumped", "rebound", "rebounds", "rebounded", "beats"), 1.5),
    **dict.fromkeys(("climb", "climbs", "climbed", "rise", "rises", "rose", "gained", "advances"), 1.2),
    **dict.fromkeys(
        ("fall", "falls", "fell", "slip", "slips", "slipped", "declines", "declined", "drop", "drops", "dropped"), -1.2
    ),
    **dict.fromkeys(("sink", "sinks", "sank", "slowdown", "probe"), -1.5),
    **dict.fromkeys(
        (
            "selloff",
            "sell-off",
            "underperform",
            "underperforms",
            "underperformed",
            "downgrade",
            "downgrades",
            "downgraded",
            "default",
            "defaults",
        ),
        -1.8,
    ),
    **dict.fromkeys(("slump", "slumps", "slumped", "tumble", "tumbles", "tumbled", "crashes", "crashed"), -2.0),
    **dict.fromkeys(("plunge", "plunges", "plunged", "rout", "bearish"), -2.2),
}

_lock = threading.Lock()
_analyzer: SentimentIntensityAnalyzer | None = None


@dataclass(frozen=True)
class Sentiment:
    """A label (positive/negative/neutral) and VADER's compound score in [-1, 1]."""

    label: str
    score: float


def _get_analyzer() -> SentimentIntensityAnalyzer:
    """The shared analyzer, built when the first text is scored (a process that scores nothing never loads it)."""
    global _analyzer
    if _analyzer is None:
        with _lock:
            if _analyzer is None:
                analyzer = SentimentIntensityAnalyzer()
                analyzer.lexicon.update(MARKET_LEXICON)
                # VADER keeps both word lists' whole file texts (0.8 MiB) after parsing them into its dicts, which
                # are all that scoring reads
                analyzer.lexicon_full_filepath = analyzer.emoji_full_filepath = ""
                _analyzer = analyzer
    return _analyzer


def label_for(compound: float) -> str:
    """positive at compound >= 0.05, negative at <= -0.05, else neutral (VADER's own thresholds)."""
    if compound >= POSITIVE_AT:
        return "positive"
    if compound <= NEGATIVE_AT:
        return "negative"
    return "neutral"


def score_text(text: str) -> Sentiment:
    """The sentiment of a headline (or any short text)."""
    compound = round(float(_get_analyzer().polarity_scores(text or "")["compound"]), 4)
    return Sentiment(label_for(compound), compound)
