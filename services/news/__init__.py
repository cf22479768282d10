"""News headlines, their feeds and simulated fallback, and market sentiment."""
