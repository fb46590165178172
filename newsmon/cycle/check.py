"""Pre-flight checks before the first hourly run: one result per check, with the fix.

`newsmon check` runs these in order. Each returns Check(name, outcome, detail, fix): "ok",
"warn" (the cycle runs, but something will not work as the user probably expects) or "fail"
(the cycle cannot do its job). Only a fail makes the command exit non-zero.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import httpx

from newsmon.alerts.delivery import redact
from newsmon.alerts.policy import AlertPolicy, idle_channel_warnings
from newsmon.analysis.nlp import load_nlp
from newsmon.analysis.watchlist import load_watchlist
from newsmon.lock import lock_path
from newsmon.settings import ConfigError, Settings, load_settings
from newsmon.sources.discover import DiscoveredFeed, validate_feed
from newsmon.sources.fetch import FetchLimits, make_client
from newsmon.store import DatabaseBusy, DatabaseError, connect, head_version, schema_version

OK, WARN, FAIL = "ok", "warn", "fail"
MIN_FREE_BYTES = 500_000_000  # a year of hourly cycles on 15 feeds fits well inside this


@dataclass(frozen=True)
class Check:
    """The outcome of one check."""

    name: str
    outcome: str  # ok, warn, fail
    detail: str
    fix: str = ""


def check_config(config: Path | None) -> tuple[Check, Settings | None]:
    """Return the config check and the settings (None when they do not load)."""
    where = str(config) if config else "defaults (no config file)"
    try:
        settings = load_settings(config)
        watchlist = load_watchlist(settings.watchlist_dir, settings.watchlist)
    except ConfigError as exc:
        return Check("config", FAIL, str(exc), "fix the key it names, then run check again"), None
    people = sum(len(side.persons) for side in watchlist.sides)
    return Check("config", OK, f"{where} valid; watchlist {watchlist.name} ({people} people), "
                 f"{len(settings.feeds)} feeds"), settings


def check_model(settings: Settings) -> Check:
    """Return whether the spaCy model loads, which one, and how long it took."""
    started = time.monotonic()
    try:
        nlp = load_nlp(settings.nlp.model, settings.nlp.fallback_model)
    except ConfigError as exc:
        return Check("nlp model", FAIL, str(exc), "run `make install` (it installs the model)")
    seconds = time.monotonic() - started
    name = f"{nlp.meta.get('lang', '?')}_{nlp.meta.get('name', '?')}"
    return Check("nlp model", OK, f"{name} {nlp.meta.get('version', '')} loaded in {seconds:.1f} s")


def _existing_folder(path: Path) -> Path:
    """Return the nearest folder of the path that exists (the cycle creates the rest)."""
    folder = path.resolve().parent
    while not folder.exists():
        folder = folder.parent
    return folder


def _can_write_in(folder: Path) -> bool:
    """Return True when a file can be created in the folder (tried, not inferred from modes:
    root passes every mode check, a read-only mount or a file in the way does not)."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".newsmon-check-"):
            return True
    except OSError:
        return False


def check_database(path: Path) -> Check:
    """Return whether the database opens, its schema version, and the free disk beside it."""
    path = path.resolve()
    existing = _existing_folder(path)
    free = shutil.disk_usage(existing).free
    disk = f"{free / 1e9:.1f} GB free"
    if not path.exists():
        if not _can_write_in(existing):
            return Check("database", FAIL, f"{path} does not exist and {existing} is not "
                         "writable", f"make {existing} writable or set database: elsewhere")
        return Check("database", OK, f"{path} will be created at the first run (schema "
                     f"v{head_version()}); {disk}")
    try:
        con = connect(path, read_only=True)
    except DatabaseBusy as exc:
        return Check("database", WARN, str(exc), "a cycle is running: check again in a minute")
    except (DatabaseError, duckdb.Error) as exc:
        return Check("database", FAIL, f"{path}: {exc}",
                     "restore it from a backup or point database: at a new file")
    try:
        version = schema_version(con)
    finally:
        con.close()
    if version > head_version():
        return Check("database", FAIL, f"{path} is at schema v{version}, newer than this "
                     f"newsmon (v{head_version()})", "upgrade newsmon")
    pending = "" if version == head_version() else f" (the next run migrates to v{head_version()})"
    if free < MIN_FREE_BYTES:
        return Check("database", WARN, f"{path}: schema v{version}{pending}; only {disk}",
                     "free disk space: a full disk stops the cycle")
    return Check("database", OK, f"{path}: schema v{version}{pending}; {disk}")


def check_lock(database: Path) -> Check:
    """Return whether the cycle's lock file can be written."""
    path = lock_path(database.resolve())
    target = _existing_folder(path)
    writable = os.access(path, os.W_OK) if path.is_file() else _can_write_in(target)
    if writable:
        return Check("lock file", OK, f"{path} writable")
    return Check("lock file", FAIL, f"{path} cannot be written",
                 f"make {target} writable for the user that runs newsmon")


