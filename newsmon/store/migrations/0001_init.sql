-- Schema v1: feeds, items, raw pages, articles, mentions, events, evidence, alert outbox, runs.
-- All timestamps are naive UTC (TIMESTAMP); dates of events are DATE with a precision column.

CREATE TABLE feeds (
    url              VARCHAR PRIMARY KEY,
    name             VARCHAR,
    title            VARCHAR,
    status           VARCHAR NOT NULL DEFAULT 'new',   -- new, ok, failing, gone, quiet
    etag             VARCHAR,
    last_modified    VARCHAR,
    body_hash        VARCHAR,
    failures         INTEGER NOT NULL DEFAULT 0,       -- consecutive failures
    last_error_kind  VARCHAR,
    last_error       VARCHAR,
    last_polled_at   TIMESTAMP,
    last_success_at  TIMESTAMP,
    last_new_item_at TIMESTAMP,
    next_poll_at     TIMESTAMP,
    items_total      BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE items (
    feed_url       VARCHAR NOT NULL,
    guid           VARCHAR NOT NULL,
    url            VARCHAR NOT NULL,
    canonical_url  VARCHAR NOT NULL,
    title          VARCHAR,
    published_at   TIMESTAMP,
    seen_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (feed_url, guid)
);

CREATE TABLE pages (
    canonical_url  VARCHAR PRIMARY KEY,
    url            VARCHAR NOT NULL,
    final_url      VARCHAR,
    fetched_at     TIMESTAMP NOT NULL,
    status_code    INTEGER,
    content_type   VARCHAR,
    headers        JSON,
    body_gzip      BLOB,              -- raw page, gzip-compressed, for replay without refetching
    body_sha256    VARCHAR,
    error_kind     VARCHAR,
    error          VARCHAR
);

CREATE TABLE articles (
    id                VARCHAR PRIMARY KEY,   -- first 16 hex of sha256(canonical_url)
    canonical_url     VARCHAR NOT NULL UNIQUE,
    url               VARCHAR NOT NULL,
    feed_url          VARCHAR,
    title             VARCHAR,
    author            VARCHAR,
    site              VARCHAR,
    published_at      TIMESTAMP,
    published_source  VARCHAR,               -- page, feed, url, none
    language          VARCHAR,
    text              VARCHAR,
    text_chars        INTEGER,
    extraction_path   VARCHAR,               -- trafilatura, trafilatura_recall, feed_summary, none
    status            VARCHAR NOT NULL,      -- ok, thin, empty, fetch_failed, refused, not_english
    error             VARCHAR,
    duplicate_of      VARCHAR,               -- id of the first copy of a near-identical text
    prefiltered       BOOLEAN,
    relevant          BOOLEAN,
    relevance         DOUBLE,
    reason            VARCHAR,
    first_seen_at     TIMESTAMP NOT NULL,
    analyzed_at       TIMESTAMP
);

CREATE TABLE mentions (
    article_id   VARCHAR NOT NULL,
    sentence     INTEGER NOT NULL,
    start_char   INTEGER NOT NULL,
    end_char     INTEGER NOT NULL,
    text         VARCHAR NOT NULL,
    label        VARCHAR NOT NULL,           -- spaCy label: PERSON, ORG, GPE, NORP, ...
    actor_id     VARCHAR,                    -- watchlist person id, side key, or inferred:...
    actor_name   VARCHAR,
    country      VARCHAR,                    -- ISO 3166 alpha-3 of the side
    kind         VARCHAR,                    -- person, office, country, demonym, capital, place, institution
    role         VARCHAR,                    -- office held at the article date
    inferred     BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (article_id, start_char, end_char, actor_id)
);

CREATE TABLE events (
    id               VARCHAR PRIMARY KEY,
    watchlist        VARCHAR NOT NULL,
    type             VARCHAR NOT NULL,       -- meeting, call, visit
    status           VARCHAR NOT NULL,       -- occurred, planned, cancelled
    event_date       DATE,
    date_precision   VARCHAR,                -- day, week, month, year
    place            VARCHAR,
    is_new           BOOLEAN NOT NULL,       -- within the window before its first report
    first_seen_at    TIMESTAMP NOT NULL,
    last_seen_at     TIMESTAMP NOT NULL,
    first_article_id VARCHAR,
    sources          INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE event_participants (
    event_id   VARCHAR NOT NULL,
    actor_id   VARCHAR NOT NULL,
    name       VARCHAR NOT NULL,
    country    VARCHAR NOT NULL,
    role       VARCHAR,
    level      VARCHAR,
    inferred   BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (event_id, actor_id)
);

CREATE TABLE event_articles (
    event_id    VARCHAR NOT NULL,
    article_id  VARCHAR NOT NULL,
    sentence    VARCHAR NOT NULL,            -- the evidence sentence
    event_date  DATE,                        -- the date as this article reported it
    added_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (event_id, article_id)
);

CREATE TABLE alerts (
    id               VARCHAR PRIMARY KEY,    -- idempotency key: event:kind:channel[:n]
    event_id         VARCHAR NOT NULL,
    kind             VARCHAR NOT NULL,       -- new, planned, update, test
    channel          VARCHAR NOT NULL,       -- console, slack, webhook
    status           VARCHAR NOT NULL,       -- pending, delivered, failed
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       VARCHAR,
    payload          JSON NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    next_attempt_at  TIMESTAMP,
    delivered_at     TIMESTAMP
);

CREATE TABLE runs (
    id           VARCHAR PRIMARY KEY,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP,
    status       VARCHAR NOT NULL,          -- running, ok, failed, skipped_locked
    summary      JSON,
    error        VARCHAR
);
