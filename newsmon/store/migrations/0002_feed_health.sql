-- Schema v2: feed health. A feed is never deleted or disabled by the poller; these columns let
-- `newsmon feeds` and the run summary say why a feed is failing, gone, moved or quiet.

-- When the feed was first registered: a feed that never produced an item turns quiet this long
-- after being added. Existing rows count from their first recorded poll.
ALTER TABLE feeds ADD COLUMN added_at TIMESTAMP;
-- Where a permanent redirect (301/308) sent the feed: polled instead of url, reported until the
-- config is updated. url stays the feed's identity (items and history keep pointing at it).
ALTER TABLE feeds ADD COLUMN moved_to VARCHAR;
-- HTTP status of the last poll (e.g. 410, 429, 503), so last_error_kind 'http_status' has its code.
ALTER TABLE feeds ADD COLUMN last_status_code INTEGER;
-- The feed's own <ttl> / sy:updatePeriod hint in seconds, kept for polls that parse nothing (304).
ALTER TABLE feeds ADD COLUMN declared_interval_s DOUBLE;

UPDATE feeds SET added_at = coalesce(last_success_at, last_polled_at);
