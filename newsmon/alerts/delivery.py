"""Posting alerts to a Slack incoming webhook or a generic JSON webhook, with an explicit client.

A webhook URL is a credential (anyone holding a Slack webhook URL can post to the channel), so no
string this module returns or logs contains it: reasons are short fixed codes, exception text is
passed through `redact`, and the request log line httpx writes itself is redacted by a filter.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import re
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx

REDACTED = "[REDACTED]"
# Path segments and query values that look like tokens are redacted on their own too: a token
# such as Slack's 24-character one may appear in a message without the rest of the URL. Plain
# lowercase words ("services", "hooks") are left alone so that reasons stay readable.
_SECRET_PART_MIN = 8
_PLAIN_WORD_RE = re.compile(r"[a-z._-]+")
_REASON_MAX = 200
# A Retry-After beyond this is a misconfigured server, not advice to follow.
_RETRY_AFTER_MAX_S = 86_400.0
# Slack's error bodies are snake_case codes ("channel_is_archived"); anything else is not echoed.
_SLACK_CODE_RE = re.compile(r"[a-z][a-z0-9_]{1,63}")


@dataclass(frozen=True)
class DeliveryResult:
    """The outcome of one delivery attempt; never contains the destination URL."""

    outcome: str  # delivered | retry | failed
    status: int | None  # HTTP status, None when no response arrived
    reason: str  # ok, rate_limited, server_error 500, timeout, invalid_payload, ...
    retry_after_s: float | None = None


# --------------------------------------------------------------------------------------------
# secrets


def _secret_variants(secret: str) -> list[str]:
    """Return the spellings of secret worth redacting, longest first."""
    variants = {secret, secret.strip()}
    with contextlib.suppress(Exception):  # an unparseable URL still has its literal form redacted
        variants.add(str(httpx.URL(secret)))
    with contextlib.suppress(ValueError):
        parts = urlsplit(secret.strip())
        path_query = parts.path + (f"?{parts.query}" if parts.query else "")
        if parts.path not in ("", "/"):
            variants.update({path_query, parts.path, unquote(parts.path)})
        pieces = [p for p in parts.path.split("/") if p]
        pieces += [value for _, value in parse_qsl(parts.query, keep_blank_values=True)]
        if parts.password:
            pieces.append(parts.password)
        for piece in pieces:
            if len(piece) >= _SECRET_PART_MIN and not _PLAIN_WORD_RE.fullmatch(piece):
                variants.update({piece, unquote(piece)})
    return sorted((v for v in variants if v), key=len, reverse=True)


def redact(text: str, secret: str) -> str:
    """Return text with every occurrence of secret (and of its path, token and normalised forms)
    replaced by "[REDACTED]"."""
    if not secret:
        return text
    for variant in _secret_variants(secret):
        text = text.replace(variant, REDACTED)
    return text


# httpx logs every request at INFO with the full URL ('HTTP Request: POST https://hooks...').
# The secrets of the requests under way in this thread/task are kept here, and a filter on the
# "httpx" logger rewrites those records, whatever logging configuration the application uses.
_ACTIVE_SECRETS: ContextVar[tuple[str, ...]] = ContextVar("newsmon_active_secrets", default=())


class _RedactSecretsFilter(logging.Filter):
    """Rewrites log records so that none shows a secret active in the current context."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Return True (keep the record) after redacting its message and arguments."""
        secrets = _ACTIVE_SECRETS.get()
        if not secrets:
            return True
        message = record.getMessage()
        clean = message
        for secret in secrets:
            clean = redact(clean, secret)
        if clean != message:
            record.msg = clean
            record.args = None
        return True


def _install_log_filter() -> None:
    """Add the redacting filter to the "httpx" logger, once.

    Logger filters do not apply to child loggers; httpcore's ("httpcore.http11", ...) log host
    and port at DEBUG but never the path, which is where a webhook's secret lives.
    """
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactSecretsFilter) for f in logger.filters):
        logger.addFilter(_RedactSecretsFilter())


_install_log_filter()


@contextlib.contextmanager
def _secret_active(secret: str) -> Iterator[None]:
    """Mark secret as in use by this context for the duration of the block."""
    token = _ACTIVE_SECRETS.set((*_ACTIVE_SECRETS.get(), secret))
    try:
        yield
    finally:
        _ACTIVE_SECRETS.reset(token)


# --------------------------------------------------------------------------------------------
# HTTP


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Return the seconds a Retry-After header (delta-seconds or HTTP-date) asks for, or None."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)  # RFC 9110 HTTP-dates are always GMT
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), _RETRY_AFTER_MAX_S)


