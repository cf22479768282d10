-- Price alerts (issue 20, docs/ALERTS.md). Runs on MySQL 8 and MariaDB 10.11.
-- An alert is one row; each time it fires, one alert_triggers row (unique per alert and trigger number, so a
-- trigger can never be recorded twice). `value` is a price, a percent or a volume depending on `kind` (NULL for
-- the 52-week kinds). `action` is the paper order placed when it fires, as JSON text (never read by SQL).
-- status 'deleted' is a tombstone: the API never shows it, and other processes learn of the deletion from it.
-- `revision` is the alert_revisions counter of the alert's last change that the in-memory indexes must see.
CREATE TABLE IF NOT EXISTS alerts (
    alert_id        BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    user_id         BIGINT UNSIGNED NOT NULL,
    instrument_type ENUM('stock', 'index') NOT NULL DEFAULT 'stock',
    symbol          VARCHAR(64)  NOT NULL,
    kind            ENUM('price_above', 'price_below', 'change_pct_above', 'change_pct_below', 'volume_above',
                         'new_high_52w', 'new_low_52w', 'near_upper_circuit', 'near_lower_circuit') NOT NULL,
    value           DECIMAL(20,4) NULL,
    fire_if_already TINYINT(1)   NOT NULL DEFAULT 0,
    note            VARCHAR(200) NULL,
    repeat_mode     ENUM('once', 'every') NOT NULL DEFAULT 'once',
    cooldown_s      INT UNSIGNED NOT NULL DEFAULT 300,
    expires_at      DATETIME(3)  NULL,
    action          VARCHAR(400) NULL,
    status          ENUM('active', 'triggered', 'expired', 'disabled', 'deleted') NOT NULL DEFAULT 'active',
    status_reason   VARCHAR(200) NULL,
    times_triggered INT UNSIGNED NOT NULL DEFAULT 0,
    triggered_at    DATETIME(3)  NULL,
    trigger_price   DECIMAL(20,4) NULL,
    revision        BIGINT UNSIGNED NOT NULL DEFAULT 0,
    created_at      DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at      DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (alert_id),
    KEY ix_alerts_user (user_id, status, alert_id),
    KEY ix_alerts_instrument (status, instrument_type, symbol),
    KEY ix_alerts_expiry (status, expires_at),
    KEY ix_alerts_revision (revision),
    CONSTRAINT fk_alerts_user FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per firing. seq = the alert's times_triggered after it fired (the order's client_order_id is
-- alert-<alert_id>-<seq>). order_state: none (no action), pending (fired, order not yet placed),
-- placed (order_id), rejected (error_code, error_message). Kept when the alert is deleted.
CREATE TABLE IF NOT EXISTS alert_triggers (
    trigger_id      BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    alert_id        BIGINT UNSIGNED NOT NULL,
    user_id         BIGINT UNSIGNED NOT NULL,
    seq             INT UNSIGNED NOT NULL,
    instrument_type ENUM('stock', 'index') NOT NULL,
    symbol          VARCHAR(64)  NOT NULL,
    kind            VARCHAR(32)  NOT NULL,
    value           DECIMAL(20,4) NULL,
    triggered_at    DATETIME(3)  NOT NULL,
    trigger_price   DECIMAL(20,4) NOT NULL,
    action          VARCHAR(400) NULL,
    order_state     ENUM('none', 'pending', 'placed', 'rejected') NOT NULL DEFAULT 'none',
    order_id        BIGINT UNSIGNED NULL,
    error_code      VARCHAR(64)  NULL,
    error_message   VARCHAR(300) NULL,
    read_at         DATETIME(3)  NULL,
    PRIMARY KEY (trigger_id),
    UNIQUE KEY uq_alert_triggers_seq (alert_id, seq),
    KEY ix_alert_triggers_user (user_id, trigger_id),
    KEY ix_alert_triggers_unread (user_id, read_at),
    KEY ix_alert_triggers_pending (order_state, triggered_at),
    CONSTRAINT fk_alert_triggers_user FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row: the revision of the last alert change the in-memory indexes must see. A change takes the next
-- value with LAST_INSERT_ID(revision + 1) (the row lock orders changes as they commit) and stamps its alerts;
-- every process polls this row and reads the alerts whose revision is newer than its own.
CREATE TABLE IF NOT EXISTS alert_revisions (
    id              TINYINT UNSIGNED NOT NULL,
    revision        BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT IGNORE INTO alert_revisions (id, revision) VALUES (1, 0);
