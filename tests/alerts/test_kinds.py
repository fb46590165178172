"""Issue 16 in the alerts: an event's kind leads its headline and routes it (alerts.kinds).

Events are stored with the real store functions in a real DuckDB file and queued with the
real outbox; the alert text is checked against golden files.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from newsmon.alerts.outbox import list_alerts, queue_event_alerts
from newsmon.alerts.policy import AlertPolicy, Route
from newsmon.alerts.slack_check import validate_slack_payload
from newsmon.models import Article, ArticleRow, EventMention, Participant
from newsmon.settings import ConfigError, load_settings
from newsmon.store import connect, migrate, utcnow
from newsmon.store.events import store_event
from newsmon.store.repo import save_article
from tests.alerts.test_alerts import _check_golden

PUBLISHED = datetime(2017, 5, 15, 16, 30, tzinfo=UTC)
SIDES = (("RUS", "Russia", "Russian"), ("SYR", "Syria", "Syrian"))
BOGDANOV = Participant("mikhail-bogdanov", "Mikhail Bogdanov", "RUS",
                       "deputy foreign minister", "deputy_minister")
JAMIL = Participant("qadri-jamil", "Qadri Jamil", "SYR", "head of the Moscow platform",
                    "leader", kind="opposition")
SHAIBANI = Participant("asaad-al-shaibani", "Asaad al-Shaibani", "SYR", "foreign minister",
                       "minister")
SDF = Participant("SYR:group:syrian-democratic-forces", "Syrian Democratic Forces delegation",
                  "SYR", "a delegation of the Syrian Democratic Forces", "member", True,
                  "armed_group")


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a connection to a fresh, migrated database file (closed at the end)."""
    connection = connect(tmp_path / "kinds.duckdb")
    migrate(connection)
    yield connection
    connection.close()


def _store(con: duckdb.DuckDBPyConnection, who: tuple[Participant, ...], n: int) -> str:
    """Store one report of a Moscow meeting on 15 May 2017; return its event id."""
    url = f"https://mid.example/press/{n}"
    save_article(con, ArticleRow(
        f"a{n}", Article(url, f"Press release {n}", "text", site="MFA", published=PUBLISHED,
                         canonical_url=url), None, "ok",
    ))
    names = " and ".join(p.name for p in who)
    report = EventMention("meeting", "occurred", date(2017, 5, 15), "day", "text", "Moscow",
                          who, f"{names} met in Moscow on 15 May.", 0, True)
    return store_event(con, "syria-russia", f"a{n}", report, utcnow()).event_id


def _queue(con: duckdb.DuckDBPyConnection, event_id: str, policy: AlertPolicy) -> int:
    """Queue the first alert of an event; return the rows queued."""
    now = utcnow()
    return queue_event_alerts(con, event_id, "new", policy, "Syria–Russia relations", now, now)


def _opposition_alerts(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, object]]:
    """Return channel -> payload of the first alert of Bogdanov's talks with Qadri Jamil."""
    event_id = _store(con, (BOGDANOV, JAMIL), 1)
    policy = AlertPolicy(channels=("slack", "console"), side_names=SIDES)
    assert _queue(con, event_id, policy) == 2
    # The event id is random: the golden files hold a fixed one.
    return {a.channel: json.loads(json.dumps(a.payload).replace(event_id, "EVENT-ID"))
            for a in list_alerts(con)}


def test_an_opposition_meeting_alert_names_the_sides_with_their_kind(
    con: duckdb.DuckDBPyConnection,
) -> None:
    slack = _opposition_alerts(con)["slack"]
    assert validate_slack_payload(slack) == []
    header = slack["blocks"][0]["text"]["text"]  # type: ignore[index]
    assert header.startswith("Russia – Syrian opposition · Meeting: Mikhail Bogdanov — Qadri")
    _check_golden("opposition_alert.slack.json",
                  json.dumps(slack, ensure_ascii=False, indent=2) + "\n")


def test_an_opposition_meeting_console_alert_golden(con: duckdb.DuckDBPyConnection) -> None:
    text = _opposition_alerts(con)["console"]["text"]
    assert "Qadri Jamil (Head of the Moscow platform, opposition)" in str(text)
    _check_golden("opposition_alert.txt", f"{text}\n")


def test_a_state_meeting_headline_has_no_sides_label(con: duckdb.DuckDBPyConnection) -> None:
    event_id = _store(con, (BOGDANOV, SHAIBANI), 2)
    assert _queue(con, event_id, AlertPolicy(channels=("slack",), side_names=SIDES)) == 1
    [alert] = list_alerts(con)
    header = alert.payload["blocks"][0]["text"]["text"]
    assert header.startswith("Meeting: Mikhail Bogdanov — Asaad al-Shaibani")


def test_routes_by_kind_and_kinds_that_never_alert(con: duckdb.DuckDBPyConnection) -> None:
    state = _store(con, (BOGDANOV, SHAIBANI), 3)
    opposition = _store(con, (BOGDANOV, JAMIL), 4)
    armed = _store(con, (BOGDANOV, SDF), 5)
    policy = AlertPolicy(
        channels=("console",),
        routes=(Route(("webhook",), kinds=("opposition", "armed_group")),),
        kinds=("state", "opposition", "armed_group"), side_names=SIDES,
    )
    for event_id in (state, opposition, armed):
        _queue(con, event_id, policy)
    sent = {(a.event_id, a.channel) for a in list_alerts(con)}
    assert sent == {(state, "console"), (opposition, "webhook"), (armed, "webhook")}
    # alerts.kinds without armed_group: the event is stored, never alerted.
    quiet = AlertPolicy(channels=("console",), kinds=("state", "opposition"))
    fresh = _store(con, (BOGDANOV, SDF), 6)
    assert _queue(con, fresh, quiet) == 0
    kinds = con.execute("SELECT kind, kinds_by_country['SYR'] FROM meetings "
                        "WHERE event_id = ?", [fresh]).fetchone()
    assert kinds == ("armed_group", ["armed_group"])


def test_alert_kinds_settings_parse_and_name_the_bad_kind(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "alerts:\n"
        "  kinds: [state, opposition]\n"
        "  routes:\n"
        "    - {kinds: [opposition], channels: [slack]}\n"
    )
    policy = AlertPolicy.from_settings(load_settings(config).alerts)
    assert policy.kinds == ("state", "opposition")
    assert policy.channels_for("syria-russia", "meeting", "opposition") == ("slack",)
    assert policy.channels_for("syria-russia", "meeting", "state") == ("console",)
    assert load_settings(None).alerts.kinds == (
        "state", "parliament", "party", "opposition", "armed_group", "civic", "former")
    config.write_text("alerts:\n  kinds: [rebels]\n")
    with pytest.raises(ConfigError, match=r"alerts\.kinds\.0: Input should be .state."):
        load_settings(config)
