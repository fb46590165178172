"""Tests for newsmon.alerts.delivery against a real loopback HTTP server that answers like Slack."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import astuple
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from newsmon.alerts.delivery import (
    DeliveryResult,
    next_attempt_delay,
    parse_retry_after,
    post_slack,
    post_webhook,
    redact,
)

SECRET = "SECRETTOKEN"
WEBHOOK_PATH = f"/T000/B000/{SECRET}"
TIMEOUT_S = 0.25
SLOW_S = 1.0  # longer than TIMEOUT_S, short enough that the daemon handler thread dies quickly
PAYLOAD: dict[str, Any] = {
    "text": "Meeting: Vladimir Putin — Asaad al-Shaibani · Moscow · 23 Dec 2025",
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "A &amp; B — ✓"}}],
}

# route -> (status, body, extra headers)
ROUTES: dict[str, tuple[int, str, dict[str, str]]] = {
    "ok": (200, "ok", {}),
    "ratelimited": (429, "rate_limited", {"Retry-After": "7"}),
    "error": (500, "internal_error", {}),
    "unavailable": (503, "", {"Retry-After": "30"}),
    "invalid": (400, "invalid_payload", {}),
    "archived": (410, "channel_is_archived", {}),
    "noservice": (404, "no_service", {}),
    "forbidden": (403, "action_prohibited", {}),
    "proxy": (200, "<html>hello</html>", {}),
    "redirect": (302, "", {"Location": "http://127.0.0.1:9/elsewhere"}),
    "echo-url": (400, "", {}),  # the handler answers with the request path, i.e. the secret
    "slow": (200, "ok", {}),  # answered after SLOW_S, once the client has given up
}


class _SlackLikeHandler(BaseHTTPRequestHandler):
    """Answers by the first path segment, like Slack's webhook endpoint would."""

    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        self.server.received.append((self.path, self.headers.get("Content-Type"), body))
        route = self.path.split("/")[1]
        if route == "garbage":
            # Not HTTP: httpx's exception message then quotes this line, secret path included.
            self.wfile.write(f"BOGUS {self.path}\r\n\r\n".encode())
            return
        if route == "slow":
            time.sleep(SLOW_S)
        status, text, headers = ROUTES.get(route, (404, "no_service", {}))
        if route == "echo-url":
            text = f"bad webhook {self.path}"
        try:
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the /slow route): nothing to answer

    def log_message(self, *args: Any) -> None:
        """Keep the test output quiet."""


