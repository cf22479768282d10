-- Paper trading (issue 6): the daily equity curve of every account.
-- One row per user and IST trading date, written after the close by the equity snapshot job.
CREATE TABLE IF NOT EXISTS portfolio_snapshots (
    user_id         BIGINT UNSIGNED NOT NULL,
    snapshot_date   DATE         NOT NULL,
    equity          DECIMAL(18,2) NOT NULL,
    cash            DECIMAL(18,2) NOT NULL,
    holdings_value  DECIMAL(18,2) NOT NULL,
    created_at      DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (user_id, snapshot_date),
    CONSTRAINT fk_portfolio_snapshots_user FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
