"""A real loopback HTTP endpoint that answers like Slack's incoming webhook, scripted per request.

Answers: ok (200 "ok"), rate_limited (429 + Retry-After), server_error (500), timeout (answers
only after the client gave up), invalid_payload (400), channel_is_archived (410). Every request
is recorded; every body answered "ok" is checked against Slack's limits.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from newsmon.alerts.slack_check import validate_slack_payload

# The token part of the URL: tests grep logs, databases and artifacts for it.
TOKEN = "XOXBwebhookTOKEN7c1e"


@dataclass(frozen=True)
class Answer:
    """One scripted answer."""

    status: int = 200
    body: str = "ok"
    headers: tuple[tuple[str, str], ...] = ()
    delay_s: float = 0.0


OK = Answer()
RATE_LIMITED = Answer(429, "rate_limited", (("Retry-After", "30"),))
SERVER_ERROR = Answer(500, "internal_error")
TIMEOUT = Answer(200, "ok", delay_s=1.0)  # with alerts.timeout_s well below 1 s
INVALID_PAYLOAD = Answer(400, "invalid_payload")
CHANNEL_IS_ARCHIVED = Answer(410, "channel_is_archived")


@dataclass
class Received:
    """One request as the endpoint saw it."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    answer: Answer


@dataclass
class SlackEndpoint:
    """The endpoint's state: scripted answers, default answer, what it received."""

    url: str = ""
    script: list[Answer] = field(default_factory=list)
    default: Answer = OK
    received: list[Received] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # Slack-limit violations seen
    check_slack_limits: bool = True
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer_next(self, *answers: Answer) -> None:
        """Queue answers for the next requests (then the default applies)."""
        with self.lock:
            self.script.extend(answers)

    @property
    def delivered(self) -> list[dict[str, Any]]:
        """Return the bodies answered 200 "ok" in time, in arrival order."""
        return [r.body for r in self.received if r.answer.status == 200 and not r.answer.delay_s]


def _handler(state: SlackEndpoint) -> type[BaseHTTPRequestHandler]:
    """Return a handler class bound to the endpoint's state."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            """Record the request and send the next scripted answer."""
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            with state.lock:
                answer = state.script.pop(0) if state.script else state.default
                state.received.append(Received(self.path, dict(self.headers), body, answer))
                if state.check_slack_limits and "blocks" in body:
                    state.problems += validate_slack_payload(body)
            if answer.delay_s:
                time.sleep(answer.delay_s)
            data = answer.body.encode()
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in answer.headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and hung up, as intended

        def log_message(self, format: str, *args: object) -> None:
            """Stay quiet: the tests read what was received, not a log."""

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet about clients that hung up on purpose."""


@contextmanager
def slack_endpoint(path: str = f"/services/T0NEWSMON/B0ALERTS/{TOKEN}") -> Iterator[SlackEndpoint]:
    """Yield a running endpoint; its URL carries a secret-looking token in the path."""
    state = SlackEndpoint()
    server = _Server(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
