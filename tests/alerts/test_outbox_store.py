"""The outbox below the flow: routing, updates, ordering, crash recovery, retries, manual re-queue.

Events are stored with the real repo functions and delivered by the real task body
(deliver_alerts.fn) to real loopback endpoints answering like Slack.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from pydantic import SecretStr

from newsmon.alerts.outbox import (
    RetryRefused,
    alert_key,
    list_alerts,
    mark_sending,
    queue_event_alerts,
    requeue,
    status_counts,
)
from newsmon.alerts.policy import AlertPolicy, Route, update_change
from newsmon.alerts.slack_check import validate_slack_payload
from newsmon.analysis.pipeline import Analysis
from newsmon.cycle.pages import AlertRules, PageWork
from newsmon.models import Article, ArticleRow, EventMention, FeedItem, Participant
from newsmon.settings import load_settings
from newsmon.sources.fetch import FetchResult
from newsmon.store import connect, migrate, utcnow
from newsmon.store.events import store_event
from newsmon.store.repo import save_article
from tasks.alerts import DeliveryCounts, Destination, deliver_alerts
from tasks.store import store_batch
from tests.slack_endpoint import (
    OK,
    SERVER_ERROR,
    TIMEOUT,
    Answer,
    SlackEndpoint,
    slack_endpoint,
)

WATCHLIST = "syria-russia"
TITLE = "Syria–Russia relations"
PUTIN = Participant("vladimir-putin", "Vladimir Putin", "RUS", "president", "head_of_state")
LAVROV = Participant("sergey-lavrov", "Sergey Lavrov", "RUS", "foreign minister", "minister")
SHAIBANI = Participant("asaad-al-shaibani", "Asaad al-Shaibani", "SYR", "foreign minister",
                       "minister")
SLACK_ONLY = AlertPolicy(channels=("slack",))
TIMEOUT_S = 0.3


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a connection to a fresh, migrated database file (closed at the end)."""
    connection = connect(tmp_path / "outbox.duckdb")
    migrate(connection)
    yield connection
    connection.close()


def _report(
    who: tuple[Participant, ...], day: date, status: str = "occurred", place: str = "Moscow"
) -> EventMention:
    """Return one report of a meeting."""
    names = " and ".join(p.name for p in who)
    return EventMention("meeting", status, day, "day", "text", place, who,
                        f"{names} met in {place}.", 0, True)


_articles = iter(range(1, 10_000))


def _add(con: duckdb.DuckDBPyConnection, report: EventMention) -> str:
    """Store a new article carrying the report; return the event id it went to."""
    n = next(_articles)
    url = f"https://news.example/{n}"
    save_article(con, ArticleRow(
        f"a{n}", Article(url, f"Report {n}", "text", site="Example", published=utcnow(),
                         canonical_url=url), None, "ok",
    ))
    return store_event(con, WATCHLIST, f"a{n}", report, utcnow()).event_id


def _queue(
    con: duckdb.DuckDBPyConnection, event_id: str, kind: str | None,
    policy: AlertPolicy = SLACK_ONLY, since: datetime | None = None,
) -> int:
    """Queue what the event deserves now; return the rows queued."""
    now = utcnow()
    return queue_event_alerts(con, event_id, kind, policy, TITLE, now, since or now)


def _deliver(db: Path, destinations: dict[str, Destination], max_attempts: int = 8
             ) -> DeliveryCounts:
    """Run one delivery pass (the task body, without the Prefect engine)."""
    return deliver_alerts.fn(db, destinations, TIMEOUT_S, max_attempts)


def _make_due(db: Path) -> None:
    """Move every retry time into the past, as if the backoff had elapsed."""
    c = connect(db)
    try:
        c.execute("UPDATE alerts SET next_attempt_at = ? WHERE next_attempt_at IS NOT NULL",
                  [utcnow() - timedelta(seconds=1)])
    finally:
        c.close()


