"""Tests for newsmon.alerts.render: how an alert reads (golden files), Slack limits, and escaping."""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from newsmon.alerts.render import (
    SLACK_HEADER_MAX,
    AlertEvent,
    AlertParticipant,
    AlertSource,
    console_text,
    escape_mrkdwn,
    format_date,
    headline,
    slack_len,
    slack_payload,
    truncate,
    webhook_payload,
)
from newsmon.alerts.slack_check import validate_slack_payload

GOLDEN = Path(__file__).parents[1] / "data" / "golden"
# Set to 1 to rewrite the golden files after an intended change; review the diff before committing.
UPDATE_GOLDEN = os.environ.get("NEWSMON_UPDATE_GOLDEN") == "1"


def meeting_event(**changes: Any) -> AlertEvent:
    """Return the reference alert: a Moscow meeting reported by three outlets."""
    event = AlertEvent(
        event_id="ev-2025-12-23-moscow-7f3a",
        kind="new",
        type="meeting",
        status="occurred",
        date="2025-12-23",
        place="Moscow",
        participants=(
            AlertParticipant("Vladimir Putin", "Russia", "president"),
            AlertParticipant("Asaad al-Shaibani", "Syria", "foreign minister"),
            AlertParticipant("Murhaf Abu Qasra", "Syria", "defence minister"),
        ),
        evidence=(
            "Russian President Vladimir Putin met Syrian Foreign Minister Asaad al-Shaibani and "
            "Defence Minister Murhaf Abu Qasra in the Kremlin on Tuesday to discuss trade & "
            "military cooperation."
        ),
        sources=(
            AlertSource(
                "https://tass.com/politics/2061234?utm_source=rss&id=7",
                "Putin meets Syrian foreign, defence ministers in Kremlin",
                "TASS",
                datetime(2025, 12, 23, 14, 5, tzinfo=UTC),
            ),
            AlertSource(
                "https://www.reuters.com/world/middle-east/syria-russia-talks-2025-12-23/",
                "Syria's top diplomat, defence chief hold talks with Putin",
                "Reuters",
                datetime(2025, 12, 23, 17, 40, tzinfo=timezone(timedelta(hours=3))),
            ),
            AlertSource(
                "https://sana.sy/en/?p=123456",
                "Al-Shaibani & Abu Qasra meet President Putin <Moscow>",
                "SANA",
                None,
            ),
        ),
        watchlist_title="Syria–Russia relations",
    )
    return replace(event, **changes)


def _mrkdwn_texts(payload: dict[str, Any]) -> list[str]:
    """Return every mrkdwn text of the payload, top-level text included."""
    texts = [payload["text"]]
    for block in payload["blocks"]:
        for obj in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
            if obj and obj["type"] == "mrkdwn":
                texts.append(obj["text"])
    return texts


# --------------------------------------------------------------------------------------------
# golden files: how an alert reads


def _check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        pytest.skip(f"rewrote {path}")
    assert actual == path.read_text(encoding="utf-8"), (
        f"{name} changed: if intended, rerun with NEWSMON_UPDATE_GOLDEN=1 and review the diff"
    )


def test_meeting_alert_slack_golden() -> None:
    payload = slack_payload(meeting_event())
    assert validate_slack_payload(payload) == []
    rendered = json.dumps(payload, ensure_ascii=False, indent=2) + "\n"
    _check_golden("meeting_alert.slack.json", rendered)


def test_meeting_alert_console_golden() -> None:
    _check_golden("meeting_alert.txt", console_text(meeting_event()) + "\n")


# --------------------------------------------------------------------------------------------
# headline


