"""SQL of the fundamentals: the per-instrument figures and quarters, and the crawler jobs that fill them."""
