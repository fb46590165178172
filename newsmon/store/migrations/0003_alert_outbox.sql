-- Schema v3: the alert outbox's delivery state and what each alert told its reader.
-- alerts.status gains 'sending' (written and committed just before the POST; see docs/alerts.md).
-- alerts.event_id holds 'digest:YYYY-MM-DD' for the daily digest (no row in events).

-- When the last POST started: a row still 'sending' at the start of a delivery pass was cut off
-- by a crash, and this says when.
ALTER TABLE alerts ADD COLUMN attempted_at TIMESTAMP;
-- HTTP status of the last answer (NULL: no answer, e.g. a timeout or the console channel).
ALTER TABLE alerts ADD COLUMN http_status INTEGER;
-- The event's status and source count when the alert was queued: an update is queued when the
-- event has moved on from what its last alert said (planned -> occurred, more sources).
ALTER TABLE alerts ADD COLUMN event_status VARCHAR;
ALTER TABLE alerts ADD COLUMN event_sources INTEGER;
-- 1, 2, ... for updates (part of their idempotency key event:update:channel:n), NULL otherwise.
ALTER TABLE alerts ADD COLUMN update_no INTEGER;

UPDATE alerts SET event_status = (SELECT e.status FROM events e WHERE e.id = alerts.event_id),
                  event_sources = (SELECT e.sources FROM events e WHERE e.id = alerts.event_id);
