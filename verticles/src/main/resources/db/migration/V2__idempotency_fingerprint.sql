-- What a message id was first used for: a hash of the request, so that the same id sent with a different request
-- is refused instead of answered with the first request's reply. Rows written before this column have none.
ALTER TABLE idempotency_keys ADD COLUMN fingerprint bytea;
