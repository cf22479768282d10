-- Fundamentals per instrument (docs/FUNDAMENTALS.md) and the crawler jobs that fill them. Runs on MySQL 8 and
-- MariaDB 10.11. Ratios that depend on the price (P/E, PEG, P/B, yield, market cap) are never stored: they are
-- computed at read time from the current price.

-- One row per stock: the latest crawl's figures, where they came from and when.
CREATE TABLE IF NOT EXISTS fundamentals (
    stock_id             INT UNSIGNED NOT NULL,
    source               VARCHAR(16)   NOT NULL,
    as_of                DATETIME(3)   NOT NULL,
    period_end           DATE          NULL,
    shares_outstanding   BIGINT UNSIGNED NULL,
    eps_ttm              DECIMAL(14,4) NULL,
    eps_growth_yoy_pct   DOUBLE        NULL,
    eps_cagr_3y_pct      DOUBLE        NULL,
    book_value_per_share DECIMAL(14,4) NULL,
    dividend_per_share   DECIMAL(14,4) NULL,
    roe_pct              DOUBLE        NULL,
    debt_to_equity       DOUBLE        NULL,
    updated_at           DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    PRIMARY KEY (stock_id),
    CONSTRAINT fk_fundamentals_stock FOREIGN KEY (stock_id) REFERENCES stocks (stock_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The last 8 quarters' results of each stock (a crawl replaces a stock's quarters).
CREATE TABLE IF NOT EXISTS fundamental_quarters (
    stock_id             INT UNSIGNED NOT NULL,
    period_end           DATE          NOT NULL,
    revenue              DECIMAL(20,2) NULL,
    net_profit           DECIMAL(20,2) NULL,
    eps                  DECIMAL(14,4) NULL,
    PRIMARY KEY (stock_id, period_end),
    CONSTRAINT fk_fundamental_quarters_stock FOREIGN KEY (stock_id) REFERENCES stocks (stock_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A crawler job: what to crawl (symbols, or the whole universe), from which source, when (a 5-field cron
-- expression in Asia/Kolkata; next_run_at is its next firing in UTC, NULL when unscheduled or disabled).
CREATE TABLE IF NOT EXISTS crawler_jobs (
    crawler_job_id       BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    name                 VARCHAR(100)  NOT NULL,
    universe_all         TINYINT(1)    NOT NULL DEFAULT 0,
    symbols              LONGTEXT      NOT NULL,
    source               VARCHAR(16)   NOT NULL,
    metadata             LONGTEXT      NOT NULL,
    schedule             VARCHAR(100)  NULL,
    enabled              TINYINT(1)    NOT NULL DEFAULT 1,
    next_run_at          DATETIME(3)   NULL,
    created_by           BIGINT UNSIGNED NULL,
    created_at           DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at           DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    PRIMARY KEY (crawler_job_id),
    UNIQUE KEY uq_crawler_jobs_name (name),
    KEY ix_crawler_jobs_due (enabled, next_run_at),
    CONSTRAINT fk_crawler_jobs_creator FOREIGN KEY (created_by) REFERENCES users (user_id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Each run of a crawler job is a row of `jobs` (kind 'crawl'); this links it to its crawler job.
CREATE TABLE IF NOT EXISTS crawler_runs (
    job_id               BIGINT UNSIGNED NOT NULL,
    crawler_job_id       BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (job_id),
    KEY ix_crawler_runs_job (crawler_job_id, job_id),
    CONSTRAINT fk_crawler_runs_run FOREIGN KEY (job_id) REFERENCES jobs (job_id) ON DELETE CASCADE,
    CONSTRAINT fk_crawler_runs_job FOREIGN KEY (crawler_job_id) REFERENCES crawler_jobs (crawler_job_id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
