-- A counter bumped in the same transaction as any change to what the user's holdings are worth
-- (a quantity or an average price; not reserved quantities). Trading reads it with the locked account
-- row and keys its cache of holding costs by it, so valuing the account after an order that left
-- the holdings as they were needs no query.
ALTER TABLE accounts ADD COLUMN holdings_version BIGINT UNSIGNED NOT NULL DEFAULT 0;
