-- Performance indexes, applied by `python -m backend migrate` after the migrations.
-- Idempotent on MySQL 8 and MariaDB 10.11: the runner skips an index that already exists
-- (MySQL has no CREATE INDEX IF NOT EXISTS), so keep one plain CREATE INDEX per statement.

-- Movers: top-N by change vs previous close, vs day open, and by traded volume/value.
CREATE INDEX ix_stock_quotes_change_pct ON stock_quotes (change_pct);
CREATE INDEX ix_stock_quotes_intraday_pct ON stock_quotes (intraday_change_pct);
CREATE INDEX ix_stock_quotes_volume ON stock_quotes (volume);
CREATE INDEX ix_stock_quotes_traded_value ON stock_quotes (traded_value);

-- Sector performance and universe listings.
CREATE INDEX ix_stocks_sector ON stocks (sector);

-- The matcher reads the working orders (status OPEN or TRIGGER_PENDING) on every tick batch.
CREATE INDEX ix_orders_status_stock ON orders (status, stock_id);

-- Order book and fills pages: newest first per user, keyset pagination on the id.
CREATE INDEX ix_orders_user_order ON orders (user_id, order_id);
CREATE INDEX ix_trades_user_trade ON trades (user_id, trade_id);

-- Purging expired revoked tokens; newest news first.
CREATE INDEX ix_revoked_tokens_expires ON revoked_tokens (expires_at);
CREATE INDEX ix_news_published ON news (published_at);

-- News of one stock, newest first (the join back to news orders by published_at).
CREATE INDEX ix_news_symbols_stock ON news_symbols (stock_id, news_id);
