"""SQL and rules of price alerts: kinds and conditions, the alerts, firing once, triggers, the index's sources."""
