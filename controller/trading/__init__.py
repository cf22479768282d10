"""SQL and rules of paper trading: accounts, orders, fills, holdings, watchlists, the audit."""
