"""`newsmon backfill --since`: polls feeds that are not due, takes items published since the
day, stores their events and queues no alert unless --send."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from newsmon.demo import serve_folder
from tests.conftest import ROOT, SlackReceiver, db_rows

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _item(title: str, page: str, guid: str, published: str) -> str:
    """Return an RSS item pointing at a page of the site."""
    return (f"<item><title>{title}</title><link>{{BASE}}/pages/{page}</link><guid>{guid}</guid>"
            f"<pubDate>{published}</pubDate></item>")


def _feed(site: Path, items: list[str]) -> None:
    """Write the site's feed with these items."""
    (site / "feed.xml").write_text("<?xml version='1.0'?><rss version='2.0'><channel><title>W"
                                   f"</title>{''.join(items)}</channel></rss>", encoding="utf-8")


def test_backfill_polls_a_feed_that_is_not_due_and_alerts_only_with_send(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slack: SlackReceiver
) -> None:
    from flows.monitor import monitor
    from newsmon.cli.main import app

    site = tmp_path / "site"
    (site / "pages").mkdir(parents=True)
    for page in ("sm-a-wire-terse.html", "sm-b-agency-received.html"):
        shutil.copy(ROOT / "samples" / "same-meeting" / "pages" / page, site / "pages" / page)
    for page in ("levant-putin-shaibani.html", "levant-lavrov-shaibani.html"):
        shutil.copy(ROOT / "samples" / "demo" / "pages" / page, site / "pages" / page)
    first_item = _item("July talks", "sm-a-wire-terse.html", "a", "Thu, 31 Jul 2025 18:00:00 GMT")
    _feed(site, [first_item])
    db = tmp_path / "newsmon.duckdb"
    monkeypatch.setenv("NEWSMON_SLACK_WEBHOOK_URL", slack.url)
    with serve_folder(site) as base:
        config = tmp_path / "newsmon.yaml"
        config.write_text(
            f"database: {db}\nwatchlist_dir: {ROOT / 'config' / 'watchlists'}\n"
            "fetch: {allow_private_hosts: true, per_host_min_interval_s: 0}\n"
            "events: {max_article_age_days: null}\nalerts: {channels: [slack]}\n"
            f"feeds:\n  - {{name: wire, url: '{base}/feed.xml'}}\n"
        )
        assert monitor(config=str(config))["new_articles"] == 1
        alerts_before = db_rows(db, "SELECT count(*) FROM alerts")[0][0]
        sent_before = len(slack.bodies)
        # The feed backs off for a day; meanwhile it publishes a December story and carries an
        # old one the backfill must leave alone.
        con = duckdb.connect(str(db))
        con.execute("UPDATE feeds SET next_poll_at = now()::TIMESTAMP + INTERVAL 1 DAY")
        con.close()
        _feed(site, [first_item,
                     _item("Putin receives", "levant-putin-shaibani.html", "p",
                           "Tue, 23 Dec 2025 16:00:00 GMT"),
                     _item("Old copy", "sm-b-agency-received.html", "old",
                           "Mon, 01 Jan 2024 09:00:00 GMT")])
        assert monitor(config=str(config))["feeds_polled"] == 0  # not due: nothing seen

        result = CliRunner().invoke(app, ["backfill", "--since", "2025-12-01", "--config",
                                          str(config), "--json"])
        assert result.exit_code == 0, result.output
        summary = json.loads(result.output.strip().splitlines()[-1])
        assert summary["feeds_polled"] == 1 and summary["backfill_since"] == "2025-12-01"
        assert summary["new_articles"] == 1 and summary["events_new"] >= 1
        assert summary["alerts_queued"] == 0 and summary["alerts_delivered"] == 0
        stored = {r[0] for r in db_rows(db, "SELECT url FROM articles")}
        assert f"{base}/pages/levant-putin-shaibani.html" in stored
        assert f"{base}/pages/sm-b-agency-received.html" not in stored  # published before
        assert db_rows(db, "SELECT count(*) FROM alerts")[0][0] == alerts_before
        # A later normal cycle does not alert the backfilled events either.
        monitor(config=str(config), feeds=[f"{base}/feed.xml"])
        assert len(slack.bodies) == sent_before

        # With --send a backfill alerts what it finds, like a cycle.
        _feed(site, [first_item, _item("Lavrov and al-Shaibani", "levant-lavrov-shaibani.html",
                                       "l", "Wed, 24 Dec 2025 15:00:00 GMT")])
        sent = CliRunner().invoke(app, ["backfill", "--since", "2025-12-01", "--config",
                                        str(config), "--send", "--json"])
    assert sent.exit_code == 0, sent.output
    with_send = json.loads(sent.output.strip().splitlines()[-1])
    assert with_send["new_articles"] == 1
    assert with_send["alerts_delivered"] == with_send["alerts_queued"] >= 1
    assert len(slack.bodies) == sent_before + with_send["alerts_delivered"]