def _to(endpoint: SlackEndpoint) -> dict[str, Destination]:
    """Return destinations sending both URL channels to the endpoint."""
    url = SecretStr(endpoint.url)
    return {"slack": Destination(url), "webhook": Destination(url)}


# --------------------------------------------------------------------------------------------
# routing and update rules


def test_routes_per_watchlist_and_type_fall_back_to_channels() -> None:
    policy = AlertPolicy(
        channels=("console",),
        routes=(
            Route(("slack",), watchlist="syria-russia", types=("meeting",)),
            Route(("webhook", "slack"), types=("call",)),
            Route(("webhook",), watchlist="turkey-russia"),
        ),
    )
    assert policy.channels_for("syria-russia", "meeting") == ("slack",)
    assert policy.channels_for("syria-russia", "call") == ("webhook", "slack")
    assert policy.channels_for("turkey-russia", "call") == ("webhook", "slack")
    assert policy.channels_for("turkey-russia", "visit") == ("webhook",)
    assert policy.channels_for("syria-russia", "visit") == ("console",)  # no route matches
    assert policy.all_channels() == ("console", "slack", "webhook")
    # Backward compatible: no routes, alerts.channels decides everything.
    assert AlertPolicy(channels=("slack", "console")).channels_for("x", "y") == (
        "slack", "console")


def test_alert_settings_keys_parse_and_stay_strict(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "alerts:\n"
        "  channels: [console]\n"
        "  routes:\n"
        "    - {watchlist: syria-russia, types: [meeting, visit], channels: [slack]}\n"
        "    - {channels: [webhook]}\n"
        "  updates: false\n"
        "  max_updates_per_event_per_cycle: 2\n"
        "  digest: true\n"
        "  slack_secret_block: newsmon-slack\n"
    )
    alerts = load_settings(config).alerts
    policy = AlertPolicy.from_settings(alerts)
    assert policy.channels_for("syria-russia", "meeting") == ("slack", "webhook")
    assert policy.channels_for("other", "meeting") == ("webhook",)
    assert (policy.updates, policy.max_updates_per_event_per_cycle) == (False, 2)
    assert alerts.digest and alerts.slack_secret_block == "newsmon-slack"
    defaults = load_settings(None).alerts
    assert (defaults.updates, defaults.max_updates_per_event_per_cycle, defaults.digest) == (
        True, 1, False)
    from newsmon.settings import ConfigError

    config.write_text("alerts:\n  routes:\n    - {channels: [pager]}\n")
    with pytest.raises(ConfigError, match="routes"):
        load_settings(config)


def test_update_change() -> None:
    assert update_change("occurred", 2, "occurred", 2) is None
    assert update_change("occurred", 2, "occurred", 3) == "1 more source"
    assert update_change("planned", 1, "occurred", 1) == "now occurred"
    assert update_change("planned", 1, "occurred", 4) == "now occurred, 3 more sources"
    assert update_change("occurred", 3, "occurred", 2) is None  # never "fewer sources"


# --------------------------------------------------------------------------------------------
# queueing: first alerts, updates, idempotency keys


