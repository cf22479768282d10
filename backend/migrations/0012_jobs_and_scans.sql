-- Background jobs (scans now, crawler runs later) and the scanner's tables. Runs on MySQL 8 and MariaDB 10.11.

-- One row per job: claimed by one process (SELECT ... FOR UPDATE SKIP LOCKED on queued rows), which keeps
-- heartbeat_at fresh while it runs; a running job whose heartbeat is older than three intervals is failed.
CREATE TABLE IF NOT EXISTS jobs (
    job_id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    kind             VARCHAR(32)  NOT NULL,
    owner_id         BIGINT UNSIGNED NULL,
    params           LONGTEXT     NOT NULL,
    status           ENUM('queued', 'running', 'completed', 'failed', 'cancelled') NOT NULL DEFAULT 'queued',
    progress_percent DOUBLE       NOT NULL DEFAULT 0,
    processed        INT UNSIGNED NOT NULL DEFAULT 0,
    total            INT UNSIGNED NOT NULL DEFAULT 0,
    current_item     VARCHAR(64)  NULL,
    message          VARCHAR(255) NULL,
    result           LONGTEXT     NULL,
    error            VARCHAR(500) NULL,
    cancel_requested TINYINT(1)   NOT NULL DEFAULT 0,
    claimed_by       VARCHAR(128) NULL,
    heartbeat_at     DATETIME(3)  NULL,
    created_at       DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    started_at       DATETIME(3)  NULL,
    finished_at      DATETIME(3)  NULL,
    PRIMARY KEY (job_id),
    KEY ix_jobs_status_kind (status, kind, job_id),
    KEY ix_jobs_owner_kind (owner_id, kind, job_id),
    CONSTRAINT fk_jobs_owner FOREIGN KEY (owner_id) REFERENCES users (user_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Single-use tickets for a job's Server-Sent Events stream (an EventSource cannot send a Bearer header).
CREATE TABLE IF NOT EXISTS job_event_tickets (
    ticket_hash      CHAR(64)     NOT NULL,
    job_id           BIGINT UNSIGNED NOT NULL,
    user_id          BIGINT UNSIGNED NOT NULL,
    expires_at       DATETIME(3)  NOT NULL,
    used_at          DATETIME(3)  NULL,
    PRIMARY KEY (ticket_hash),
    KEY ix_job_event_tickets_expires (expires_at),
    CONSTRAINT fk_job_event_tickets_job FOREIGN KEY (job_id) REFERENCES jobs (job_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A scan's matching (symbol, day) rows; analytics are float64 (DOUBLE), rounded as served (docs/SCANS.md).
CREATE TABLE IF NOT EXISTS scan_results (
    job_id           BIGINT UNSIGNED NOT NULL,
    row_no           INT UNSIGNED NOT NULL,
    stock_id         INT UNSIGNED NOT NULL,
    day              DATE         NOT NULL,
    open                     DOUBLE NULL,
    high                     DOUBLE NULL,
    low                      DOUBLE NULL,
    close                    DOUBLE NULL,
    volume                   DOUBLE NULL,
    prev_close               DOUBLE NULL,
    prev_high                DOUBLE NULL,
    gap_pct                  DOUBLE NULL,
    change_pct               DOUBLE NULL,
    ema9                     DOUBLE NULL,
    ema20                    DOUBLE NULL,
    ema50                    DOUBLE NULL,
    ema200                   DOUBLE NULL,
    atr14                    DOUBLE NULL,
    high_chg_atr             DOUBLE NULL,
    dist_h_9ema_atr          DOUBLE NULL,
    dist_h_20ema_atr         DOUBLE NULL,
    close_range              DOUBLE NULL,
    dollar_volume            DOUBLE NULL,
    avg_volume20             DOUBLE NULL,
    rel_volume               DOUBLE NULL,
    rsi14                    DOUBLE NULL,
    high_52w                 DOUBLE NULL,
    low_52w                  DOUBLE NULL,
    prev_high_52w            DOUBLE NULL,
    pct_from_high_52w        DOUBLE NULL,
    parabolic_score          DOUBLE NULL,
    lc_frontside_d2_extended DOUBLE NULL,
    PRIMARY KEY (job_id, row_no),
    CONSTRAINT fk_scan_results_job FOREIGN KEY (job_id) REFERENCES jobs (job_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Saved scan definitions (a name and the POST /scans body), run again from the dashboard.
CREATE TABLE IF NOT EXISTS scan_definitions (
    definition_id    BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    user_id          BIGINT UNSIGNED NOT NULL,
    name             VARCHAR(100) NOT NULL,
    params           LONGTEXT     NOT NULL,
    created_at       DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (definition_id),
    UNIQUE KEY uq_scan_definitions_user_name (user_id, name),
    CONSTRAINT fk_scan_definitions_user FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
