"""`newsmon serve`: the monitor flow on a schedule, against a real Prefect server.

`flow.serve` schedules nothing against Prefect's temporary (ephemeral) server ("Cannot schedule
flows on an ephemeral server"), so serve needs a real one: the server at PREFECT_API_URL (env or
Prefect profile) if one is configured, else a `prefect server start` child process that serve
starts, waits for, and stops on exit. It always says which of the two it used.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

DEPLOYMENT_NAME = "newsmon-hourly"
HEALTH_TIMEOUT_S = 90.0  # measured here: healthy after 8-14 s, ~16 s on a cold first start


class ServerError(Exception):
    """The Prefect server could not be reached or started; the message says what to do."""


@dataclass
class LocalServer:
    """A `prefect server start` child process."""

    process: subprocess.Popen[bytes]
    api_url: str
    log_path: Path
    started_in_s: float

    def stop(self, timeout_s: float = 20.0) -> int | None:
        """Stop the server (SIGTERM to its process group, SIGKILL after the timeout); return its
        exit code."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        return self.process.returncode


def configured_api_url() -> str | None:
    """Return the Prefect API URL set in the environment or the active Prefect profile, if any."""
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    return str(url) if url else None


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on host right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_healthy(api_url: str, timeout_s: float, alive: Callable[[], bool] = lambda: True
                 ) -> float:
    """Return the seconds it took until GET <api>/health answered 200; raise ServerError."""
    started = time.monotonic()
    last = "no answer yet"
    while time.monotonic() - started < timeout_s:
        if not alive():
            raise ServerError("the Prefect server process exited during start-up")
        try:
            answer = httpx.get(f"{api_url.rstrip('/')}/health", timeout=2.0, trust_env=False)
            if answer.status_code == 200:
                return time.monotonic() - started
            last = f"HTTP {answer.status_code}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.5)
    raise ServerError(f"Prefect server at {api_url} not healthy after {timeout_s:.0f} s ({last})")


def _die_with_parent() -> None:
    """In the child before exec: own process group, and SIGTERM when the parent dies (Linux)."""
    os.setsid()
    with contextlib.suppress(Exception):
        import ctypes

        # PR_SET_PDEATHSIG = 1: even if `newsmon serve` is killed with SIGKILL, the kernel
        # sends the server SIGTERM, so no orphan server keeps the port and the SQLite file.
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def start_local_server(
    host: str = "127.0.0.1", port: int | None = None, timeout_s: float = HEALTH_TIMEOUT_S,
    log_path: Path | None = None,
) -> LocalServer:
    """Return a running `prefect server start` child process, healthy; raise ServerError."""
    port = port or free_port(host)
    api_url = f"http://{host}:{port}/api"
    prefect_home = Path(os.environ.get("PREFECT_HOME", Path.home() / ".prefect")).expanduser()
    prefect_home.mkdir(parents=True, exist_ok=True)
    log_path = log_path or prefect_home / "newsmon-server.log"
    executable = Path(sys.executable).with_name("prefect")
    command = ([str(executable)] if executable.exists() else [sys.executable, "-m", "prefect"])
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    env.pop("PREFECT_API_URL", None)  # the server must not try to talk to another server
    # The server's own database grows ~560 KB per run: let its vacuum service trim old runs.
    env.setdefault("PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED", "events,flow_runs")
    log = open(log_path, "ab")  # noqa: SIM115 - handed to the child, closed below
    try:
        process = subprocess.Popen(
            [*command, "server", "start", "--host", host, "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - only setsid + prctl, no locks
        )
    finally:
        log.close()
    server = LocalServer(process, api_url, log_path, 0.0)
    try:
        server.started_in_s = wait_healthy(api_url, timeout_s, lambda: process.poll() is None)
    except (ServerError, KeyboardInterrupt):
        server.stop()
        raise ServerError(
            f"could not start `prefect server start` on {host}:{port}; see {log_path}"
        ) from None
    return server


@contextlib.contextmanager
def prefect_server(
    say: Callable[[str], None], timeout_s: float = HEALTH_TIMEOUT_S
) -> Iterator[str]:
    """Yield the API URL of a usable Prefect server: the configured one, or a started child
    (stopped when the block ends). Say which one it is."""
    url = configured_api_url()
    if url:
        try:
            wait_healthy(url, min(timeout_s, 15.0))
        except ServerError as exc:
            raise ServerError(
                f"PREFECT_API_URL is {url} but no healthy Prefect server answers there ({exc}). "
                "Start it (`prefect server start`) or unset PREFECT_API_URL to let newsmon serve "
                "start one."
            ) from None
        say(f"using the Prefect server at {url} (from PREFECT_API_URL)")
        yield url
        return
    say("PREFECT_API_URL is not set: starting `prefect server start` (SQLite in PREFECT_HOME); "
        "it stops when newsmon serve stops")
    server = start_local_server(timeout_s=timeout_s)
    say(f"started a Prefect server at {server.api_url} (pid {server.process.pid}, healthy after "
        f"{server.started_in_s:.1f} s, log {server.log_path}); UI at "
        f"{server.api_url.removesuffix('/api')}")
    os.environ["PREFECT_API_URL"] = server.api_url  # for the flow-run child processes
    try:
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings({PREFECT_API_URL: server.api_url}):
            yield server.api_url
    finally:
        code = server.stop()
        os.environ.pop("PREFECT_API_URL", None)
        say(f"stopped the Prefect server it started (exit code {code})")


def serve_monitor(
    parameters: dict[str, Any],
    *,
    cron: str | None,
    timezone: str,
    interval_s: float | None,
    name: str = DEPLOYMENT_NAME,
) -> None:
    """Serve the monitor flow on the cron (in timezone) or interval until interrupted."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron, Interval

    from flows.monitor import monitor

    schedule = (Interval(interval_s, timezone=timezone) if interval_s
                else Cron(cron or "0 * * * *", timezone=timezone))
    monitor.serve(
        name=name,
        schedules=[schedule],
        parameters=parameters,
        # One run at a time, server side: an overlapping scheduled run is cancelled, not queued
        # behind a hung one (the cycle lock on the database is the second, independent guard).
        global_limit=ConcurrencyLimitConfig(
            limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
        ),
        limit=1,
        # The package is installed: the run processes import flows.monitor from any cwd.
        entrypoint_type=EntrypointType.MODULE_PATH,
        print_starting_message=True,
    )


def raise_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt, so a service stop runs the clean-up (server stop)."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