def test_first_alert_then_one_update_per_change_rate_limited(
    con: duckdb.DuckDBPyConnection,
) -> None:
    who = (LAVROV, SHAIBANI)
    day = date(2025, 12, 24)
    event_id = _add(con, _report(who, day))
    policy = AlertPolicy(channels=("slack", "webhook"))
    assert _queue(con, event_id, "new", policy) == 2
    assert _queue(con, event_id, "new", policy) == 0  # same idempotency key: nothing new
    assert _queue(con, event_id, None, policy) == 0  # nothing changed: no update

    cycle_1 = utcnow()
    assert _add(con, _report(who, day)) == event_id
    assert _add(con, _report(who, day)) == event_id
    assert _queue(con, event_id, None, policy, since=cycle_1) == 2  # one update per channel
    assert _add(con, _report(who, day)) == event_id
    # Same cycle: the quota (1 per event per cycle) is used; the change waits, it is not lost.
    assert _queue(con, event_id, None, policy, since=cycle_1) == 0
    cycle_2 = utcnow()
    assert _queue(con, event_id, None, policy, since=cycle_2) == 2
    assert _queue(con, event_id, None, policy, since=utcnow()) == 0  # nothing new since

    rows = {r.id: r for r in list_alerts(con)}
    assert set(rows) == {
        f"{event_id}:new:slack", f"{event_id}:new:webhook",
        f"{event_id}:update:slack:1", f"{event_id}:update:webhook:1",
        f"{event_id}:update:slack:2", f"{event_id}:update:webhook:2",
    }
    first = rows[f"{event_id}:update:slack:1"].payload
    assert first["text"].startswith("Update — 2 more sources: Meeting · Sergey Lavrov")
    assert rows[f"{event_id}:update:webhook:2"].payload["change"] == "1 more source"
    assert rows[f"{event_id}:update:webhook:2"].payload["source_count"] == 4
    for row in rows.values():
        if row.channel == "slack":
            assert validate_slack_payload(row.payload) == []


def test_updates_switched_off_or_quota_zero_send_none(con: duckdb.DuckDBPyConnection) -> None:
    who = (PUTIN, SHAIBANI)
    event_id = _add(con, _report(who, date(2025, 12, 23)))
    assert _queue(con, event_id, "new") == 1
    _add(con, _report(who, date(2025, 12, 23)))
    assert _queue(con, event_id, None, AlertPolicy(("slack",), updates=False)) == 0
    assert _queue(con, event_id, None, AlertPolicy(("slack",), max_updates_per_event_per_cycle=0)
                  ) == 0
    assert _queue(con, event_id, None) == 1


def test_planned_then_occurred_is_one_update(con: duckdb.DuckDBPyConnection) -> None:
    who = (LAVROV, SHAIBANI)
    event_id = _add(con, _report(who, date(2025, 12, 24), status="planned"))
    assert _queue(con, event_id, "planned") == 1
    assert _add(con, _report(who, date(2025, 12, 24))) == event_id
    assert _queue(con, event_id, None) == 1
    update = list_alerts(con)[0]
    assert update.id == alert_key(event_id, "update", "slack", 1)
    assert update.payload["text"].startswith("Update — now occurred, 1 more source: Meeting")


def test_an_event_that_never_alerted_gets_no_update(con: duckdb.DuckDBPyConnection) -> None:
    event_id = _add(con, _report((PUTIN, SHAIBANI), date(2025, 10, 15)))  # a past meeting
    _add(con, _report((PUTIN, SHAIBANI), date(2025, 10, 15)))
    assert _queue(con, event_id, None) == 0
    assert list_alerts(con) == []


# --------------------------------------------------------------------------------------------
# delivery


