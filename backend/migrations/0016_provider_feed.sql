-- The market-data provider's shared state (docs/REALTIME.md, Upstox).
-- provider_tokens: the access token an administrator set at run time (POST /admin/provider/token),
-- encrypted with Fernet under PROVIDER_TOKEN_KEY; every process reads it, and it wins over the
-- environment's UPSTOX_ACCESS_TOKEN. The plaintext is never stored.
CREATE TABLE IF NOT EXISTS provider_tokens (
    provider        VARCHAR(32)     NOT NULL,
    token_encrypted VARBINARY(4096) NOT NULL,
    set_by          BIGINT          NULL,
    set_at          DATETIME(3)     NOT NULL,
    PRIMARY KEY (provider)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- market_feed_state: what the leader's feed is doing (streaming / polling / down, and why) and the
-- exchange's own word on the session (Upstox segment status of NSE_EQ, for its IST day). The leader
-- rewrites the row on every change and at least every few seconds; the other processes read it for
-- /healthz and the market phase, and ignore a row that stopped being refreshed.
CREATE TABLE IF NOT EXISTS market_feed_state (
    provider        VARCHAR(32)     NOT NULL,
    mode            VARCHAR(16)     NOT NULL,
    reason          VARCHAR(64)     NULL,
    exchange_status VARCHAR(32)     NULL,
    status_day      DATE            NULL,
    leader          VARCHAR(255)    NOT NULL,
    updated_at      DATETIME(3)     NOT NULL,
    PRIMARY KEY (provider)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
