"""Measure one cold and one warm cycle with the thread runner and with Dask, for docs/scaling.md.

A loopback site serves real third-party text from ../shared (never copied into the repo): the
181 pages of the extraction benchmark (real HTML, extraction load) and the 381 FA-KES articles
wrapped in minimal HTML (Syria-war news, NLP load), spread over several feeds on several
loopback addresses (127.0.0.2, .3, ...) so that page fetching can shard by host.

    PREFECT_API_URL=http://127.0.0.1:4200/api .venv/bin/python scripts/measure_scaling.py \
        --runners thread,dask --workers 2

Each cycle is a `newsmon run --json` child process on a fresh database; the script reports its
wall time, the summary's stage timings and the peak resident memory of its process tree.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
NEWSMON = str(Path(sys.executable).with_name("newsmon"))


def build_site(folder: Path, hosts: list[str], limit: int | None) -> list[str]:
    """Write pages and one feed per host into folder; return the feed URLs."""
    pages: list[tuple[str, str, str]] = []  # (file name, title, pubDate)
    (folder / "pages").mkdir(parents=True)
    bench = SHARED / "extraction-benchmark" / "html"
    for path in sorted(bench.glob("*.html.gz")):
        name = f"bench-{path.name.removesuffix('.html.gz')}.html"
        (folder / "pages" / name).write_bytes(gzip.decompress(path.read_bytes()))
        pages.append((name, f"Benchmark page {path.name}", "Mon, 01 Dec 2025 08:00:00 GMT"))
    with open(SHARED / "fa-kes" / "fa-kes-dev.csv", encoding="utf-8", errors="replace") as f:
        for row in csv.DictReader(f):
            name = f"fakes-{row['unit_id']}.html"
            try:
                day = datetime.strptime(row["date"], "%m/%d/%Y")
            except ValueError:
                day = datetime(2017, 1, 1)
            paragraphs = "".join(f"<p>{escape(p)}</p>" for p in row["article_content"].split(". "))
            (folder / "pages" / name).write_text(
                "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
                f"<title>{escape(row['article_title'])}</title>"
                f"<meta property='article:published_time' content='{day:%Y-%m-%d}T09:00:00Z'>"
                f"</head><body><article><h1>{escape(row['article_title'])}</h1>{paragraphs}"
                "</article></body></html>", encoding="utf-8")
            pages.append((name, row["article_title"], f"{day:%a, %d %b %Y} 09:00:00 GMT"))
    pages = pages[:limit] if limit else pages
    feeds = []
    for h, host in enumerate(hosts):
        items = "".join(
            f"<item><title>{escape(title)}</title><link>http://{host}/pages/{name}</link>"
            f"<guid>{name}</guid><pubDate>{published}</pubDate></item>"
            for i, (name, title, published) in enumerate(pages) if i % len(hosts) == h
        )
        (folder / f"feed-{h}.xml").write_text(
            f"<?xml version='1.0'?><rss version='2.0'><channel><title>feed {h}</title>{items}"
            "</channel></rss>", encoding="utf-8")
        feeds.append(f"http://{host}/feed-{h}.xml")
    return feeds


@contextmanager
def serve(folder: Path, addresses: list[str]) -> Iterator[list[str]]:
    """Yield host:port of one static server per loopback address, all serving folder."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = (folder / self.path.lstrip("/")).resolve()
            if folder.resolve() not in path.parents or not path.is_file():
                self.send_error(404)
                return
            body = path.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml" if path.suffix == ".xml"
                             else "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    servers = [ThreadingHTTPServer((address, 0), Handler) for address in addresses]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield [f"{s.server_address[0]}:{s.server_address[1]}" for s in servers]
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def run_cycle(config: Path, env: dict[str, str]) -> dict[str, Any]:
    """Run one `newsmon run --json` child; return its summary, wall time and peak tree RSS."""
    started = time.monotonic()
    child = subprocess.Popen([NEWSMON, "run", "--json", "--config", str(config)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    peak = 0.0
    parent = psutil.Process(child.pid)
    while child.poll() is None:
        try:
            tree = [parent, *parent.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()) / 2**20)
        except psutil.Error:
            pass
        time.sleep(0.25)
    out, err = child.communicate()
    wall = time.monotonic() - started
    if child.returncode != 0:
        raise SystemExit(f"cycle failed ({child.returncode}):\n{err[-3000:]}")
    summary = json.loads(out.strip().splitlines()[-1])
    return {"wall_s": round(wall, 1), "peak_rss_mb": round(peak), "summary": summary}


def main() -> None:
    """Print one JSON line per runner with the cold and warm cycle measurements."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runners", default="thread,dask")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--hosts", type=int, default=4)
    parser.add_argument("--pages", type=int, default=None, help="only the first N pages")
    parser.add_argument("--persistent", action="store_true",
                        help="dask: one long-lived LocalCluster for all cycles (its address in "
                        "NEWSMON_DASK_ADDRESS), and a second cold cycle on warm workers")
    args = parser.parse_args()
    cluster = None
    if args.persistent:
        from distributed import LocalCluster

        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "site"
        with serve(folder, [f"127.0.0.{2 + i}" for i in range(args.hosts)]) as hosts:
            feeds = build_site(folder, hosts, args.pages)
            for runner in args.runners.split(","):
                db = Path(tmp) / f"{runner}.duckdb"
                config = Path(tmp) / f"{runner}.yaml"
                config.write_text(
                    f"database: {db}\nwatchlist_dir: {ROOT / 'config' / 'watchlists'}\n"
                    "fetch: {allow_private_hosts: true, per_host_min_interval_s: 0, "
                    "max_new_items_per_feed: 1000}\n"
                    "events: {max_article_age_days: null}\n"
                    "feeds:\n" + "".join(f"  - {{name: f{i}, url: '{u}'}}\n"
                                         for i, u in enumerate(feeds)))
                env = {**os.environ, "NEWSMON_TASK_RUNNER": runner,
                       "NEWSMON_DASK_WORKERS": str(args.workers)}
                if cluster is not None and runner == "dask":
                    env["NEWSMON_DASK_ADDRESS"] = cluster.scheduler_address
                    run_cycle(config, env)  # warms the workers up (imports, spaCy models)
                    for stale in (db, db.with_name(db.name + ".wal")):
                        stale.unlink(missing_ok=True)
                cold = run_cycle(config, env)
                warm = run_cycle(config, env)
                s = cold["summary"]
                print(json.dumps({
                    "runner": runner, "workers": args.workers if runner == "dask" else None,
                    "persistent_cluster": cluster is not None and runner == "dask",
                    "pages": s["new_articles"], "relevant": s["relevant"],
                    "events": s["events_new"], "cold_wall_s": cold["wall_s"],
                    "cold_flow_s": s["seconds"], "cold_stages": s["stages"],
                    "cold_peak_rss_mb": cold["peak_rss_mb"], "warm_wall_s": warm["wall_s"],
                    "warm_flow_s": warm["summary"]["seconds"],
                    "db_mb": round(db.stat().st_size / 2**20, 1),
                }), flush=True)


if __name__ == "__main__":
    main()
