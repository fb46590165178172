-- Schema v7: the kind of each participant (issue 16): state, parliament, party, opposition,
-- armed_group, civic or former. Rows stored before v7 were state officials only (the reader
-- dropped every other kind), so they take the default 'state'.
ALTER TABLE event_participants ADD COLUMN kind VARCHAR DEFAULT 'state';
UPDATE event_participants SET kind = 'state' WHERE kind IS NULL;

-- The meetings view of v6 with three new columns: kind (the event's kind outside the state,
-- else 'state'), kinds_by_country (MAP country -> kinds: kinds_by_country['SYR']) and
-- kinds_text ("RUS: state; SYR: opposition"); participants name a kind outside the state.
CREATE OR REPLACE VIEW meetings AS
WITH source_rows AS (
    SELECT ea.event_id, a.id AS article_id, a.url, a.title, ea.sentence,
           coalesce(nullif(a.site, ''), nullif(f.title, ''),
                    regexp_extract(a.url, '^[A-Za-z]+://([^/:]+)', 1)) AS outlet,
           -- When the outlet published it; newsmon's own first sight when the page gave no date.
           coalesce(a.published_at, a.first_seen_at) AS reported_at,
           row_number() OVER (
               PARTITION BY ea.event_id
               ORDER BY coalesce(a.published_at, a.first_seen_at), ea.added_at, a.url
           ) AS report_no,
           -- The evidence: a report that states the meeting as having happened, as news,
           -- before announcements and background; among those the earliest (issue 18).
           row_number() OVER (
               PARTITION BY ea.event_id
               ORDER BY CASE WHEN ea.report_status = 'occurred' AND ea.report_new THEN 0
                             WHEN ea.report_status = 'occurred' THEN 1 ELSE 2 END,
                        coalesce(a.published_at, a.first_seen_at), ea.added_at, a.url
           ) AS evidence_no
    FROM event_articles ea
    JOIN articles a ON a.id = ea.article_id
    LEFT JOIN feeds f ON f.url = a.feed_url
),
sources AS (
    SELECT event_id,
           list(url ORDER BY report_no) AS source_urls,
           list(outlet ORDER BY report_no) AS source_outlets,
           count(*) AS source_count
    FROM source_rows GROUP BY event_id
),
participant_rows AS (
    SELECT p.*,
           -- Seniority, most senior first (the watchlist's role levels).
           CASE p.level WHEN 'head_of_state' THEN 1 WHEN 'head_of_government' THEN 2
                WHEN 'minister' THEN 3 WHEN 'deputy_minister' THEN 4 WHEN 'envoy' THEN 5
                WHEN 'ambassador' THEN 6 WHEN 'military' THEN 7 WHEN 'official' THEN 8
                WHEN 'leader' THEN 9 WHEN 'member' THEN 10
                WHEN 'former' THEN 11 ELSE 12 END AS level_rank
    FROM event_participants p
),
country_kinds AS (
    SELECT event_id, country, list(DISTINCT kind ORDER BY kind) AS kinds
    FROM event_participants GROUP BY event_id, country
),
kinds AS (
    SELECT event_id,
           map_from_entries(list(struct_pack(k := country, v := kinds) ORDER BY country))
               AS kinds_by_country,
           string_agg(country || ': ' || array_to_string(kinds, ', '), '; ' ORDER BY country)
               AS kinds_text,
           -- The event's kind: the first kind outside the state a participant has, in the
           -- order of newsmon.analysis.watchlist.KINDS; 'state' when every one is.
           coalesce(min(list_position(['parliament', 'party', 'opposition', 'armed_group',
                                       'civic', 'former'], k.kind)), 0) AS kind_rank
    FROM country_kinds, unnest(kinds) AS k(kind) GROUP BY event_id
),
participants AS (
    SELECT event_id,
           string_agg(name || ' (' || country || coalesce(', ' || role, '')
                      || CASE WHEN kind = 'state' THEN '' ELSE ', ' || kind END || ')', '; '
                      ORDER BY country, level_rank, name) AS participants,
           list(name ORDER BY country, level_rank, name) AS participant_names,
           list(DISTINCT country ORDER BY country) AS countries,
           arg_min(level, level_rank) AS highest_level
    FROM participant_rows GROUP BY event_id
)
SELECT
    e.id AS event_id,
    e.type AS event_type,
    e.status,
    e.event_date,
    e.date_precision,
    -- The date as precisely as it is known: 2025-12-24, 2025-10 (month) or 2025 (year).
    CASE e.date_precision WHEN 'month' THEN strftime(e.event_date, '%Y-%m')
         WHEN 'year' THEN strftime(e.event_date, '%Y')
         ELSE strftime(e.event_date, '%Y-%m-%d') END AS event_date_text,
    e.place,
    p.participants,
    p.participant_names,
    p.countries,
    p.highest_level,
    coalesce(['parliament', 'party', 'opposition', 'armed_group', 'civic', 'former'][k.kind_rank],
             'state') AS kind,
    k.kinds_by_country,
    k.kinds_text,
    s.source_count,
    fs.outlet AS first_source_outlet,
    fs.url AS first_source_url,
    fs.title AS first_source_title,
    fs.reported_at AS first_reported_at,
    ev.sentence AS evidence,
    s.source_outlets,
    s.source_urls,
    e.visit_id,
    e.is_new,
    EXISTS (SELECT 1 FROM alerts al WHERE al.event_id = e.id AND al.status = 'delivered')
        AS alerted,
    e.first_seen_at,
    e.last_seen_at,
    e.watchlist
FROM events e
LEFT JOIN participants p ON p.event_id = e.id
LEFT JOIN kinds k ON k.event_id = e.id
LEFT JOIN sources s ON s.event_id = e.id
LEFT JOIN source_rows fs ON fs.event_id = e.id AND fs.report_no = 1
LEFT JOIN source_rows ev ON ev.event_id = e.id AND ev.evidence_no = 1;