def test_headline_reads_as_specified() -> None:
    assert headline(meeting_event()) == (
        "Meeting: Vladimir Putin — Asaad al-Shaibani, Murhaf Abu Qasra · Moscow · 23 Dec 2025"
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"kind": "planned", "status": "planned", "date": "2025-10"},
            (
                "Planned meeting: Vladimir Putin — Asaad al-Shaibani, Murhaf Abu Qasra · Moscow"
                " · Oct 2025"
            ),
        ),
        (
            {"type": "call", "place": None, "date": None},
            "Call: Vladimir Putin — Asaad al-Shaibani, Murhaf Abu Qasra",
        ),
        (
            {"kind": "update"},
            (
                "Update — more sources: Meeting · Vladimir Putin — Asaad al-Shaibani, Murhaf Abu"
                " Qasra · Moscow · 23 Dec 2025"
            ),
        ),
        (
            {"type": "visit", "status": "cancelled", "date": "2026"},
            "Cancelled visit: Vladimir Putin — Asaad al-Shaibani, Murhaf Abu Qasra · Moscow · 2026",
        ),
        (
            {"kind": "test"},
            (
                "[TEST] Meeting: Vladimir Putin — Asaad al-Shaibani, Murhaf Abu Qasra · Moscow"
                " · 23 Dec 2025"
            ),
        ),
        ({"participants": ()}, "Meeting: Syria–Russia relations · Moscow · 23 Dec 2025"),
    ],
)
def test_headline_variants(changes: dict[str, Any], expected: str) -> None:
    assert headline(meeting_event(**changes)) == expected


def test_headline_left_side_is_the_country_listed_first() -> None:
    syrian_first = meeting_event(participants=meeting_event().participants[::-1])
    assert headline(syrian_first).startswith(
        "Meeting: Murhaf Abu Qasra, Asaad al-Shaibani — Vladimir Putin ·"
    )


def test_headline_shortens_name_lists_before_cutting() -> None:
    people = tuple(
        AlertParticipant(f"Official Number{i:03d}", "Russia" if i % 2 else "Syria", None)
        for i in range(100)
    )
    text = headline(meeting_event(participants=people))
    assert slack_len(text) <= SLACK_HEADER_MAX
    assert "+" in text and text.endswith("· Moscow · 23 Dec 2025")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-12-23", "23 Dec 2025"),
        ("2025-01-05", "5 Jan 2025"),
        ("2025-10", "Oct 2025"),
        ("2025", "2025"),
        (None, None),
        ("2025-13", "2025-13"),
        ("late 2025", "late 2025"),
    ],
)
def test_format_date(value: str | None, expected: str | None) -> None:
    assert format_date(value) == expected


# --------------------------------------------------------------------------------------------
# Slack limits


def _absurd_event(kind: str) -> AlertEvent:
    """Return an event built to break every limit: huge texts, 100 people, 30 sources."""
    long_word = "Supercalifragilistic" * 50
    people = tuple(
        AlertParticipant(
            f"Participant {i} " + "Abdul-Rahman ibn " * 20 + "&<>",
            ["Russian Federation", "Syrian Arab Republic", "Türkiye 🇹🇷"][i % 3] * 5,
            "deputy minister of foreign affairs & expatriates " * 10,
        )
        for i in range(100)
    )
    sources = tuple(
        AlertSource(
            f"https://example.com/{i}/" + "a/" * 400 + "?q=<x>&r=|y|",
            f"Source {i}: " + "very long headline & <tags> " * 60 + "👍" * 100,
            "Site & <Co> " * 30,
            datetime(2025, 12, 23, 9, i, tzinfo=UTC),
        )
        for i in range(30)
    )
    return meeting_event(
        kind=kind,
        event_id="ev-" + "x" * 5000,
        place="Moscow & <the Kremlin> " * 200,
        participants=people,
        evidence=("Putin met al-Shaibani & <friends> 🤝 " * 5000) + long_word,
        sources=sources,
        watchlist_title="Syria–Russia & <relations> " * 300,
    )


@pytest.mark.parametrize("kind", ["new", "update", "planned", "test"])
def test_absurd_inputs_stay_within_slack_limits(kind: str) -> None:
    event = _absurd_event(kind)
    payload = slack_payload(event)
    assert validate_slack_payload(payload) == []
    assert slack_len(payload["blocks"][0]["text"]["text"]) <= SLACK_HEADER_MAX
    sources_text = payload["blocks"][4]["text"]["text"]
    assert "+25 more sources" in sources_text
    participants_text = payload["blocks"][1]["text"]["text"]
    assert participants_text.count("• _+") == 3  # each of the three countries says "+N more"
    json.dumps(payload)  # serialisable as is