def _post(
    client: httpx.Client,
    url: str,
    payload: dict[str, Any],
    timeout_s: float,
    headers: dict[str, str] | None = None,
) -> httpx.Response | DeliveryResult:
    """Return the response to a JSON POST, or the DeliveryResult for a request that failed."""
    try:
        # Serialised here, not by httpx, so that NaN or a non-JSON value fails loudly as a bad
        # payload instead of an exception, and the body sent is exactly json.dumps(payload).
        body = json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        return DeliveryResult("failed", None, f"unserialisable_payload: {type(exc).__name__}")
    try:
        with _secret_active(url):
            return client.post(
                url,
                content=body,
                headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
                timeout=timeout_s,
                # A webhook never redirects; following one would send the alert somewhere else.
                follow_redirects=False,
            )
    except httpx.TimeoutException:
        return DeliveryResult("retry", None, "timeout")
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        # A malformed URL will not get better by waiting. Only the class name is kept: the
        # message of these exceptions quotes the URL.
        return DeliveryResult("failed", None, f"invalid_url ({type(exc).__name__})")
    except httpx.TransportError as exc:
        return DeliveryResult("retry", None, _reason("connection_error", exc, url))
    except Exception as exc:  # noqa: BLE001 - record a reason; one alert must not crash the outbox
        return DeliveryResult("retry", None, _reason("unexpected_error", exc, url))


def _reason(prefix: str, exc: BaseException, secret: str) -> str:
    """Return "prefix: ExcClass: message" with the secret redacted and the length capped."""
    detail = " ".join(str(exc).split())
    text = f"{prefix}: {type(exc).__name__}" + (f": {detail}" if detail else "")
    return redact(text, secret)[:_REASON_MAX]


def _retryable_status(response: httpx.Response) -> DeliveryResult | None:
    """Return the retry result for 429, 408 and 5xx responses, or None for other statuses."""
    status = response.status_code
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if status == 429:
        return DeliveryResult("retry", status, "rate_limited", retry_after)
    if status == 408:
        return DeliveryResult("retry", status, "request_timeout 408", retry_after)
    if status >= 500:
        return DeliveryResult("retry", status, f"server_error {status}", retry_after)
    return None


def _body_code(response: httpx.Response, secret: str) -> str | None:
    """Return the response body if it is a short snake_case error code, else None."""
    try:
        text = response.text.strip()
    except Exception:  # noqa: BLE001 - an undecodable body is simply not an error code
        return None
    code = redact(text, secret)
    return code if _SLACK_CODE_RE.fullmatch(code) else None


def post_slack(
    client: httpx.Client, webhook_url: str, payload: dict[str, Any], timeout_s: float
) -> DeliveryResult:
    """Return the outcome of posting payload to a Slack incoming webhook.

    200 "ok" is delivered; 429, 408, 5xx, timeouts and connection errors are retried (429 with
    its Retry-After); any other answer (invalid_payload, no_service, channel_is_archived, ...)
    is a permanent failure with Slack's error code as the reason.
    """
    result = _post(client, webhook_url, payload, timeout_s)
    if isinstance(result, DeliveryResult):
        return result
    response = result
    status = response.status_code
    if 200 <= status < 300:
        # Slack answers exactly "ok"; a 2xx with anything else (a proxy page?) was still accepted
        # by someone, so it is not retried, but the reason flags it for a human.
        code = _body_code(response, webhook_url)
        return DeliveryResult("delivered", status, "ok" if code == "ok" else "ok_unexpected_body")
    retry = _retryable_status(response)
    if retry is not None:
        return retry
    if 300 <= status < 400:
        return DeliveryResult("failed", status, f"unexpected_redirect {status}")
    return DeliveryResult("failed", status, _body_code(response, webhook_url) or f"http {status}")


def post_webhook(
    client: httpx.Client,
    url: str,
    payload: dict[str, Any],
    timeout_s: float,
    idempotency_key: str | None = None,
) -> DeliveryResult:
    """Return the outcome of posting payload as JSON to a generic webhook.

    Any 2xx is delivered; 429, 408, 5xx, timeouts and connection errors are retried; other
    statuses are permanent failures ("client_error 404", "unexpected_redirect 301"). The
    idempotency key, when given, is sent as the Idempotency-Key header so that a receiver can
    drop the duplicate the outbox may send after a crash or a timeout (docs/alerts.md).
    """
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
    result = _post(client, url, payload, timeout_s, headers)
    if isinstance(result, DeliveryResult):
        return result
    status = result.status_code
    if 200 <= status < 300:
        return DeliveryResult("delivered", status, "ok")
    retry = _retryable_status(result)
    if retry is not None:
        return retry
    if 300 <= status < 400:
        return DeliveryResult("failed", status, f"unexpected_redirect {status}")
    return DeliveryResult("failed", status, f"client_error {status}")


def next_attempt_delay(
    attempts: int, retry_after_s: float | None, base_s: float = 60, cap_s: float = 3600
) -> float:
    """Return the seconds to wait before the next attempt after `attempts` failed ones.

    Exponential (base_s, 2*base_s, 4*base_s, ...) capped at cap_s, but never sooner than the
    server's Retry-After, which may exceed cap_s (up to one day). Deterministic, without jitter:
    the outbox is a single sender, so there is no herd of clients to spread out.
    """
    exponent = min(max(attempts, 1) - 1, 60)  # 2**60 * base is far past any cap; avoids overflow
    delay = min(base_s * 2.0**exponent, cap_s)
    if retry_after_s is not None and not math.isnan(retry_after_s):
        delay = max(delay, min(max(retry_after_s, 0.0), _RETRY_AFTER_MAX_S))
    return delay
