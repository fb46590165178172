"""Replay after a watchlist change: the alert diff, a dry run that sends nothing, --send once."""

from __future__ import annotations

import shutil
from html import escape
from pathlib import Path

import duckdb
import pytest
import yaml
from typer.testing import CliRunner

from newsmon.demo import serve_folder
from tests.conftest import ROOT, SlackReceiver

pytestmark = pytest.mark.usefixtures("prefect_harness")

# Two reports of one meeting that name the Syrian minister only by a French-style spelling
# the shipped watchlist lacks: no event until the alias is added.
CHAIBANI = {
    "chaibani-1": (
        "Lavrov hosts Chaibani in Moscow",
        ("Russian Foreign Minister Sergei Lavrov held talks with Asaad al-Chaibani in Moscow on "
         "Wednesday. Lavrov and al-Chaibani discussed the Russian military bases in Syria and "
         "reconstruction, the Russian foreign ministry said. Damascus has sought to renegotiate "
         "the agreements since December."),
    ),
    "chaibani-2": (
        "Lavrov receives Chaibani",
        ("Sergei Lavrov received Chaibani in Moscow on Wednesday for talks on the Russian bases "
         "in Syria. The meeting lasted two hours, the ministry said. Both sides described the "
         "talks as constructive and agreed to meet again early next year in Damascus."),
    ),
}


def _site(tmp_path: Path) -> Path:
    """Return a folder with one feed: the two Chaibani pages and a same-meeting report."""
    site = tmp_path / "site"
    (site / "pages").mkdir(parents=True)
    items = []
    for slug, (title, text) in CHAIBANI.items():
        (site / "pages" / f"{slug}.html").write_text(
            "<!doctype html><html lang='en'><head>"
            f"<title>{escape(title)}</title>"
            "<meta property='article:published_time' content='2025-12-24T15:00:00+00:00'>"
            f"</head><body><article><h1>{escape(title)}</h1><p>{escape(text)}</p></article>"
            "</body></html>", encoding="utf-8",
        )
        items.append(f"<item><title>{escape(title)}</title><link>{{BASE}}/pages/{slug}.html"
                     f"</link><guid>{slug}</guid><pubDate>Wed, 24 Dec 2025 15:00:00 GMT"
                     "</pubDate></item>")
    same = ROOT / "samples" / "same-meeting"
    first = min((same / "pages").glob("*.html"))
    shutil.copy(first, site / "pages" / first.name)
    items.append(f"<item><title>Lavrov and al-Shaibani</title><link>{{BASE}}/pages/{first.name}"
                 "</link><guid>same-1</guid><pubDate>Thu, 31 Jul 2025 12:00:00 GMT</pubDate>"
                 "</item>")
    (site / "feed.xml").write_text(
        "<?xml version='1.0'?><rss version='2.0'><channel><title>Test wire</title>"
        + "".join(items) + "</channel></rss>", encoding="utf-8",
    )
    return site


def _add_alias(watchlists: Path, person: str, *aliases: str) -> None:
    """Add aliases to a person of the copied watchlist (the YAML edit a user would make)."""
    path = watchlists / "syria-russia.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    found = [p for side in data["sides"] for p in side.get("persons", []) if p["id"] == person]
    assert len(found) == 1
    found[0]["aliases"] = [*found[0].get("aliases", []), *aliases]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _count(db: Path, sql: str) -> int:
    """Return the single number a read-only query gives."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute(sql).fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0])


def test_replay_after_adding_an_alias_reports_the_new_event_and_send_alerts_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slack: SlackReceiver
) -> None:
    from flows.monitor import monitor
    from flows.replay import replay
    from newsmon.cli.main import app
    from newsmon.store import utcnow

    watchlists = tmp_path / "watchlists"
    shutil.copytree(ROOT / "config" / "watchlists", watchlists)
    db = tmp_path / "newsmon.duckdb"
    config = tmp_path / "newsmon.yaml"
    config.write_text(
        f"database: {db}\nwatchlist_dir: {watchlists}\n"
        "fetch: {allow_private_hosts: true, per_host_min_interval_s: 0}\n"
        "events: {max_article_age_days: null}\nalerts: {channels: [slack]}\n"
    )
    monkeypatch.setenv("NEWSMON_SLACK_WEBHOOK_URL", slack.url)
    site = _site(tmp_path)
    with serve_folder(site) as base:
        first = monitor(config=str(config), feeds=[f"{base}/feed.xml"])
    assert first["new_articles"] == 3 and first["events_new"] == 1
    assert len(slack.bodies) == 1 and "Shaibani" in slack.bodies[0]["text"]
    events_before = _count(db, "SELECT count(*) FROM events")
    alerts_before = _count(db, "SELECT count(*) FROM alerts")
    today = utcnow().date()

    # Nothing changed yet: replaying the archive finds exactly what is stored.
    unchanged = replay(since=today.isoformat(), config=str(config))
    assert (unchanged["events_new"], unchanged["events_changed"], unchanged["events_gone"]) == (
        0, 0, 0), unchanged["diff"]

    _add_alias(watchlists, "asaad-al-shaibani", "Chaibani", "al-Chaibani")
    dry = CliRunner().invoke(app, ["replay", "--since", today.isoformat(), "--config",
                                   str(config)])
    assert dry.exit_code == 0, dry.output
    text = " ".join(dry.output.split())
    assert "dry run: nothing stored or sent" in text and "New events (1)" in text
    assert "Sergei Lavrov" in text and "Asaad al-Shaibani" in text and "would alert" in text
    # A dry run leaves the database as it was and sends nothing.
    assert _count(db, "SELECT count(*) FROM events") == events_before
    assert _count(db, "SELECT count(*) FROM alerts") == alerts_before
    assert len(slack.bodies) == 1

    sent = replay(since=today.isoformat(), config=str(config), send=True)
    assert sent["events_new"] == 1 and sent["alerts_delivered"] == 1
    (new,) = sent["diff"]["new"]
    assert (new["date"], new["type"], new["sources"]) == ("2025-12-24", "meeting", 2)
    assert set(new["participants"]) == {"Sergei Lavrov", "Asaad al-Shaibani"}
    assert len(slack.bodies) == 2 and "Lavrov" in slack.bodies[1]["text"]

    # Once: the same replay again finds the event stored and queues nothing.
    again = replay(since=today.isoformat(), config=str(config), send=True)
    assert again["events_new"] == 0 and again["alerts_queued"] == 0
    assert len(slack.bodies) == 2
    assert _count(db, "SELECT count(*) FROM events") == events_before + 1
    assert _count(db, "SELECT count(*) FROM runs WHERE summary->>'kind' = 'replay'") == 4