def test_sources_first_report_first_then_more() -> None:
    sources = tuple(
        AlertSource(f"https://example.com/{i}", f"Report {i}", "Site", None) for i in range(1, 9)
    )
    text = slack_payload(meeting_event(sources=sources))["blocks"][4]["text"]["text"]
    assert re.findall(r"\|Report (\d)>", text) == ["1", "2", "3", "4", "5"]
    assert text.endswith("+3 more sources")
    # An update is about the new reports: the first report, then the newest ones.
    text = slack_payload(meeting_event(kind="update", sources=sources))["blocks"][4]["text"]["text"]
    assert re.findall(r"\|Report (\d)>", text) == ["1", "5", "6", "7", "8"]
    one = slack_payload(meeting_event(sources=sources[:1]))["blocks"][4]["text"]["text"]
    assert "more source" not in one and "first report)" not in one


def test_validate_reports_violations() -> None:
    text_obj = {"type": "mrkdwn", "text": "fine"}
    payload = {
        "text": "a <b",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}},
            {"type": "section", "fields": [text_obj] * 11},
            {"type": "context", "elements": [text_obj] * 11},
            {"type": "section", "text": {"type": "mrkdwn", "text": "AT&T <!channel>"}},
            {"type": "header", "text": {"type": "mrkdwn", "text": "not plain"}},
            {"type": "section"},
            {"type": "section", "text": {"type": "mrkdwn", "text": "👍" * 1501}},
        ]
        + [{"type": "divider"}] * 43,
    }
    problems = validate_slack_payload(payload)
    expected = [
        "text: unescaped < or > outside a link",
        "blocks: 51 > 50",
        "blocks[0].text.text: 151 chars > 150",
        "blocks[1].text.text: 3001 chars > 3000",
        "blocks[2].fields: more than 10",
        "blocks[3].elements: 11 > 10",
        "blocks[4].text.text: unescaped < or > outside a link",
        "blocks[4].text.text: unescaped &",
        "blocks[5].text: a header needs a plain_text text object",
        "blocks[6]: a section needs text or fields",
        "blocks[7].text.text: 3002 chars > 3000",  # emoji count twice (UTF-16)
    ]
    assert problems == expected
    assert validate_slack_payload({}) == ["text: missing, and no blocks (Slack answers no_text)"]


# --------------------------------------------------------------------------------------------
# escaping


def test_mrkdwn_is_escaped_everywhere() -> None:
    event = meeting_event(
        place="Latakia <Hmeimim> & Tartus",
        participants=(
            AlertParticipant("Vladimir <b>Putin</b>", "Russia & co", "president & <chief>"),
            AlertParticipant("<!channel> al-Shaibani", "Syria", None),
        ),
        evidence="They said <!here> & <https://evil.example|click me> > all.",
        watchlist_title="Syria & Russia",
    )
    payload = slack_payload(event)
    assert validate_slack_payload(payload) == []
    everything = "\n".join(_mrkdwn_texts(payload))
    for raw in ("<!channel>", "<!here>", "<b>", "<https://evil.example", "<Hmeimim>"):
        assert raw not in everything
    assert "&lt;!channel&gt; al-Shaibani" in everything
    assert "Vladimir &lt;b&gt;Putin&lt;/b&gt;" in everything
    assert "*Russia &amp; co*" in everything
    assert "President &amp; &lt;chief&gt;" in everything
    assert "Latakia &lt;Hmeimim&gt; &amp; Tartus" in everything
    assert "Syria &amp; Russia" in everything
    # The header is plain_text, which Slack shows literally: it is not entity-encoded.
    assert "Vladimir <b>Putin</b>" in payload["blocks"][0]["text"]["text"]


