"""Fundamentals: providers, crawls and crawler jobs, and the PEG table at the current price (docs/FUNDAMENTALS.md)."""
