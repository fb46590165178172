"""fetch.extra_allowed_hosts: one loopback server reachable, every other private address refused."""

from __future__ import annotations

import pytest

from newsmon.settings import ConfigError, load_settings
from newsmon.sources.fetch import FetchLimits, make_client
from newsmon.sources.polling import FeedState, PollSchedule, poll_feed
from newsmon.store import utcnow
from tests.faults.conftest import Ledger
from tests.faults.hostile import HostileWeb

pytestmark = pytest.mark.faults


def test_entries_are_host_port_and_lower_cased(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "c.yaml"
    config.write_text("fetch: {extra_allowed_hosts: ['LocalHost:8080', '[::1]:9000']}\n")
    assert load_settings(config).fetch.extra_allowed_hosts == ("localhost:8080", "[::1]:9000")
    config.write_text("fetch: {extra_allowed_hosts: ['127.0.0.1']}\n")
    with pytest.raises(ConfigError, match=r"must be 'host:port'"):
        load_settings(config)


def test_flow_limits_carry_the_allowed_hosts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from flows.monitor import fetch_limits

    config = tmp_path / "c.yaml"
    config.write_text("fetch: {extra_allowed_hosts: ['127.0.0.1:8080']}\n")
    assert fetch_limits(load_settings(config)).extra_allowed_hosts == ("127.0.0.1:8080",)


def test_allowed_host_reachable_sentinel_on_same_address_refused(
    hostile: HostileWeb, ledger: Ledger
) -> None:
    limits = FetchLimits(extra_allowed_hosts=tuple(hostile.allowed_hosts()))
    with make_client(limits) as client:
        allowed = poll_feed(client, FeedState(hostile.url("/content/dup-guids.xml")), limits,
                            PollSchedule(), utcnow())
        other = poll_feed(client, FeedState(hostile.sentinel + "/feed.xml"), limits,
                          PollSchedule(), utcnow())
    ledger.record("links", "extra_allowed_hosts with allow_private_hosts off",
                  "the listed host:port polled, another port of 127.0.0.1 refused",
                  f"listed: {allowed.outcome}; other: {other.error_kind}",
                  allowed.outcome == "new_content" and other.error_kind == "refused_address"
                  and not hostile.sentinel_hits)
    ledger.assert_all()
