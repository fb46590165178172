"""Outages: Slack down for three cycles, the database held by another writer, a full disk,
corrupt config files, databases from an older and a newer schema version.

The in-process checks are fast; the scenarios that run real cycles in child processes are
marked slow (`make faults` runs them).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from newsmon.demo import feed_urls
from newsmon.settings import ConfigError, load_settings
from newsmon.store import (
    DatabaseBusy,
    DatabaseError,
    connect,
    head_version,
    migrate,
    schema_version,
    utcnow,
)
from tests.conftest import ROOT
from tests.faults.conftest import Ledger
from tests.faults.harness import newsmon, rows, run_cycle, serve_recorded, write_config
from tests.faults.test_process_faults import GOOD_ALERTS, GOOD_ARTICLES, build_v1
from tests.slack_endpoint import SERVER_ERROR, slack_endpoint

pytestmark = pytest.mark.faults
# Smaller than the write-ahead log of any cycle's writes: DuckDB keeps a commit in its WAL when
# the checkpoint cannot grow the database file (measured: a cycle of 4 new articles still
# succeeded under 64 KB), so the limit must bite at the WAL to make a commit fail.
DISK_BYTES = 16 * 2**10


@contextmanager
def other_writer(db: Path) -> Iterator[subprocess.Popen[str]]:
    """Yield a separate process that holds db open for writing (as an analyst's duckdb shell
    would) until the block ends."""
    code = ("import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); "
            "print('held', flush=True); time.sleep(300)")
    holder = subprocess.Popen([sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        holder.kill()
        holder.wait()


def _stored_and_sent(db: Path, base: str) -> tuple[int, int, dict[str, int]]:
    """Return (fixture pages stored ok, article rows for them, outbox status counts)."""
    stored, article_rows = rows(
        db, "SELECT count(DISTINCT url) FILTER (WHERE status = 'ok'), count(*) FROM articles "
        "WHERE url LIKE ?", [f"{base}/pages/%"])[0]
    return stored, article_rows, dict(rows(db, "SELECT status, count(*) FROM alerts GROUP BY 1"))


# ------------------------------------------------------------------------------ fast, in-process

def test_database_held_by_another_writer_is_named_and_waited_for(
    tmp_path: Path, ledger: Ledger
) -> None:
    db = tmp_path / "newsmon.duckdb"
    con = connect(db)
    migrate(con)
    con.close()
    with other_writer(db):
        started = time.monotonic()
        try:
            connect(db, wait_s=1.0)
            observed, ok = "opened although another process holds it", False
        except DatabaseBusy as exc:
            waited = time.monotonic() - started
            observed = f"DatabaseBusy after {waited:.1f} s: {str(exc)[:90]}"
            ok = str(db) in str(exc) and "another process" in str(exc) and 0.9 < waited < 5
    ledger.record("outage", "DuckDB file held by another writer (open)",
                  "waits wait_s, then DatabaseBusy naming the file and what to do", observed, ok)
    con = connect(db, wait_s=1.0)  # released: opens at once
    con.close()
    ledger.assert_all()


CORRUPT_CONFIGS: dict[str, bytes] = {
    "truncated YAML": b"database: x.duckdb\nfeeds: [\n  {name: a, url: 'http://a.example/'\n",
    "binary garbage": bytes(range(256)),
    "not UTF-8": "database: caf\u00e9.duckdb\n".encode("iso-8859-1"),
    "a list, not a mapping": b"- database\n- x.duckdb\n",
    "unknown key (typo)": b"fetch: {conect_timeout_s: 3}\n",
    "wrong type": b"fetch: {connect_timeout_s: soon}\n",
    "a secret in the file": b"slack_webhook_url: https://hooks.slack.com/services/T/B/XYZ\n",
    "empty file": b"",
}


def test_corrupt_config_files_are_refused_with_the_file_named(
    tmp_path: Path, ledger: Ledger
) -> None:
    for name, content in {**CORRUPT_CONFIGS, "a directory": b""}.items():
        path = tmp_path / f"{name.replace(' ', '-')}.yaml"
        if name == "a directory":
            path.mkdir()
        else:
            path.write_bytes(content)
        if name == "empty file":
            # An empty file means "all defaults": valid, and said so by loading.
            settings = load_settings(path)
            ledger.record("outage", f"config: {name}", "loads the documented defaults",
                          f"database {settings.database.name}",
                          settings.database.name == "newsmon.duckdb")
            continue
        try:
            load_settings(path)
            observed, ok, crash = "accepted", False, 0
        except ConfigError as exc:
            first = str(exc).splitlines()[0]
            observed, ok, crash = first[:110], str(path) in first, 0
            ok = ok and "XYZ" not in str(exc)  # a secret is never echoed
        except Exception as exc:  # noqa: BLE001 - the crash being counted
            observed, ok, crash = f"{type(exc).__name__}: {exc}"[:110], False, 1
        ledger.record("outage", f"config: {name}", "ConfigError naming the file (exit 2)",
                      observed, ok, crashes=crash)
    ledger.assert_all()


def test_older_schema_is_migrated_and_keeps_its_rows(tmp_path: Path, ledger: Ledger) -> None:
    db = tmp_path / "v1.duckdb"
    build_v1(db)
    con = duckdb.connect(str(db))
    con.execute("INSERT INTO feeds (url, name) VALUES ('https://a.example/rss', 'a')")
    con.close()
    con = connect(db)
    try:
        applied = migrate(con)
        version = schema_version(con)
        kept = con.execute("SELECT name FROM feeds WHERE url = 'https://a.example/rss'").fetchall()
    finally:
        con.close()
    ledger.record("outage", "database at schema v1 (migration 0001 only)",
                  f"migrated to v{head_version()}, existing rows kept",
                  f"applied {applied}, now v{version}, feed row {'kept' if kept else 'lost'}",
                  version == head_version() and kept == [("a",)], lost=0 if kept else 1)
    ledger.assert_all()


def _future_database(db: Path) -> tuple[int, list[str]]:
    """Create a database stamped with a schema version newer than the code; return it and
    its table names."""
    con = connect(db)
    migrate(con)
    future = head_version() + 7
    con.execute("INSERT INTO schema_migrations VALUES (?, 'from_the_future', ?)",
                [future, utcnow()])
    tables = sorted(r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables").fetchall())
    con.close()
    return future, tables


def test_newer_schema_is_refused_by_migrate(tmp_path: Path, ledger: Ledger) -> None:
    db = tmp_path / "future.duckdb"
    future, _ = _future_database(db)
    con = connect(db)
    try:
        migrate(con)
        observed, ok = "migrated", False
    except DatabaseError as exc:
        observed, ok = str(exc)[:110], f"version {future}" in str(exc) and "upgrade" in str(exc)
    finally:
        con.close()
    ledger.record("outage", f"database at schema v{future}: migrate",
                  "DatabaseError saying to upgrade newsmon", observed, ok)
    ledger.assert_all()


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_newer_schema_is_refused_and_left_untouched(tmp_path: Path, ledger: Ledger) -> None:
    db = tmp_path / "future.duckdb"
    future, tables = _future_database(db)
    config = tmp_path / "c.yaml"
    config.write_text(f"database: {db}\nwatchlist_dir: {ROOT / 'config' / 'watchlists'}\n")
    result = newsmon(["run", "--config", str(config)])
    line = next((x for x in result.stderr.splitlines() if x.startswith("error:")), "")
    con = duckdb.connect(str(db), read_only=True)
    try:
        after = sorted(r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables").fetchall())
        version = schema_version(con)
    finally:
        con.close()
    ok = (result.returncode == 2 and f"version {future}" in line and "upgrade newsmon" in line
          and after == tables and version == future)
    ledger.record("outage", f"database at schema v{future}: newsmon run",
                  "refused: exit 2, one line saying to upgrade newsmon; file untouched",
                  f"exit {result.returncode}: {line[:100]}; tables "
                  f"{'unchanged' if after == tables else 'CHANGED'}", ok,
                  crashes=int(result.returncode not in (0, 1, 2)))
    ledger.assert_all()


# ------------------------------------------------------------------------------ slow, cycles

@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_slack_down_for_three_cycles_then_back_delivers_each_alert_once(
    tmp_path: Path, good_site: Path, ledger: Ledger
) -> None:
    db = tmp_path / "newsmon.duckdb"
    with serve_recorded(good_site) as site, slack_endpoint() as slack:
        config = write_config(tmp_path, feed_urls(good_site, site.base),
                              allowed_hosts=[site.base.removeprefix("http://")])
        env = {"NEWSMON_SLACK_WEBHOOK_URL": slack.url}
        slack.default = SERVER_ERROR
        down = []
        for _ in range(3):
            down.append(run_cycle(config, env=env))
            # An hour passes between cycles: the retry backoff has elapsed.
            con = connect(db)
            con.execute("UPDATE alerts SET next_attempt_at = ? WHERE status = 'pending'",
                        [utcnow() - timedelta(seconds=1)])
            con.close()
        slack.default = SERVER_ERROR.__class__()  # 200 "ok" again
        back = run_cycle(config, env=env)
        after = run_cycle(config, env=env)
        tried_while_down = len(slack.received) - len(slack.delivered)
        texts = [b["text"] for b in slack.delivered]
        stored, article_rows, outbox = _stored_and_sent(db, site.base)
    crashes = sum(r.crashed for r in [*down, back, after])
    ok = (crashes == 0 and len(texts) == GOOD_ALERTS == len(set(texts))
          and outbox == {"delivered": GOOD_ALERTS} and stored == GOOD_ARTICLES == article_rows
          and after.summary.get("alerts_delivered") == 0)
    ledger.record(
        "outage", "Slack answers 500 for three cycles, then 200",
        f"every cycle exit 0; then {GOOD_ALERTS} alerts delivered once, nothing lost",
        f"exits {[r.returncode for r in [*down, back, after]]}; {tried_while_down} refused "
        f"tries; {len(texts)} delivered ({len(set(texts))} distinct); outbox {outbox}",
        ok, crashes=crashes, lost=GOOD_ARTICLES - stored,
        duplicates=len(texts) - len(set(texts)))
    ledger.assert_all()


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_database_held_by_another_writer_during_a_cycle(
    tmp_path: Path, good_site: Path, ledger: Ledger
) -> None:
    db = tmp_path / "newsmon.duckdb"
    con = connect(db)
    migrate(con)
    con.close()
    with serve_recorded(good_site) as site, slack_endpoint() as slack:
        config = write_config(tmp_path, feed_urls(good_site, site.base),
                              allowed_hosts=[site.base.removeprefix("http://")])
        env = {"NEWSMON_SLACK_WEBHOOK_URL": slack.url}
        # Held for the whole cycle: it must give up on its own, say why, store nothing twice.
        with other_writer(db):
            held = run_cycle(config, env=env, timeout_s=180)
        message = next((line for line in held.stderr.splitlines()
                        if line.startswith("error:") and "in use by another process" in line
                        and str(db) in line), "")
        # Held for the first 3 s only (an analyst's query): the cycle waits, then works.
        with other_writer(db) as holder:
            timer = threading.Timer(3.0, holder.kill)
            timer.start()
            later = run_cycle(config, env=env)
            timer.cancel()
        texts = [b["text"] for b in slack.delivered]
        stored, article_rows, outbox = _stored_and_sent(db, site.base)
    ok = (held.returncode != 0 and not held.crashed and bool(message)
          and later.returncode == 0 and stored == GOOD_ARTICLES == article_rows
          and outbox == {"delivered": GOOD_ALERTS}
          and len(texts) == GOOD_ALERTS == len(set(texts)))
    ledger.record(
        "outage", "DuckDB file held by another writer for a whole cycle",
        "the cycle gives up with a message naming the file; the next one stores all once",
        f"held: exit {held.returncode} after {held.seconds:.0f} s ({message[7:80]}); next: "
        f"exit {later.returncode} in {later.seconds:.0f} s, {stored} articles, "
        f"{len(texts)} alerts",
        ok, crashes=int(held.crashed or later.crashed), lost=GOOD_ARTICLES - stored,
        duplicates=len(texts) - len(set(texts)))
    ledger.assert_all()


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_disk_full_fails_the_cycle_cleanly_and_the_next_one_recovers(
    tmp_path: Path, good_site: Path, ledger: Ledger
) -> None:
    db = tmp_path / "newsmon.duckdb"
    with serve_recorded(good_site) as site, slack_endpoint() as slack:
        feeds = feed_urls(good_site, site.base)
        allowed = [site.base.removeprefix("http://")]
        env = {"NEWSMON_SLACK_WEBHOOK_URL": slack.url}
        # Weeks of normal work (two feeds), then the disk fills up and a third feed arrives.
        first = run_cycle(write_config(tmp_path, feeds[:2], allowed_hosts=allowed), env=env)
        before = rows(db, "SELECT count(*) FROM articles")[0][0]
        config = write_config(tmp_path, feeds, allowed_hosts=allowed)
        full = run_cycle(config, env=env, max_file_bytes=DISK_BYTES)
        opens = True
        try:
            kept = rows(db, "SELECT count(*) FROM articles")[0][0]
        except Exception:  # noqa: BLE001 - recorded below
            opens, kept = False, -1
        later = run_cycle(config, env=env)
        texts = [b["text"] for b in slack.delivered]
        stored, article_rows, outbox = _stored_and_sent(db, site.base)
    message = next((line for line in full.stderr.splitlines()
                    if line.startswith("error:") and "could not write to disk" in line), "")
    ok = (first.returncode == 0 and full.returncode == 1 and bool(message) and opens
          and kept == before and later.returncode == 0
          and stored == GOOD_ARTICLES == article_rows and len(texts) == len(set(texts))
          == outbox.get("delivered", 0) >= GOOD_ALERTS and set(outbox) == {"delivered"})
    ledger.record(
        "outage", f"disk full (no file may grow past {DISK_BYTES // 2**10} KB: RLIMIT_FSIZE)",
        "exit 1 with one line saying why; earlier data intact; next cycle stores all, "
        "each alert once",
        f"full: exit {full.returncode}, {message[7:90]!r}; {kept}/{before} earlier articles; "
        f"next: exit {later.returncode}, {stored} articles, {len(texts)} alerts",
        ok, crashes=int(first.crashed or full.crashed or later.crashed),
        lost=GOOD_ARTICLES - stored, duplicates=len(texts) - len(set(texts)))
    ledger.assert_all()


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_a_v1_database_runs_a_normal_cycle(
    tmp_path: Path, good_site: Path, ledger: Ledger
) -> None:
    db = tmp_path / "newsmon.duckdb"
    build_v1(db)
    with serve_recorded(good_site) as site, slack_endpoint() as slack:
        config = write_config(tmp_path, feed_urls(good_site, site.base),
                              allowed_hosts=[site.base.removeprefix("http://")])
        run = run_cycle(config, env={"NEWSMON_SLACK_WEBHOOK_URL": slack.url})
        texts = [b["text"] for b in slack.delivered]
        stored, article_rows, outbox = _stored_and_sent(db, site.base)
    con = duckdb.connect(str(db), read_only=True)
    version = schema_version(con)
    con.close()
    ok = (run.returncode == 0 and version == head_version() and stored == GOOD_ARTICLES
          == article_rows and len(texts) == GOOD_ALERTS and outbox == {"delivered": GOOD_ALERTS})
    ledger.record("outage", "a cycle on a v1 database",
                  f"migrated to v{head_version()}, {GOOD_ARTICLES} articles, "
                  f"{GOOD_ALERTS} alerts", f"exit {run.returncode}, v{version}, {stored} "
                  f"articles, {len(texts)} alerts", ok, crashes=int(run.crashed),
                  lost=GOOD_ARTICLES - stored)
    ledger.assert_all()

