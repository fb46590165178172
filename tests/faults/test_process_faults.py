"""SIGKILL of a cycle at random points, then a normal cycle: nothing lost, nothing sent twice.

Points: during fetch (the test kills the child when the site has seen the k-th page request,
later requests held open so the child is mid-fetch), during NLP (NEWSMON_FAULT=during_nlp
after the k-th text), between the database commit and alert delivery (after_store), and in
the middle of a migration (during_migration in the k-th pending migration of a v1 database).
k is drawn from a seeded generator (NEWSMON_FAULTS_SEED, default 11), so a failure can be
replayed. After each kill, one normal cycle must open the database, store every fixture article
exactly once and deliver every alert exactly once.

The one documented window where an alert may arrive twice (killed after the channel answered,
before the row was marked: docs/alerts.md) is tested in tests/alerts/test_outbox.py and is not a
"duplicate" here: it is announced in the alert's reason.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from newsmon.demo import feed_urls
from newsmon.store import head_version, migrations, schema_version, utcnow
from tests.faults.conftest import Ledger
from tests.faults.harness import CycleRun, rows, run_cycle, serve_recorded, write_config
from tests.slack_endpoint import slack_endpoint

pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.faults]
SEED = int(os.environ.get("NEWSMON_FAULTS_SEED", "11"))
GOOD_ARTICLES = 12  # samples/demo
GOOD_ALERTS = 2


def build_v1(db: Path) -> None:
    """Create a database at schema version 1: migration 0001 only, as the first release did."""
    version, name, sql = migrations()[0]
    con = duckdb.connect(str(db))
    try:
        con.execute(
            "CREATE TABLE schema_migrations "
            "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
        )
        con.execute(sql)
        con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, name, utcnow()])
    finally:
        con.close()


@dataclass
class Recovery:
    """A killed cycle, the normal cycle after it, and what the database and Slack hold."""

    killed: CycleRun
    recovered: CycleRun
    stored: int  # distinct fixture pages stored with status ok
    article_rows: int  # article rows for fixture pages (must equal stored: each once)
    alerts: list[str]  # texts Slack accepted, in order
    outbox: dict[str, int]  # status -> count
    version: int


def kill_then_recover(
    folder: Path, site_root: Path, *, env: dict[str, str] | None = None,
    hold_from: int | None = None, v1: bool = False,
) -> Recovery:
    """Return what a cycle killed as asked, then one normal cycle, left behind."""
    db = folder / "newsmon.duckdb"
    if v1:
        build_v1(db)
    with serve_recorded(site_root, hold_from) as site, slack_endpoint() as slack:
        feeds = feed_urls(site_root, site.base)
        config = write_config(folder, feeds, allowed_hosts=[site.base.removeprefix("http://")])
        slack_env = {"NEWSMON_SLACK_WEBHOOK_URL": slack.url}
        kill_when = (lambda: len(site.pages) >= hold_from) if hold_from else None
        killed = run_cycle(config, env={**slack_env, **(env or {})}, kill_when=kill_when)
        site.hold_from = None
        site.release.set()
        recovered = run_cycle(config, env=slack_env)
        alerts = [body["text"] for body in slack.delivered]
    pages = f"{site.base}/pages/%"
    stored, article_rows = rows(
        db, "SELECT count(DISTINCT url) FILTER (WHERE status = 'ok'), count(*) FROM articles "
        "WHERE url LIKE ?", [pages])[0]
    outbox = dict(rows(db, "SELECT status, count(*) FROM alerts GROUP BY status"))
    con = duckdb.connect(str(db), read_only=True)
    try:
        version = schema_version(con)
    finally:
        con.close()
    return Recovery(killed, recovered, stored, article_rows, alerts, outbox, version)


def record(ledger: Ledger, fault: str, r: Recovery) -> None:
    """Record the outcome of one kill-and-recover scenario."""
    lost = GOOD_ARTICLES - r.stored
    duplicates = len(r.alerts) - len(set(r.alerts)) + (r.article_rows - r.stored)
    crashes = int(r.killed.crashed) + int(r.recovered.crashed)
    observed = (
        f"{'killed' if r.killed.killed_by_test else f'exit {r.killed.returncode}'}; next cycle "
        f"exit {r.recovered.returncode}, schema v{r.version}, {r.stored}/{GOOD_ARTICLES} "
        f"articles once, {len(r.alerts)} alerts ({len(set(r.alerts))} distinct), outbox "
        + ", ".join(f"{n} {s}" for s, n in sorted(r.outbox.items()))
    )
    ok = (
        r.killed.killed_by_test and r.recovered.returncode == 0 and r.version == head_version()
        and lost == 0 and duplicates == 0 and len(r.alerts) == GOOD_ALERTS
        and r.outbox == {"delivered": GOOD_ALERTS}
    )
    ledger.record(
        "process", fault, f"next cycle: schema v{head_version()}, {GOOD_ARTICLES} articles once, "
        f"{GOOD_ALERTS} alerts once", observed, ok, crashes=crashes, lost=max(lost, 0),
        duplicates=max(duplicates, 0))


def test_sigkill_during_nlp_then_next_cycle_loses_and_repeats_nothing(
    tmp_path: Path, good_site: Path, ledger: Ledger
) -> None:
    k = random.Random(SEED).randint(1, 6)
    r = kill_then_recover(tmp_path, good_site,
                          env={"NEWSMON_FAULT": "during_nlp", "NEWSMON_FAULT_AT": str(k)})
    record(ledger, f"SIGKILL during NLP (text {k}, seed {SEED})", r)
    ledger.assert_all()


@pytest.mark.slow
def test_sigkill_during_fetch_then_next_cycle_loses_and_repeats_nothing(
    tmp_path: Path, good_site: Path, ledger: Ledger
) -> None:
    k = random.Random(SEED + 1).randint(1, GOOD_ARTICLES)
    r = kill_then_recover(tmp_path, good_site, hold_from=k)
    record(ledger, f"SIGKILL during fetch (page request {k}, seed {SEED})", r)
    ledger.assert_all()


@pytest.mark.slow
def test_sigkill_between_commit_and_delivery_then_next_cycle_delivers_once(
    tmp_path: Path, good_site: Path, ledger: Ledger
) -> None:
    r = kill_then_recover(tmp_path, good_site, env={"NEWSMON_FAULT": "after_store"})
    record(ledger, "SIGKILL between DB commit and alert delivery", r)
    ledger.assert_all()


@pytest.mark.slow
def test_sigkill_during_migration_then_next_cycle_migrates_and_loses_nothing(
    tmp_path: Path, good_site: Path, ledger: Ledger
) -> None:
    pending = head_version() - 1  # migrations a v1 database still needs
    k = random.Random(SEED + 2).randint(1, pending)
    r = kill_then_recover(tmp_path, good_site, v1=True,
                          env={"NEWSMON_FAULT": "during_migration", "NEWSMON_FAULT_AT": str(k)})
    record(ledger, f"SIGKILL during migration {k + 1} of a v1 database (seed {SEED})", r)
    ledger.assert_all()
