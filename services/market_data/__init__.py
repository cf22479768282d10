"""Market-data providers and the synthetic history generator."""