def test_links_cannot_break_out_of_their_syntax() -> None:
    sources = (
        AlertSource("https://example.com/a?x=1&y=<2>|z", "Title | with > & <stuff>", None, None),
        AlertSource("javascript:alert(1)", "Click <me>", None, None),
        AlertSource("https://example.com/has space", "Spaced", None, None),
    )
    text = slack_payload(meeting_event(sources=sources))["blocks"][4]["text"]["text"]
    assert (
        "<https://example.com/a?x=1&amp;y=%3C2%3E%7Cz|Title | with &gt; &amp; &lt;stuff&gt;>"
        in text
    )
    assert "2. Click &lt;me&gt;" in text  # not a link: only http(s) URLs are linked
    assert "3. Spaced" in text and "has space" not in text
    assert validate_slack_payload({"text": "x", "blocks": [{"type": "section", "text": {
        "type": "mrkdwn", "text": text}}]}) == []  # fmt: skip


def test_truncate_never_splits_entities_or_characters() -> None:
    assert truncate("short", 10) == "short"
    cut = truncate("a&b&c&d&e&f", 12, escape_mrkdwn)
    assert slack_len(cut) <= 12 and cut.endswith("…")
    assert re.fullmatch(r"(?:[a-f]|&amp;)*…", cut)
    # "e" + combining acute: never separated
    cut = truncate("caf" + "e\u0301" * 10, 6)
    assert not cut.rstrip("…").endswith("e") or cut.rstrip("…").endswith("e\u0301")
    assert "\u0301…" in cut or cut.endswith("f…")
    # emoji count as two UTF-16 units
    cut = truncate("👍" * 10, 7)
    assert cut == "👍👍👍…"
    # word boundary preferred when near
    text = "The ministers of Damascus and Moscow agreed on a plan"
    assert truncate(text, 40) == "The ministers of Damascus and Moscow…"


# --------------------------------------------------------------------------------------------
# webhook and console


def test_webhook_payload_has_every_field_in_iso() -> None:
    body = webhook_payload(meeting_event())
    assert json.loads(json.dumps(body)) == body
    assert body["schema"] == "newsmon.alert/1"
    assert body["event_id"] == "ev-2025-12-23-moscow-7f3a"
    assert (body["kind"], body["type"], body["status"]) == ("new", "meeting", "occurred")
    assert (body["date"], body["date_precision"], body["place"]) == ("2025-12-23", "day", "Moscow")
    assert body["participants"][0] == {
        "name": "Vladimir Putin",
        "country": "Russia",
        "role": "president",
        "kind": "state",
    }
    assert body["sides"] is None  # a state meeting: the offices say who met
    assert [s["published"] for s in body["sources"]] == [
        "2025-12-23T14:05:00+00:00",
        "2025-12-23T17:40:00+03:00",
        None,
    ]
    assert body["source_count"] == 3
    assert body["watchlist_title"] == "Syria–Russia relations"
    assert body["headline"] == headline(meeting_event())
    assert webhook_payload(meeting_event(date="2025-10"))["date_precision"] == "month"
    assert webhook_payload(meeting_event(date=None))["date_precision"] is None
    # The store keeps naive UTC datetimes: they are shown and sent as UTC.
    naive = AlertSource("https://example.com/n", "Naive", None, datetime(2025, 12, 23, 9, 5))
    body = webhook_payload(meeting_event(sources=(naive,)))
    assert body["sources"][0]["published"] == "2025-12-23T09:05:00+00:00"  # naive = UTC
    assert "— 23 Dec 2025 09:05 UTC" in console_text(meeting_event(sources=(naive,)))


def test_console_text_lists_every_source() -> None:
    sources = tuple(
        AlertSource(f"https://example.com/{i}", f"Report\n{i}", None, None) for i in range(30)
    )
    text = console_text(meeting_event(sources=sources))
    assert text.splitlines()[0] == headline(meeting_event())
    assert "Sources (30, first report first):" in text
    assert all(f"https://example.com/{i}" in text for i in range(30))
    assert "Report 29" in text  # newlines in titles never break the layout
