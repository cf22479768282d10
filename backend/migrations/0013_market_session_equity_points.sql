-- The market session an administrator chose at run time (PUT /admin/market/session): one row, read by every
-- process. 'exchange' follows the exchange calendar; 'simulated' holds the market open for the simulator.
-- No row: the settings' default (SIM_ALWAYS_OPEN / FORCE_MARKET_OPEN).
CREATE TABLE IF NOT EXISTS market_session (
    id              TINYINT UNSIGNED NOT NULL,
    mode            ENUM('exchange', 'simulated') NOT NULL,
    updated_by      BIGINT UNSIGNED NULL,
    updated_at      DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    CONSTRAINT ck_market_session_one_row CHECK (id = 1)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Intraday equity of every account: every 5 minutes while the market is open and at each fill, kept 30 days
-- (the daily closes stay in portfolio_snapshots). ts is UTC.
CREATE TABLE IF NOT EXISTS equity_points (
    user_id         BIGINT UNSIGNED NOT NULL,
    ts              DATETIME(3)  NOT NULL,
    equity          DECIMAL(18,2) NOT NULL,
    cash            DECIMAL(18,2) NOT NULL,
    holdings_value  DECIMAL(18,2) NOT NULL,
    PRIMARY KEY (user_id, ts),
    KEY ix_equity_points_ts (ts),
    CONSTRAINT fk_equity_points_user FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
