"""The whole monitor flow under Prefect against loopback feeds, a DuckDB file and a Slack stand-in."""

from __future__ import annotations

import json
import shutil
from html import escape
from pathlib import Path

import pytest

from newsmon.demo import feed_urls, serve_folder
from tests.conftest import ROOT, SlackReceiver, db_rows, shared_path

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slack: SlackReceiver) -> Path:
    """Return a test config alerting to the Slack stand-in (URL from the environment)."""
    monkeypatch.setenv("NEWSMON_SLACK_WEBHOOK_URL", slack.url)
    config = tmp_path / "newsmon.yaml"
    config.write_text(
        f"database: {tmp_path / 'test.duckdb'}\n"
        f"watchlist_dir: {ROOT / 'config' / 'watchlists'}\n"
        "fetch: {allow_private_hosts: true, per_host_min_interval_s: 0, connect_timeout_s: 2,"
        " read_timeout_s: 5}\n"
        "events: {max_article_age_days: null}\n"
        "alerts: {channels: [slack]}\n"
    )
    return config


def test_demo_sample_alerts_once_and_second_cycle_sends_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slack: SlackReceiver
) -> None:
    from flows.monitor import monitor

    config = _config(tmp_path, monkeypatch, slack)
    db = tmp_path / "test.duckdb"
    samples = ROOT / "samples" / "demo"
    with serve_folder(samples) as base:
        feeds = feed_urls(samples, base)
        first = monitor(config=str(config), feeds=feeds)
        articles_after_first = db_rows(db, "SELECT count(*) FROM articles")[0][0]
        second = monitor(config=str(config), feeds=feeds)
    assert first["feeds_ok"] == 3 and first["new_articles"] == 12
    headers = [body["text"] for body in slack.bodies]
    assert len(headers) == 2, headers
    assert any("Lavrov" in h and "Shaibani" in h for h in headers)
    assert any("Putin" in h and "Abu Qasra" in h for h in headers)
    assert second["new_articles"] == 0 and second["alerts_queued"] == 0
    assert len(slack.bodies) == 2
    assert db_rows(db, "SELECT count(*) FROM articles")[0][0] == articles_after_first == 12
    assert db_rows(db, "SELECT count(*) FROM alerts WHERE status = 'delivered'")[0][0] == 2
    # Past meetings recalled in the sample are stored but never alerted.
    past = db_rows(db, "SELECT count(*) FROM events WHERE NOT is_new")[0][0]
    assert past >= 2
    # The webhook URL is a secret: never stored in the database.
    dump = json.dumps(db_rows(db, "SELECT * FROM alerts"), default=str)
    assert "SECRET" not in dump
    # Issue 18: the Lavrov alert quotes a report that says the talks took place, not the
    # morning's announcement that was its first report; so do the meetings view and its rows.
    lavrov = next(b for b in slack.bodies if "Lavrov" in b["text"])
    quoted = json.dumps(lavrov["blocks"])
    assert "scheduled" not in quoted and "sat down with Sergey Lavrov" in quoted
    [(view_evidence,)] = db_rows(
        db, "SELECT evidence FROM meetings WHERE event_date = DATE '2025-12-24' "
        "AND list_contains(participant_names, 'Sergei Lavrov')")
    assert "scheduled" not in view_evidence and "Lavrov" in view_evidence


def _seed_site(tmp_path: Path) -> Path:
    """Return a folder with a feed and an HTML page built from the seed article at test time."""
    text = shared_path("seed", "seed-article.txt").read_text(encoding="utf-8")
    site = tmp_path / "site"
    (site / "pages").mkdir(parents=True)
    paragraphs = "\n".join(f"<p>{escape(line)}</p>" for line in text.splitlines() if line)
    (site / "pages" / "seed.html").write_text(
        "<!doctype html><html lang='en'><head><title>Syria and Russia enter new era</title>"
        "<meta property='article:published_time' content='2025-12-24T09:00:00+00:00'>"
        f"</head><body><article><h1>Syria and Russia enter new era</h1>{paragraphs}</article>"
        "</body></html>", encoding="utf-8",
    )
    (site / "feeds").mkdir()
    (site / "feeds" / "seed.xml").write_text(
        "<?xml version='1.0'?><rss version='2.0'><channel><title>Seed</title>"
        "<item><title>Syria and Russia enter new era</title><link>{BASE}/pages/seed.html</link>"
        "<guid>seed-1</guid><pubDate>Wed, 24 Dec 2025 09:00:00 GMT</pubDate></item>"
        "</channel></rss>", encoding="utf-8",
    )
    return site


