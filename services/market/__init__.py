"""Market views: the market clock, the live-price cache and its overlay on snapshots, stock and index views,
history and the hot-cache refresher.
"""
