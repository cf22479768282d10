-- Core schema (docs/ARCHITECTURE.md, where each kind of state lives). Runs on MySQL 8 and MariaDB 10.11.
-- Prices DECIMAL(14,4), money DECIMAL(18,2), times UTC DATETIME(3).

CREATE TABLE IF NOT EXISTS stocks (
    stock_id        INT UNSIGNED NOT NULL AUTO_INCREMENT,
    symbol          VARCHAR(32)  NOT NULL,
    exchange        VARCHAR(8)   NOT NULL DEFAULT 'NSE',
    isin            CHAR(12)     NULL,
    instrument_key  VARCHAR(64)  NULL,
    company_name    VARCHAR(200) NOT NULL,
    sector          VARCHAR(64)  NOT NULL,
    tick_size       DECIMAL(10,4) NOT NULL DEFAULT 0.05,
    lot_size        INT UNSIGNED NOT NULL DEFAULT 1,
    is_active       TINYINT(1)   NOT NULL DEFAULT 1,
    created_at      DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (stock_id),
    UNIQUE KEY uq_stocks_symbol_exchange (symbol, exchange),
    CONSTRAINT ck_stocks_tick CHECK (tick_size > 0),
    CONSTRAINT ck_stocks_lot CHECK (lot_size > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per stock: the latest quote. Movers and detail are index lookups here,
-- never a group-by over history.
CREATE TABLE IF NOT EXISTS stock_quotes (
    stock_id        INT UNSIGNED NOT NULL,
    ltp             DECIMAL(14,4) NOT NULL,
    prev_close      DECIMAL(14,4) NOT NULL,
    day_open        DECIMAL(14,4) NOT NULL,
    day_high        DECIMAL(14,4) NOT NULL,
    day_low         DECIMAL(14,4) NOT NULL,
    volume          BIGINT UNSIGNED NOT NULL DEFAULT 0,
    week52_high     DECIMAL(14,4) NULL,
    week52_low      DECIMAL(14,4) NULL,
    change_value    DECIMAL(14,4) AS (ltp - prev_close) STORED,
    change_pct      DECIMAL(10,4) AS (ROUND((ltp - prev_close) * 100 / NULLIF(prev_close, 0), 4)) STORED,
    intraday_change_pct DECIMAL(10,4) AS (ROUND((ltp - day_open) * 100 / NULLIF(day_open, 0), 4)) STORED,
    traded_value    DECIMAL(20,2) AS (ROUND(volume * ltp, 2)) STORED,
    as_of           DATETIME(3)  NOT NULL,
    source          VARCHAR(16)  NOT NULL DEFAULT 'database',
    PRIMARY KEY (stock_id),
    CONSTRAINT fk_stock_quotes_stock FOREIGN KEY (stock_id) REFERENCES stocks (stock_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Candles: timeframe '1m' (ts = minute start, UTC) and '1d' (ts = session open 09:15 IST in UTC).
CREATE TABLE IF NOT EXISTS stock_candles (
    stock_id        INT UNSIGNED NOT NULL,
    timeframe       ENUM('1m', '1d') NOT NULL,
    ts              DATETIME(3)  NOT NULL,
    open            DECIMAL(14,4) NOT NULL,
    high            DECIMAL(14,4) NOT NULL,
    low             DECIMAL(14,4) NOT NULL,
    close           DECIMAL(14,4) NOT NULL,
    volume          BIGINT UNSIGNED NOT NULL DEFAULT 0,
    PRIMARY KEY (stock_id, timeframe, ts),
    CONSTRAINT fk_stock_candles_stock FOREIGN KEY (stock_id) REFERENCES stocks (stock_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS indices (
    index_id        INT UNSIGNED NOT NULL AUTO_INCREMENT,
    name            VARCHAR(64)  NOT NULL,
    exchange        VARCHAR(8)   NOT NULL,
    tag             VARCHAR(16)  NOT NULL,
    instrument_key  VARCHAR(64)  NULL,
    display_order   SMALLINT UNSIGNED NOT NULL DEFAULT 0,
    PRIMARY KEY (index_id),
    UNIQUE KEY uq_indices_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS index_constituents (
    index_id        INT UNSIGNED NOT NULL,
    stock_id        INT UNSIGNED NOT NULL,
    weight          DECIMAL(9,6) NOT NULL,
    PRIMARY KEY (index_id, stock_id),
    KEY ix_index_constituents_stock (stock_id),
    CONSTRAINT fk_ic_index FOREIGN KEY (index_id) REFERENCES indices (index_id) ON DELETE CASCADE,
    CONSTRAINT fk_ic_stock FOREIGN KEY (stock_id) REFERENCES stocks (stock_id) ON DELETE CASCADE,
    CONSTRAINT ck_ic_weight CHECK (weight > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS index_quotes (
    index_id        INT UNSIGNED NOT NULL,
    ltp             DECIMAL(14,4) NOT NULL,
    prev_close      DECIMAL(14,4) NOT NULL,
    day_open        DECIMAL(14,4) NOT NULL,
    day_high        DECIMAL(14,4) NOT NULL,
    day_low         DECIMAL(14,4) NOT NULL,
    change_value    DECIMAL(14,4) AS (ltp - prev_close) STORED,
    change_pct      DECIMAL(10,4) AS (ROUND((ltp - prev_close) * 100 / NULLIF(prev_close, 0), 4)) STORED,
    as_of           DATETIME(3)  NOT NULL,
    source          VARCHAR(16)  NOT NULL DEFAULT 'database',
    PRIMARY KEY (index_id),
    CONSTRAINT fk_index_quotes_index FOREIGN KEY (index_id) REFERENCES indices (index_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS index_candles (
    index_id        INT UNSIGNED NOT NULL,
    timeframe       ENUM('1m', '1d') NOT NULL,
    ts              DATETIME(3)  NOT NULL,
    open            DECIMAL(14,4) NOT NULL,
    high            DECIMAL(14,4) NOT NULL,
    low             DECIMAL(14,4) NOT NULL,
    close           DECIMAL(14,4) NOT NULL,
    PRIMARY KEY (index_id, timeframe, ts),
    CONSTRAINT fk_index_candles_index FOREIGN KEY (index_id) REFERENCES indices (index_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS users (
    user_id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    email           VARCHAR(254) NOT NULL,
    name            VARCHAR(100) NOT NULL,
    password_hash   VARCHAR(255) NULL,
    google_sub      VARCHAR(64)  NULL,
    role            ENUM('user', 'admin') NOT NULL DEFAULT 'user',
    status          ENUM('active', 'blocked') NOT NULL DEFAULT 'active',
    created_at      DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at      DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    last_login_at   DATETIME(3)  NULL,
    PRIMARY KEY (user_id),
    UNIQUE KEY uq_users_email (email),
    UNIQUE KEY uq_users_google_sub (google_sub)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS revoked_tokens (
    jti             VARCHAR(64)  NOT NULL,
    user_id         BIGINT UNSIGNED NULL,
    token_type      ENUM('access', 'refresh') NOT NULL,
    expires_at      DATETIME(3)  NOT NULL,
    revoked_at      DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (jti)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- cash is the account's total cash (= starting_cash + sum(ledger.amount));
-- reserved is the part held for open buy orders; available = cash - reserved.
CREATE TABLE IF NOT EXISTS accounts (
    user_id         BIGINT UNSIGNED NOT NULL,
    cash            DECIMAL(18,2) NOT NULL,
    reserved        DECIMAL(18,2) NOT NULL DEFAULT 0,
    starting_cash   DECIMAL(18,2) NOT NULL,
    realized_pnl    DECIMAL(18,2) NOT NULL DEFAULT 0,
    created_at      DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at      DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    PRIMARY KEY (user_id),
    CONSTRAINT fk_accounts_user FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE,
    CONSTRAINT ck_accounts_cash CHECK (cash >= 0),
    CONSTRAINT ck_accounts_reserved CHECK (reserved >= 0 AND reserved <= cash)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS ledger (
    entry_id        BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    user_id         BIGINT UNSIGNED NOT NULL,
    amount          DECIMAL(18,2) NOT NULL,
    kind            VARCHAR(16)  NOT NULL,
    order_id        BIGINT UNSIGNED NULL,
    trade_id        BIGINT UNSIGNED NULL,
    balance_after   DECIMAL(18,2) NOT NULL,
    note            VARCHAR(200) NULL,
    created_at      DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (entry_id),
    KEY ix_ledger_user (user_id, entry_id),
    CONSTRAINT fk_ledger_user FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS orders (
    order_id        BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    user_id         BIGINT UNSIGNED NOT NULL,
    client_order_id VARCHAR(64)  NULL,
    stock_id        INT UNSIGNED NOT NULL,
    symbol          VARCHAR(32)  NOT NULL,
    side            ENUM('BUY', 'SELL') NOT NULL,
    order_type      ENUM('MARKET', 'LIMIT', 'SL', 'SL-M') NOT NULL,
    validity        ENUM('DAY', 'IOC') NOT NULL DEFAULT 'DAY',
    quantity        INT UNSIGNED NOT NULL,
    filled_quantity INT UNSIGNED NOT NULL DEFAULT 0,
    price           DECIMAL(14,4) NULL,
    trigger_price   DECIMAL(14,4) NULL,
    average_price   DECIMAL(14,4) NULL,
    reserved_amount DECIMAL(18,2) NOT NULL DEFAULT 0,
    status          ENUM('OPEN', 'TRIGGER_PENDING', 'COMPLETE', 'CANCELLED', 'REJECTED', 'EXPIRED') NOT NULL,
    reject_reason   VARCHAR(200) NULL,
    is_amo          TINYINT(1)   NOT NULL DEFAULT 0,
    created_at      DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at      DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    PRIMARY KEY (order_id),
    UNIQUE KEY uq_orders_client_id (user_id, client_order_id),
    KEY ix_orders_user_created (user_id, created_at),
    CONSTRAINT fk_orders_user FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE,
    CONSTRAINT fk_orders_stock FOREIGN KEY (stock_id) REFERENCES stocks (stock_id),
    CONSTRAINT ck_orders_qty CHECK (quantity > 0 AND filled_quantity <= quantity)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One fill per order (UNIQUE order_id): a double fill is impossible at the database level.
CREATE TABLE IF NOT EXISTS trades (
    trade_id        BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    order_id        BIGINT UNSIGNED NOT NULL,
    user_id         BIGINT UNSIGNED NOT NULL,
    stock_id        INT UNSIGNED NOT NULL,
    symbol          VARCHAR(32)  NOT NULL,
    side            ENUM('BUY', 'SELL') NOT NULL,
    quantity        INT UNSIGNED NOT NULL,
    price           DECIMAL(14,4) NOT NULL,
    executed_at     DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (trade_id),
    UNIQUE KEY uq_trades_order (order_id),
    KEY ix_trades_user (user_id, executed_at),
    CONSTRAINT fk_trades_order FOREIGN KEY (order_id) REFERENCES orders (order_id) ON DELETE CASCADE,
    CONSTRAINT fk_trades_user FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS holdings (
    user_id         BIGINT UNSIGNED NOT NULL,
    stock_id        INT UNSIGNED NOT NULL,
    quantity        INT UNSIGNED NOT NULL DEFAULT 0,
    reserved_quantity INT UNSIGNED NOT NULL DEFAULT 0,
    avg_price       DECIMAL(14,4) NOT NULL DEFAULT 0,
    updated_at      DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    PRIMARY KEY (user_id, stock_id),
    CONSTRAINT fk_holdings_user FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE,
    CONSTRAINT fk_holdings_stock FOREIGN KEY (stock_id) REFERENCES stocks (stock_id),
    CONSTRAINT ck_holdings_reserved CHECK (reserved_quantity <= quantity)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS watchlists (
    watchlist_id    BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    user_id         BIGINT UNSIGNED NOT NULL,
    name            VARCHAR(64)  NOT NULL,
    position        INT UNSIGNED NOT NULL DEFAULT 0,
    created_at      DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (watchlist_id),
    UNIQUE KEY uq_watchlists_user_name (user_id, name),
    CONSTRAINT fk_watchlists_user FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS watchlist_items (
    watchlist_id    BIGINT UNSIGNED NOT NULL,
    stock_id        INT UNSIGNED NOT NULL,
    position        INT UNSIGNED NOT NULL DEFAULT 0,
    added_at        DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (watchlist_id, stock_id),
    CONSTRAINT fk_wli_watchlist FOREIGN KEY (watchlist_id) REFERENCES watchlists (watchlist_id) ON DELETE CASCADE,
    CONSTRAINT fk_wli_stock FOREIGN KEY (stock_id) REFERENCES stocks (stock_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS news (
    news_id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    url_hash        CHAR(64)     NOT NULL,
    url             VARCHAR(2000) NOT NULL,
    headline        VARCHAR(500) NOT NULL,
    summary         TEXT         NULL,
    source          VARCHAR(100) NOT NULL,
    category        VARCHAR(64)  NULL,
    image_url       VARCHAR(2000) NULL,
    published_at    DATETIME(3)  NOT NULL,
    sentiment_label ENUM('positive', 'negative', 'neutral') NOT NULL DEFAULT 'neutral',
    sentiment_score DECIMAL(6,4) NOT NULL DEFAULT 0,
    symbols         VARCHAR(500) NOT NULL DEFAULT '',
    fetched_at      DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (news_id),
    UNIQUE KEY uq_news_url_hash (url_hash)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per scheduler job: its last run.
CREATE TABLE IF NOT EXISTS scheduler_runs (
    job_name        VARCHAR(64)  NOT NULL,
    last_started_at DATETIME(3)  NULL,
    last_finished_at DATETIME(3) NULL,
    last_duration_ms INT UNSIGNED NULL,
    last_status     ENUM('ok', 'error', 'running', 'skipped') NULL,
    last_error      VARCHAR(1000) NULL,
    run_count       BIGINT UNSIGNED NOT NULL DEFAULT 0,
    error_count     BIGINT UNSIGNED NOT NULL DEFAULT 0,
    host            VARCHAR(128) NULL,
    PRIMARY KEY (job_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
