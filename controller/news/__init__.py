"""SQL of news headlines."""
