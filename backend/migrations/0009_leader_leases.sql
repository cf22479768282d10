-- Who leads (runs the writers and pollers): the process holding the MySQL named lock writes itself
-- here when elected. A row is current only while its connection still holds the lock
-- (IS_USED_LOCK(name) = connection_id); the lock itself is the source of truth.
CREATE TABLE IF NOT EXISTS leader_leases (
    name            VARCHAR(64)     NOT NULL,
    holder          VARCHAR(255)    NOT NULL,
    connection_id   BIGINT UNSIGNED NOT NULL,
    acquired_at     DATETIME(3)     NOT NULL,
    PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
