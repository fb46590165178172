-- Sub-events of one visit (talks with the president on day 1, with the foreign minister on
-- day 2) stay separate events and share a visit_id: the id of the visit's first event.
ALTER TABLE events ADD COLUMN visit_id VARCHAR;
UPDATE events SET visit_id = id;
