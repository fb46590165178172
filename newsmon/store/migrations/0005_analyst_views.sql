-- Schema v5: stable, readable views for analysts (docs/schema.md). Views hold no data: they are
-- recomputed on every read, so they never go stale and cost nothing to migrate. Their column
-- names are a contract: add columns freely, rename or drop one only in a new migration that says so.
-- Times are naive UTC (TIMESTAMP), like the tables.

-- One row per event (meeting, call or visit), with its participants, first source and sources.
CREATE VIEW meetings AS
WITH source_rows AS (
    SELECT ea.event_id, a.id AS article_id, a.url, a.title, ea.sentence,
           coalesce(nullif(a.site, ''), nullif(f.title, ''),
                    regexp_extract(a.url, '^[A-Za-z]+://([^/:]+)', 1)) AS outlet,
           -- When the outlet published it; newsmon's own first sight when the page gave no date.
           coalesce(a.published_at, a.first_seen_at) AS reported_at,
           row_number() OVER (
               PARTITION BY ea.event_id
               ORDER BY coalesce(a.published_at, a.first_seen_at), ea.added_at, a.url
           ) AS report_no
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
                WHEN 'former' THEN 9 ELSE 10 END AS level_rank
    FROM event_participants p
),
participants AS (
    SELECT event_id,
           string_agg(name || ' (' || country || coalesce(', ' || role, '') || ')', '; '
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
    s.source_count,
    fs.outlet AS first_source_outlet,
    fs.url AS first_source_url,
    fs.title AS first_source_title,
    fs.reported_at AS first_reported_at,
    fs.sentence AS evidence,
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
LEFT JOIN sources s ON s.event_id = e.id
LEFT JOIN source_rows fs ON fs.event_id = e.id AND fs.report_no = 1;

-- One row per (article, actor): who each article mentions, how often, as what.
CREATE VIEW actor_mentions AS
WITH actor_names AS (
    -- One display name per actor: the most used name of its main kind (Syria, not Syrian).
    SELECT actor_id, arg_max(actor_name, score) AS actor_name
    FROM (
        SELECT actor_id, actor_name,
               count(*) + CASE WHEN kind IN ('person', 'country') THEN 1000000 ELSE 0 END AS score
        FROM mentions WHERE actor_id <> '' AND actor_name IS NOT NULL
        GROUP BY actor_id, actor_name, kind
    ) GROUP BY actor_id
)
SELECT
    m.article_id,
    a.published_at,
    coalesce(nullif(a.site, ''), nullif(f.title, ''),
             regexp_extract(a.url, '^[A-Za-z]+://([^/:]+)', 1)) AS outlet,
    a.title AS article_title,
    a.url AS article_url,
    coalesce(a.relevant, false) AS article_relevant,
    m.actor_id,
    n.actor_name,
    -- person (named or by office), country (name, demonym, capital), place, institution, media, group
    CASE WHEN bool_or(m.kind IN ('person', 'office')) THEN 'person'
         WHEN bool_or(m.kind IN ('country', 'demonym', 'capital')) THEN 'country'
         ELSE any_value(m.kind) END AS actor_type,
    any_value(m.country) AS country,
    -- The office held at the article's date (persons only).
    max(m.role) AS role_at_the_time,
    count(*) AS mention_count,
    -- False when every mention was resolved indirectly ('his Russian counterpart', 'the minister').
    bool_or(NOT m.inferred) AS named_explicitly,
    list(DISTINCT m.text ORDER BY m.text) AS as_written,
    min(m.sentence) AS first_sentence_no
FROM mentions m
JOIN articles a ON a.id = m.article_id
LEFT JOIN feeds f ON f.url = a.feed_url
JOIN actor_names n ON n.actor_id = m.actor_id
WHERE m.actor_id <> ''
GROUP BY m.article_id, a.published_at, a.site, f.title, a.title, a.url, a.relevant, m.actor_id,
         n.actor_name;

-- One row per relevant article, with what it names and the events it reports.
CREATE VIEW relevant_articles AS
WITH people AS (
    SELECT article_id,
           list(actor_name ORDER BY mention_count DESC, actor_name) FILTER (actor_type = 'person')
               AS people_mentioned,
           list(DISTINCT country ORDER BY country) FILTER (country IS NOT NULL)
               AS countries_mentioned
    FROM actor_mentions GROUP BY article_id
),
reported AS (
    SELECT article_id, count(*) AS event_count, list(event_id ORDER BY event_id) AS event_ids
    FROM event_articles GROUP BY article_id
)
SELECT
    a.id AS article_id,
    a.published_at,
    a.published_source AS published_at_from,
    a.first_seen_at,
    coalesce(nullif(a.site, ''), nullif(f.title, ''),
             regexp_extract(a.url, '^[A-Za-z]+://([^/:]+)', 1)) AS outlet,
    a.title,
    a.url,
    a.author,
    a.language,
    a.relevance AS relevance_score,
    a.reason AS relevance_reason,
    coalesce(p.people_mentioned, []) AS people_mentioned,
    coalesce(p.countries_mentioned, []) AS countries_mentioned,
    coalesce(r.event_count, 0) AS event_count,
    coalesce(r.event_ids, []) AS event_ids,
    a.duplicate_of AS near_duplicate_of,
    a.feed_url,
    a.text_chars,
    a.text
FROM articles a
LEFT JOIN feeds f ON f.url = a.feed_url
LEFT JOIN people p ON p.article_id = a.id
LEFT JOIN reported r ON r.article_id = a.id
WHERE a.relevant;

-- One row per feed: its health at the last poll and what it has brought in.
CREATE VIEW feed_health AS
WITH brought AS (
    SELECT a.feed_url,
           count(*) AS articles_stored,
           count(*) FILTER (a.relevant) AS relevant_articles,
           max(a.published_at) AS last_article_published_at
    FROM articles a GROUP BY a.feed_url
),
reported AS (
    SELECT a.feed_url, count(DISTINCT ea.event_id) AS events_reported
    FROM event_articles ea JOIN articles a ON a.id = ea.article_id GROUP BY a.feed_url
)
SELECT
    f.url AS feed_url,
    CASE WHEN f.name IS DISTINCT FROM f.url THEN f.name END AS feed_name,
    f.title AS feed_title,
    f.status,
    f.failures AS consecutive_failures,
    f.last_error_kind,
    f.last_status_code AS last_http_status,
    f.last_error,
    f.last_polled_at,
    f.last_success_at,
    f.last_new_item_at,
    f.next_poll_at,
    f.items_total AS items_seen,
    coalesce(b.articles_stored, 0) AS articles_stored,
    coalesce(b.relevant_articles, 0) AS relevant_articles,
    coalesce(r.events_reported, 0) AS events_reported,
    b.last_article_published_at,
    f.moved_to,
    f.declared_interval_s AS declared_interval_seconds,
    f.added_at
FROM feeds f
LEFT JOIN brought b ON b.feed_url = f.url
LEFT JOIN reported r ON r.feed_url = f.url;