def test_outage_keeps_order_and_delivers_each_alert_once(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    db = tmp_path / "outbox.duckdb"
    # Three meetings reported out of order: the latest first, the earliest last.
    days = [date(2025, 12, 23), date(2025, 11, 20), date(2025, 10, 15)]
    places = ["Moscow", "Damascus", "Sochi"]
    ids = []
    for day, place in zip(days, places, strict=True):
        ids.append(_add(con, _report((PUTIN, SHAIBANI), day, place=place)))
        _queue(con, ids[-1], "new")
    assert len(set(ids)) == 3
    con.close()
    with slack_endpoint() as slack:
        slack.default = SERVER_ERROR
        first = _deliver(db, _to(slack))
        assert (first.delivered, first.retrying, first.waiting) == (0, 1, 2)
        assert len(slack.received) == 1  # a failing endpoint sees one request per pass
        _make_due(db)
        slack.default = OK
        slack.answer_next(OK, TIMEOUT)
        second = _deliver(db, _to(slack))
        assert (second.delivered, second.retrying, second.waiting) == (1, 1, 1)
        _make_due(db)
        third = _deliver(db, _to(slack))
        assert (third.delivered, third.retrying, third.waiting) == (2, 0, 0)
        assert _deliver(db, _to(slack)) == DeliveryCounts()
        dates = [body["blocks"][2]["fields"][2]["text"] for body in slack.delivered]
        assert dates == ["*Date*\n15 Oct 2025", "*Date*\n20 Nov 2025", "*Date*\n23 Dec 2025"]
        assert slack.problems == []
    c = connect(db, read_only=True)
    try:
        rows = {r.id: r for r in list_alerts(c)}
    finally:
        c.close()
    assert {r.status for r in rows.values()} == {"delivered"}
    # 23 Dec: sent once; 20 Nov: timed out, then sent; 15 Oct: 500, then sent.
    assert [rows[f"{i}:new:slack"].attempts for i in ids] == [1, 2, 2]


def test_rate_limit_honours_retry_after(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    db = tmp_path / "outbox.duckdb"
    _queue(con, _add(con, _report((PUTIN, SHAIBANI), date(2025, 12, 23))), "new")
    con.close()
    with slack_endpoint() as slack:
        slack.answer_next(Answer(429, "rate_limited", (("Retry-After", "7200"),)))
        before = utcnow()
        assert _deliver(db, _to(slack)).retrying == 1
        assert _deliver(db, _to(slack)).waiting == 1  # not due: nothing sent
        assert len(slack.received) == 1
    c = connect(db, read_only=True)
    try:
        (row,) = list_alerts(c)
    finally:
        c.close()
    assert (row.status, row.last_error, row.http_status) == ("pending", "rate_limited", 429)
    assert row.next_attempt_at is not None
    assert row.next_attempt_at >= before + timedelta(seconds=7199)


def test_4xx_fails_with_reason_and_does_not_block_the_channel(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    db = tmp_path / "outbox.duckdb"
    for day, place in ((date(2025, 10, 15), "Sochi"), (date(2025, 11, 20), "Damascus"),
                       (date(2025, 12, 23), "Moscow")):
        _queue(con, _add(con, _report((PUTIN, SHAIBANI), day, place=place)), "new")
    con.close()
    with slack_endpoint() as slack:
        slack.answer_next(Answer(400, "invalid_payload"), Answer(410, "channel_is_archived"))
        counts = _deliver(db, _to(slack))
        assert (counts.delivered, counts.failed) == (1, 2)
        assert [reason for _, reason in counts.failures] == [
            "invalid_payload", "channel_is_archived"]
        assert _deliver(db, _to(slack)) == DeliveryCounts()  # failed alerts are never retried
        assert len(slack.received) == 3


def test_retries_are_bounded(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    db = tmp_path / "outbox.duckdb"
    _queue(con, _add(con, _report((PUTIN, SHAIBANI), date(2025, 12, 23))), "new")
    con.close()
    with slack_endpoint() as slack:
        slack.default = SERVER_ERROR
        for _ in range(2):
            assert _deliver(db, _to(slack), max_attempts=3).retrying == 1
            _make_due(db)
        last = _deliver(db, _to(slack), max_attempts=3)
    assert last.failures[0][1] == "gave up after 3 attempts: server_error 500"


def test_interrupted_send_is_resent_once(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    db = tmp_path / "outbox.duckdb"
    event_id = _add(con, _report((PUTIN, SHAIBANI), date(2025, 12, 23)))
    _queue(con, event_id, "new")
    # What a crash between the POST and its mark leaves behind.
    mark_sending(con, f"{event_id}:new:slack", utcnow())
    assert status_counts(con)["sending"] == 1
    con.close()
    with slack_endpoint() as slack:
        counts = _deliver(db, _to(slack))
        assert (counts.resent, counts.delivered) == (1, 1)
        assert _deliver(db, _to(slack)) == DeliveryCounts()
        assert len(slack.received) == 1
    c = connect(db, read_only=True)
    try:
        (row,) = list_alerts(c)
    finally:
        c.close()
    assert (row.status, row.attempts) == ("delivered", 2)
    assert row.last_error == "ok; sent again after an interrupted send, may have arrived twice"


def test_missing_url_fails_and_unloadable_block_waits(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    db = tmp_path / "outbox.duckdb"
    policy = AlertPolicy(channels=("slack", "webhook", "console"))
    _queue(con, _add(con, _report((PUTIN, SHAIBANI), date(2025, 12, 23))), "new", policy)
    con.close()
    destinations = {
        "slack": Destination(None, "secret_unavailable: block 'x' not loaded (ValueError)",
                             transient=True),
        "webhook": Destination(None, "no URL configured for channel webhook"),
    }
    counts = _deliver(db, destinations)
    assert (counts.delivered, counts.retrying, counts.failed) == (1, 1, 1)  # console printed
    assert counts.failures[0][1] == "no URL configured for channel webhook"


def test_webhook_channel_sends_the_idempotency_key(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    db = tmp_path / "outbox.duckdb"
    event_id = _add(con, _report((PUTIN, SHAIBANI), date(2025, 12, 23)))
    _queue(con, event_id, "new", AlertPolicy(channels=("webhook",)))
    con.close()
    with slack_endpoint() as hook:
        assert _deliver(db, _to(hook)).delivered == 1
        (request,) = hook.received
    assert request.headers["Idempotency-Key"] == f"{event_id}:new:webhook"
    assert request.body["schema"] == "newsmon.alert/1" and request.body["event_id"] == event_id


def test_requeue_only_failed_alerts(con: duckdb.DuckDBPyConnection) -> None:
    event_id = _add(con, _report((PUTIN, SHAIBANI), date(2025, 12, 23)))
    _queue(con, event_id, "new", AlertPolicy(channels=("slack", "console")))
    key = f"{event_id}:new:slack"
    con.execute("UPDATE alerts SET status = 'failed', attempts = 8, last_error = "
                "'channel_is_archived' WHERE id = ?", [key])
    assert requeue(con, key).last_error == "channel_is_archived"
    row = next(r for r in list_alerts(con) if r.id == key)
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 0, None)
    assert row.last_error == "requeued by hand; was: channel_is_archived"
    with pytest.raises(RetryRefused, match="pending, not failed"):
        requeue(con, key)
    with pytest.raises(RetryRefused, match="no alert with id"):
        requeue(con, "nope")


def test_migration_fills_what_existing_alerts_told(tmp_path: Path) -> None:
    from newsmon.store import migrations

    c = duckdb.connect(str(tmp_path / "old.duckdb"))
    try:
        c.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR "
                  "NOT NULL, applied_at TIMESTAMP NOT NULL)")
        version, name, sql = migrations()[0]
        c.execute(sql)
        c.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, name, utcnow()])
        c.execute("INSERT INTO events VALUES ('e1', 'syria-russia', 'meeting', 'occurred', "
                  "'2025-12-23', 'day', 'Moscow', true, now(), now(), NULL, 3)")
        c.execute("INSERT INTO alerts VALUES ('e1:new:slack', 'e1', 'new', 'slack', "
                  "'delivered', 1, NULL, ?, now(), NULL, now())", [json.dumps({"text": "x"})])
        migrate(c)
        row = c.execute("SELECT event_status, event_sources, update_no FROM alerts").fetchone()
    finally:
        c.close()
    assert row == ("occurred", 3, None)


# --------------------------------------------------------------------------------------------
# the store task: a planned event that takes place


def _work(n: int, report: EventMention) -> tuple[PageWork, Analysis]:
    """Return a stored-page work item and its analysis carrying one event report."""
    url = f"https://news.example/story-{n}"
    published = datetime(2025, 12, 23, 9, 0)
    item = FeedItem("https://news.example/feed", f"g{n}", url, f"Story {n}", "", published)
    fetched = FetchResult(url, url, 200, {"content-type": "text/html"}, b"<p>x</p>", 0.01,
                          None, None)
    article = Article(url, f"Story {n}", "text", site="Example", published=published,
                      canonical_url=url)
    row = ArticleRow(f"story-{n}", article, item.feed_url, "ok")
    return PageWork(item, url, fetched, row), Analysis(row.id, True, True, 0.9, "test",
                                                      events=(report,))


def _store(db: Path, n: int, report: EventMention, alert_planned: bool, cycle: datetime) -> int:
    """Run the store task body on one report (one batch of a cycle); return the rows queued."""
    work, analysis = _work(n, report)
    counts = store_batch.fn(
        db, [work], {analysis.id: analysis}, WATCHLIST, TITLE, SLACK_ONLY,
        AlertRules(("meeting",), alert_planned, None), cycle,
    )
    return counts.alerts_queued


@pytest.mark.parametrize("alert_planned", [False, True])
def test_planned_meeting_that_takes_place(tmp_path: Path, alert_planned: bool) -> None:
    db = tmp_path / "store.duckdb"
    c = connect(db)
    migrate(c)
    c.close()
    who = (LAVROV, SHAIBANI)
    day = date(2025, 12, 24)
    cycle_1 = utcnow()
    planned = _store(db, 1, _report(who, day, status="planned"), alert_planned, cycle_1)
    assert planned == alert_planned
    cycle_2 = utcnow()
    assert _store(db, 2, _report(who, day), alert_planned, cycle_2) == 1
    # A later batch of the same cycle: no second message about the event this cycle...
    assert _store(db, 3, _report(who, day), alert_planned, cycle_2) == 0
    # ...the next cycle says what changed since the last message.
    assert _store(db, 4, _report(who, day), alert_planned, utcnow()) == 1
    c = connect(db, read_only=True)
    try:
        rows = sorted(list_alerts(c), key=lambda r: r.created_at)
    finally:
        c.close()
    texts = [r.payload["text"] for r in rows]
    if alert_planned:
        assert [(r.kind, r.update_no) for r in rows] == [
            ("planned", None), ("update", 1), ("update", 2)]
        assert texts[1].startswith("Update — now occurred, 1 more source: Meeting")
        assert texts[2].startswith("Update — 2 more sources: Meeting")
    else:
        # Never alerted while planned: its taking place is the first alert, a "new" one.
        assert [(r.kind, r.update_no) for r in rows] == [("new", None), ("update", 1)]
        assert texts[0].startswith("Meeting: Sergey Lavrov — Asaad al-Shaibani")
        assert texts[1].startswith("Update — 2 more sources: Meeting")


def test_an_event_first_reported_undated_alerts_once_when_a_report_gives_its_day(
    tmp_path: Path,
) -> None:
    # Issue 15: the first report says only "this week" (not new: no day), a later one names
    # the day: the event is new from then on, and alerts once.
    db = tmp_path / "store.duckdb"
    c = connect(db)
    migrate(c)
    c.close()
    who = (PUTIN, SHAIBANI)
    undated = replace(_report(who, date(2025, 12, 22)), date_precision="week", new=False)
    assert _store(db, 1, undated, False, utcnow()) == 0
    cycle = utcnow()
    assert _store(db, 2, _report(who, date(2025, 12, 23)), False, cycle) == 1
    assert _store(db, 3, _report(who, date(2025, 12, 23)), False, cycle) == 0
    c = connect(db, read_only=True)
    try:
        events = c.execute("SELECT is_new, date_precision FROM events").fetchall()
        kinds = c.execute("SELECT kind FROM alerts").fetchall()
    finally:
        c.close()
    assert events == [(True, "day")]
    assert kinds == [("new",)]