def test_seed_article_alerts_two_new_meetings_and_stores_two_past(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slack: SlackReceiver
) -> None:
    from flows.monitor import monitor

    site = _seed_site(tmp_path)
    config = _config(tmp_path, monkeypatch, slack)
    with serve_folder(site) as base:
        summary = monitor(config=str(config), feeds=feed_urls(site, base))
    db = tmp_path / "test.duckdb"
    events = db_rows(
        db,
        "SELECT strftime(event_date, '%Y-%m'), date_precision, is_new, "
        "list_sort(list(p.name)) FROM events e JOIN event_participants p ON p.event_id = e.id "
        "GROUP BY e.id, event_date, date_precision, is_new ORDER BY 1, 2",
    )
    new = [e for e in events if e[2]]
    past = [e for e in events if not e[2]]
    assert summary["alerts_delivered"] == 2
    assert len(slack.bodies) == 2
    assert len(new) == 2 and all(e[0] == "2025-12" for e in new)
    assert {e[0] for e in past} == {"2025-07", "2025-10"}
    assert any("Vladimir Putin" in e[3] and "Murhaf Abu Qasra" in e[3] for e in new)
    assert any("Sergei Lavrov" in e[3] and "Asaad al-Shaibani" in e[3] for e in new)
    # Tuesday with Putin and Wednesday with Lavrov are two events of one Moscow visit.
    visits = db_rows(db, "SELECT count(DISTINCT visit_id) FROM events WHERE is_new")
    assert visits == [(1,)]


def test_bad_feeds_and_pages_are_recorded_and_the_rest_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slack: SlackReceiver
) -> None:
    from flows.monitor import monitor

    site = tmp_path / "bad"
    shutil.copytree(ROOT / "samples" / "same-meeting", site)
    (site / "not-a-feed.xml").write_text("<html><body>Hello, this is a page</body></html>")
    (site / "pages" / "empty.html").write_text("<html><body></body></html>")
    feed = (site / "feed.xml").read_text()
    (site / "feed.xml").write_text(feed.replace(
        "</channel>",
        "<item><title>Empty</title><link>{BASE}/pages/empty.html</link><guid>empty</guid>"
        "</item></channel>",
    ))
    config = _config(tmp_path, monkeypatch, slack)
    with serve_folder(site) as base:
        feeds = [f"{base}/feed.xml", f"{base}/not-a-feed.xml", "http://127.0.0.1:9/feed.xml"]
        summary = monitor(config=str(config), feeds=feeds)
    db = tmp_path / "test.duckdb"
    assert summary["feeds_ok"] == 1 and summary["feeds_failed"] == 2
    kinds = dict(db_rows(db, "SELECT url, last_error_kind FROM feeds WHERE status = 'failing'"))
    assert kinds[f"{base}/not-a-feed.xml"] == "not_a_feed"
    assert kinds["http://127.0.0.1:9/feed.xml"] == "connect"
    statuses = dict(db_rows(db, "SELECT url, status FROM articles"))
    assert statuses[f"{base}/pages/empty.html"] == "empty"
    assert summary["new_articles"] == 6


def test_five_reports_of_one_meeting_make_one_event_and_one_alert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slack: SlackReceiver
) -> None:
    from flows.monitor import monitor

    config = _config(tmp_path, monkeypatch, slack)
    site = ROOT / "samples" / "same-meeting"
    with serve_folder(site) as base:
        summary = monitor(config=str(config), feeds=[f"{base}/feed.xml"])
    db = tmp_path / "test.duckdb"
    events = db_rows(db, "SELECT id, type, event_date, sources FROM events")
    assert len(events) == 1, events
    event_id, kind, day, sources = events[0]
    assert (kind, str(day), sources) == ("meeting", "2025-07-31", 5)
    evidence = db_rows(db, f"SELECT article_id FROM event_articles WHERE event_id = '{event_id}'")
    assert len(evidence) == 5
    participants = {r[0] for r in db_rows(db, "SELECT actor_id FROM event_participants")}
    assert {"sergei-lavrov", "asaad-al-shaibani"} <= participants
    assert summary["alerts_delivered"] == 1 and len(slack.bodies) == 1


def test_a_cycle_with_a_slack_secret_but_console_only_says_so_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slack: SlackReceiver
) -> None:
    from flows.monitor import monitor

    config = _config(tmp_path, monkeypatch, slack)
    config.write_text(config.read_text().replace("alerts: {channels: [slack]}",
                                                 "alerts: {channels: [console]}"))
    summary = monitor(config=str(config))
    [warning] = summary["warnings"]
    assert "NEWSMON_SLACK_WEBHOOK_URL is set" in warning and "[console, slack]" in warning
    assert list(summary)[:3] == ["status", "run_id", "warnings"]
