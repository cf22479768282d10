"""SQL of the market data: instruments, quotes, candles, history, indices, search and breadth."""