class _Server(ThreadingHTTPServer):
    received: list[tuple[str, str | None, bytes]]

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore errors from clients that hung up on purpose."""


@pytest.fixture(scope="module")
def server() -> Iterator[_Server]:
    srv = _Server(("127.0.0.1", 0), _SlackLikeHandler)
    srv.received = []
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    # trust_env=False: a proxy configured in the environment must not intercept loopback calls.
    with httpx.Client(trust_env=False) as c:
        yield c


def _url(server: _Server, route: str) -> str:
    return f"http://127.0.0.1:{server.server_port}/{route}{WEBHOOK_PATH}"


def _assert_no_secret(result: DeliveryResult, url: str) -> None:
    rendered = " ".join([repr(result), str(result), *map(str, astuple(result))])
    assert url not in rendered
    assert SECRET not in rendered
    assert WEBHOOK_PATH not in rendered


@pytest.mark.parametrize(
    ("route", "outcome", "status", "reason", "retry_after"),
    [
        ("ok", "delivered", 200, "ok", None),
        ("ratelimited", "retry", 429, "rate_limited", 7.0),
        ("error", "retry", 500, "server_error 500", None),
        ("unavailable", "retry", 503, "server_error 503", 30.0),
        ("invalid", "failed", 400, "invalid_payload", None),
        ("archived", "failed", 410, "channel_is_archived", None),
        ("noservice", "failed", 404, "no_service", None),
        ("forbidden", "failed", 403, "action_prohibited", None),
        ("proxy", "delivered", 200, "ok_unexpected_body", None),
        ("redirect", "failed", 302, "unexpected_redirect 302", None),
        ("echo-url", "failed", 400, "http 400", None),
        ("slow", "retry", None, "timeout", None),
    ],
)
def test_post_slack_outcomes(
    server: _Server,
    client: httpx.Client,
    caplog: pytest.LogCaptureFixture,
    route: str,
    outcome: str,
    status: int | None,
    reason: str,
    retry_after: float | None,
) -> None:
    url = _url(server, route)
    server.received.clear()
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    started = time.monotonic()

    result = post_slack(client, url, PAYLOAD, TIMEOUT_S)

    assert result == DeliveryResult(outcome, status, reason, retry_after)
    assert time.monotonic() - started < SLOW_S  # the timeout, not the server, ended /slow
    # The server got exactly one request, with the exact JSON body, on the secret path.
    assert len(server.received) == 1
    path, content_type, body = server.received[0]
    assert path == f"/{route}{WEBHOOK_PATH}"
    assert content_type == "application/json; charset=utf-8"
    assert body == json.dumps(PAYLOAD, ensure_ascii=False).encode("utf-8")
    assert json.loads(body) == PAYLOAD
    _assert_no_secret(result, url)
    assert SECRET not in caplog.text


def test_httpx_request_log_is_redacted(
    server: _Server, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="httpx")
    post_slack(client, _url(server, "ok"), PAYLOAD, TIMEOUT_S)
    # httpx did log the request (so the check below is not vacuous), without the secret path.
    assert "HTTP Request: POST" in caplog.text
    assert "[REDACTED]" in caplog.text
    assert SECRET not in caplog.text


def test_post_webhook_outcomes(server: _Server, client: httpx.Client) -> None:
    cases = {
        "ok": DeliveryResult("delivered", 200, "ok"),
        "proxy": DeliveryResult("delivered", 200, "ok"),
        "ratelimited": DeliveryResult("retry", 429, "rate_limited", 7.0),
        "error": DeliveryResult("retry", 500, "server_error 500"),
        "noservice": DeliveryResult("failed", 404, "client_error 404"),
        "redirect": DeliveryResult("failed", 302, "unexpected_redirect 302"),
        "slow": DeliveryResult("retry", None, "timeout"),
    }
    for route, expected in cases.items():
        server.received.clear()
        url = _url(server, route)
        result = post_webhook(client, url, PAYLOAD, TIMEOUT_S)
        assert result == expected, route
        assert [json.loads(body) for _, _, body in server.received] == [PAYLOAD]
        _assert_no_secret(result, url)


def test_connection_refused_is_retried_without_the_url(client: httpx.Client) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/services{WEBHOOK_PATH}"
    result = post_slack(client, url, PAYLOAD, TIMEOUT_S)
    assert result.outcome == "retry"
    assert result.status is None
    assert result.reason.startswith("connection_error: ConnectError")
    _assert_no_secret(result, url)


def test_exception_messages_quoting_the_url_are_scrubbed(
    server: _Server, client: httpx.Client
) -> None:
    url = _url(server, "garbage")
    result = post_slack(client, url, PAYLOAD, TIMEOUT_S)
    assert result.outcome == "retry"
    assert result.reason.startswith("connection_error: RemoteProtocolError")
    assert "[REDACTED]" in result.reason  # the message did quote the path, and it was scrubbed
    _assert_no_secret(result, url)


@pytest.mark.parametrize(
    "url",
    [f"ftp://hooks.example.invalid{WEBHOOK_PATH}", f"hooks.example.invalid{WEBHOOK_PATH}", ""],
)
def test_malformed_url_fails_without_the_url(client: httpx.Client, url: str) -> None:
    result = post_slack(client, url, PAYLOAD, TIMEOUT_S)
    assert result.outcome == "failed"
    assert result.reason.startswith("invalid_url")
    _assert_no_secret(result, url or WEBHOOK_PATH)


def test_unserialisable_payload_fails_before_sending(server: _Server, client: httpx.Client) -> None:
    server.received.clear()
    result = post_slack(client, _url(server, "ok"), {"text": float("nan")}, TIMEOUT_S)
    assert result == DeliveryResult("failed", None, "unserialisable_payload: ValueError")
    assert server.received == []


def test_redact_covers_the_forms_a_url_takes_in_messages() -> None:
    url = f"https://hooks.slack.com/services{WEBHOOK_PATH}"
    messages = [
        f"All connection attempts failed for {url}",
        f"Request URL: '{httpx.URL(url)}'",
        f"POST /services{WEBHOOK_PATH} HTTP/1.1",
        f"token {SECRET} rejected",
    ]
    for message in messages:
        cleaned = redact(message, url)
        assert SECRET not in cleaned
        assert "[REDACTED]" in cleaned
    assert redact("no secret here", url) == "no secret here"
    assert redact("anything", "") == "anything"
    # A secret in the query string or userinfo of a generic webhook is covered too.
    generic = "https://user:pa55w0rd-long@example.com/hook?token=abcdef123456"
    assert redact(f"failed: {generic}", generic) == "failed: [REDACTED]"
    assert "abcdef123456" not in redact("token=abcdef123456", generic)
    assert "pa55w0rd-long" not in redact("auth pa55w0rd-long", generic)


def test_parse_retry_after() -> None:
    now = datetime(2025, 12, 23, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("Tue, 23 Dec 2025 12:02:00 GMT", now=now) == 120.0
    assert parse_retry_after("Tue, 23 Dec 2025 11:00:00 GMT", now=now) == 0.0  # in the past
    assert parse_retry_after("-5") == 0.0
    assert parse_retry_after("99999999") == 86_400.0
    for junk in (None, "", "soon", "nan"):
        assert parse_retry_after(junk) is None


def test_next_attempt_delay() -> None:
    assert [next_attempt_delay(n, None) for n in range(1, 9)] == [
        60, 120, 240, 480, 960, 1920, 3600, 3600,
    ]  # fmt: skip
    assert next_attempt_delay(0, None) == 60  # "no attempt yet" is treated as the first
    assert next_attempt_delay(10_000, None) == 3600  # no overflow
    assert next_attempt_delay(1, 7.0) == 60  # Retry-After is a floor, not a target
    assert next_attempt_delay(1, 600.0) == 600
    assert next_attempt_delay(8, 7200.0) == 7200  # honoured above the cap...
    assert next_attempt_delay(8, 1e9) == 86_400  # ...within reason
    assert next_attempt_delay(2, float("nan")) == 120
    assert next_attempt_delay(3, None, base_s=1, cap_s=10) == 4