def check_feeds(settings: Settings, client: httpx.Client, limits: FetchLimits) -> Iterator[Check]:
    """Yield one check per feed: fetched with the real fetcher and parsed, or its named error."""
    if not settings.feeds:
        yield Check("feeds", WARN, "no feeds configured", "add one with `newsmon feeds add URL`")
    for feed in settings.feeds:
        found = validate_feed(client, feed.url, limits)
        if isinstance(found, DiscoveredFeed):
            outcome = OK if found.items else WARN
            yield Check(f"feed {feed.name}", outcome, f"{found.items} items ({found.version})",
                        "" if found.items else "an empty feed is polled, but gives nothing")
        else:
            yield Check(f"feed {feed.name}", FAIL, found.removeprefix(f"{feed.url}: "),
                        "check the URL in a browser; a failing feed is retried with backoff")


def _redacted(url: str) -> str:
    """Return a secret URL shown by its scheme and host only: the path is the secret."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}/…(redacted)"


def check_channels(
    settings: Settings, client: httpx.Client,
    send_test: Callable[[str], tuple[str, str]] | None = None,
) -> Iterator[Check]:
    """Yield one check per alert channel: enabled, its secret present (redacted), and a dry
    request that answers. Slack gets a POST only through send_test (`--send-test`)."""
    enabled = AlertPolicy.from_settings(settings.alerts).all_channels()
    sources = settings.secret_sources()
    urls = {"slack": settings.slack_webhook_url, "webhook": settings.webhook_url}
    for channel in dict.fromkeys((*enabled, *sources)):
        if channel == "console":
            yield Check("channel console", OK, "prints alerts in the cycle's output")
            continue
        secret = urls.get(channel)
        if channel not in sources:
            yield Check(f"channel {channel}", FAIL, "enabled but no secret is set",
                        f"set {'NEWSMON_SLACK_WEBHOOK_URL' if channel == 'slack' else 'NEWSMON_WEBHOOK_URL'}")
            continue
        if secret is None:  # the Slack URL lives in a Prefect block: loaded by the cycle
            yield Check(f"channel {channel}", OK, f"secret from {sources[channel]}")
            continue
        url = secret.get_secret_value()
        shown = f"{_redacted(url)} from {sources[channel]}"
        if channel == "slack" and send_test is not None:
            outcome, reason = send_test(channel)
            yield Check(f"channel {channel}", OK if outcome == "delivered" else FAIL,
                        f"{shown}; test message {outcome} {reason}".strip(),
                        "" if outcome == "delivered" else "check the webhook in Slack")
            continue
        yield _dry_request(channel, url, shown, client)


def check_idle_channels(settings: Settings) -> Iterator[Check]:
    """Yield a warning per channel whose secret is set but which no alert goes to."""
    enabled = AlertPolicy.from_settings(settings.alerts).all_channels()
    for warning in idle_channel_warnings(enabled, settings.secret_sources()):
        yield Check("channels", WARN, warning, "add the channel to alerts.channels")


def _dry_request(channel: str, url: str, shown: str, client: httpx.Client) -> Check:
    """Return whether the channel's endpoint answers a GET (any HTTP answer counts)."""
    try:
        status = client.get(url).status_code
    except httpx.HTTPError as exc:
        reason = redact(f"{type(exc).__name__}: {exc}", url)
        return Check(f"channel {channel}", FAIL, f"{shown}; no answer ({reason})",
                     "check the URL and the network")
    extra = "; a test message: `newsmon check --send-test`" if channel == "slack" else ""
    return Check(f"channel {channel}", OK, f"{shown}; the endpoint answers (HTTP {status})"
                 f"{extra}")


def check_prefect(client: httpx.Client) -> Check:
    """Return whether the Prefect API answers, or say that a temporary server will be used."""
    api = os.environ.get("PREFECT_API_URL")
    if not api:
        return Check("prefect", OK, "no PREFECT_API_URL: `newsmon run` uses a temporary local "
                     "server, `newsmon serve` starts its own")
    try:
        status = client.get(api.rstrip("/") + "/health").status_code
    except httpx.HTTPError as exc:
        return Check("prefect", FAIL, f"{api} does not answer ({type(exc).__name__})",
                     "start the server (`prefect server start`) or unset PREFECT_API_URL")
    if status != 200:
        return Check("prefect", FAIL, f"{api}/health answered HTTP {status}",
                     "check PREFECT_API_URL")
    return Check("prefect", OK, f"{api} answers")


def run_checks(
    config: Path | None, database: Path | None = None, network: bool = True,
    send_test: Callable[[str], tuple[str, str]] | None = None,
) -> Iterator[Check]:
    """Yield every check in order; the later ones need the settings the first one loads."""
    first, settings = check_config(config)
    yield first
    if settings is None:
        return
    if database is not None:
        settings = settings.model_copy(update={"database": database})
    yield check_model(settings)
    yield check_database(settings.database)
    yield check_lock(settings.database)
    yield from check_idle_channels(settings)
    if not network:
        yield Check("network", WARN, "--no-network: feeds, channels and Prefect not checked")
        return
    limits = FetchLimits.from_settings(settings.fetch)
    with make_client(limits) as feeds_client:
        yield from check_feeds(settings, feeds_client, limits)
    with httpx.Client(timeout=settings.alerts.timeout_s, trust_env=False) as client:
        yield from check_channels(settings, client, send_test)
        yield check_prefect(client)
