"""Price alerts: the in-memory index evaluated on every tick batch, firing (with the alert's paper order),
keeping the index in step with the database, the alert jobs and the `alert_triggered` event.
"""
