"""Run real monitor cycles in child processes and inspect what they left behind.

A cycle runs as `python -m tests.faults.child` (network tripwire installed) against the test
session's Prefect server. The parent measures wall time and peak RSS (os.wait4's rusage of that
child alone), can SIGKILL it when a condition holds (e.g. the server saw a given request), and
reads the database afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from tests.conftest import ROOT, db_rows
from tests.faults.child import CRASH_EXIT, MAX_FILE_ENV, NETLOG_ENV


@dataclass
class CycleRun:
    """What one child cycle did."""

    returncode: int
    seconds: float
    max_rss_mb: float
    stdout: str
    stderr: str
    netlog: list[str]
    killed_by_test: bool = False
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def crashed(self) -> bool:
        """Return True when an exception escaped the command or a signal the test did not plan
        killed it (a failure the command reports itself, exit 1/2/75, is not a crash)."""
        return self.returncode == CRASH_EXIT or (self.returncode < 0 and not self.killed_by_test)

    @property
    def blocked_connections(self) -> list[str]:
        """Return the connection attempts that tried to leave loopback."""
        return [line for line in self.netlog if not line.startswith("ok ")]


def write_config(
    folder: Path,
    feeds: list[str],
    *,
    allowed_hosts: list[str] = (),  # type: ignore[assignment]
    allow_private_hosts: bool = False,
    channels: tuple[str, ...] = ("slack",),
    fetch: dict[str, Any] | None = None,
    database: Path | None = None,
) -> Path:
    """Return a config file in folder: the feeds, short timeouts, loopback reachable only
    through extra_allowed_hosts (allow_private_hosts off unless asked)."""
    fetch_section = {
        "allow_private_hosts": allow_private_hosts,
        "extra_allowed_hosts": list(allowed_hosts),
        "connect_timeout_s": 1, "read_timeout_s": 2, "total_timeout_s": 4,
        "per_host_min_interval_s": 0, "per_host_concurrency": 4, "global_concurrency": 16,
        "max_new_items_per_feed": 40,
        **(fetch or {}),
    }
    config = {
        "database": str(database or folder / "newsmon.duckdb"),
        "watchlist_dir": str(ROOT / "config" / "watchlists"),
        "feeds": [{"name": f"feed {i}", "url": url} for i, url in enumerate(feeds)],
        "fetch": fetch_section,
        "events": {"max_article_age_days": None},
        "alerts": {"channels": list(channels), "timeout_s": 1},
    }
    path = folder / "newsmon.yaml"
    path.write_text(json.dumps(config, indent=1))  # JSON is YAML
    return path


def run_cycle(
    config: Path,
    *,
    env: dict[str, str] | None = None,
    feeds: list[str] | None = None,
    kill_when: Callable[[], bool] | None = None,
    timeout_s: float = 240.0,
    max_file_bytes: int | None = None,
) -> CycleRun:
    """Return the outcome of one `newsmon run` in a child process (killed with SIGKILL by the test
    as soon as kill_when() is true, if given; killed and failed after timeout_s). With
    max_file_bytes, no file the child writes may grow past that size (RLIMIT_FSIZE): a full
    disk, as far as the database is concerned, without root or a mount."""
    from prefect.settings import PREFECT_API_URL

    folder = config.parent
    netlog = folder / f"netlog-{time.monotonic_ns()}.txt"
    out_path, err_path = netlog.with_suffix(".out"), netlog.with_suffix(".err")
    child_env = {
        **os.environ, **(env or {}),
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        NETLOG_ENV: str(netlog),
        **({MAX_FILE_ENV: str(max_file_bytes)} if max_file_bytes else {}),
        "PYTHONPATH": str(ROOT),
    }
    started = time.monotonic()
    with open(out_path, "w") as out, open(err_path, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.faults.child", str(config), *(feeds or [])],
            env=child_env, cwd=ROOT, stdout=out, stderr=err,
        )
    killed = threading.Event()
    done = threading.Event()

    def watch() -> None:
        """Kill the child when the condition holds or the time is up."""
        while not done.wait(0.02):
            late = time.monotonic() - started > timeout_s
            if late or (kill_when is not None and kill_when()):
                killed.set()
                with suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    watcher.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - started
    stdout, stderr = out_path.read_text(), err_path.read_text()
    lines = netlog.read_text().splitlines() if netlog.exists() else []
    timed_out = killed.is_set() and seconds > timeout_s
    # Planned: killed by the watcher's condition, or by a NEWSMON_FAULT point in the child.
    # A kill at timeout_s is the cycle's failure to end, never planned.
    planned = (killed.is_set() or bool((env or {}).get("NEWSMON_FAULT"))) and not timed_out
    run = CycleRun(
        proc.returncode, seconds, usage.ru_maxrss / 1024, stdout, stderr, lines,
        killed_by_test=planned and proc.returncode == -signal.SIGKILL,
    )
    last = stdout.strip().splitlines()[-1] if stdout.strip() else ""
    if proc.returncode == 0 and last.startswith("{"):
        run.summary = json.loads(last)
    return run


rows = db_rows  # the fault tests import it from here


@contextmanager
def held_open(db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a write connection on db held by this process (another writer, as DuckDB sees it)."""
    con = duckdb.connect(str(db))
    try:
        yield con
    finally:
        con.close()


@dataclass
class SiteLog:
    """Requests a recorded site received, and the gate that holds page requests."""

    base: str = ""
    pages: list[str] = field(default_factory=list)  # page paths, in arrival order
    hold_from: int | None = None  # the n-th page request (1-based) and later ones are held
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def serve_recorded(root: Path, hold_from: int | None = None) -> Iterator[SiteLog]:
    """Yield the log of a loopback server serving root like newsmon.demo.serve_folder ({BASE}
    substituted), recording page requests and holding those from the hold_from-th on."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    log = SiteLog(hold_from=hold_from)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = (root / self.path.split("?")[0].lstrip("/")).resolve()
            if root.resolve() not in path.parents or not path.is_file():
                self.send_error(404)
                return
            if "/pages/" in self.path:
                with log.lock:
                    log.pages.append(self.path)
                    number = len(log.pages)
                if log.hold_from is not None and number >= log.hold_from:
                    log.release.wait(60)  # a slow site: the cycle is killed while it waits
            body = path.read_bytes().replace(b"{BASE}", log.base.encode())
            kind = "application/rss+xml" if path.suffix == ".xml" else "text/html; charset=utf-8"
            try:
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the client was killed while it waited

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    log.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                     daemon=True).start()
    try:
        yield log
    finally:
        log.release.set()
        server.shutdown()
        server.server_close()


def newsmon(args: list[str], env: dict[str, str] | None = None,
            timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    """Return the finished `newsmon ARGS` run in a child process against the test session's
    Prefect server (in-process CliRunner runs of `run` would bind Prefect's log handlers to
    the runner's temporary streams)."""
    from prefect.settings import PREFECT_API_URL

    child_env = {**os.environ, **(env or {}), "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    return subprocess.run(
        [sys.executable, "-m", "newsmon.cli", *args], env=child_env, cwd=ROOT,
        capture_output=True, text=True, timeout=timeout_s, check=False,
    )
