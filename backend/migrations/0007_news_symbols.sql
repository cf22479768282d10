-- Which stocks a news item mentions (the `symbol` filter of /news/latest), one row per pair.
-- news.symbols keeps the same tags as a comma list for display.
CREATE TABLE IF NOT EXISTS news_symbols (
    news_id         BIGINT UNSIGNED NOT NULL,
    stock_id        INT UNSIGNED NOT NULL,
    PRIMARY KEY (news_id, stock_id),
    CONSTRAINT fk_news_symbols_news FOREIGN KEY (news_id) REFERENCES news (news_id) ON DELETE CASCADE,
    CONSTRAINT fk_news_symbols_stock FOREIGN KEY (stock_id) REFERENCES stocks (stock_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
