"""Alert rendering for Slack, generic webhooks and the console (pure functions, no I/O).

Everything an alert shows comes from news text, i.e. from strangers: every string is
whitespace-normalised, escaped for Slack mrkdwn and cut to fit Slack's documented limits, and
`validate_slack_payload` checks the result so that a malformed article can never make Slack
reject (and the outbox endlessly retry) an alert.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from newsmon.models import KIND_LABELS

# Slack's documented Block Kit limits (docs.slack.dev/reference/block-kit). The top-level text is
# truncated by Slack past 40,000 characters; we keep ours far shorter because it is what
# notifications and screen readers show.
SLACK_MAX_BLOCKS = 50
SLACK_HEADER_MAX = 150
SLACK_SECTION_TEXT_MAX = 3000
SLACK_SECTION_FIELDS_MAX = 10
SLACK_FIELD_TEXT_MAX = 2000
SLACK_CONTEXT_ELEMENTS_MAX = 10
SLACK_TEXT_OBJECT_MAX = 3000
SLACK_BLOCK_ID_MAX = 255
SLACK_MESSAGE_TEXT_MAX = 40000

# Our own, tighter budgets: an alert is read at a glance, not scrolled.
FALLBACK_TEXT_MAX = 1000
EVIDENCE_MAX = 1000
PARTICIPANTS_SHOWN_MAX = 20
NAME_MAX = 100  # a person, country, role or site name
TITLE_MAX = 200  # an article title shown as a link label
HEADLINE_PART_MAX = 40  # one name, or the place, in the headline
SOURCES_SHOWN_MAX = 5

WEBHOOK_SCHEMA = "newsmon.alert/1"

_TYPE_LABELS = {"meeting": "Meeting", "call": "Call", "visit": "Visit"}
_STATUS_LABELS = {"occurred": "Occurred", "planned": "Planned", "cancelled": "Cancelled"}
# English month names fixed here rather than strftime("%b"), which follows the process locale.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ELLIPSIS = "…"
_SEP = " · "
_SIDES_SEP = " — "


@dataclass(frozen=True)
class AlertParticipant:
    """One participant as shown in an alert (country is a display name, e.g. "Russia")."""

    name: str
    country: str
    role: str | None
    kind: str = "state"  # models.KINDS


@dataclass(frozen=True)
class AlertSource:
    """One article reporting the event."""

    url: str
    title: str
    site: str | None
    published: datetime | None  # aware, or naive UTC (the store's convention)


@dataclass(frozen=True)
class AlertEvent:
    """Everything an alert about one event needs, already resolved by the pipeline."""

    event_id: str
    kind: str  # new | update | planned | test
    type: str  # meeting | call | visit
    status: str  # occurred | planned | cancelled
    date: str | None  # "YYYY-MM-DD" | "YYYY-MM" | None
    place: str | None
    participants: tuple[AlertParticipant, ...]
    evidence: str
    sources: tuple[AlertSource, ...]  # first report first
    watchlist_title: str
    change: str | None = None  # for an update: what changed ("now occurred", "2 more sources")
    # The sides of an event outside the state, leading the headline: "Russia – Syrian
    # opposition". Empty for a state meeting, whose participants' offices say it all.
    sides: str = ""


# --------------------------------------------------------------------------------------------
# text helpers


def slack_len(text: str) -> int:
    """Return the length of text in UTF-16 code units.

    Never less than the code-point count, so a text within a limit by this measure is within it
    whichever way Slack counts (astral-plane characters such as emoji count twice).
    """
    return len(text.encode("utf-16-le")) // 2


def escape_mrkdwn(text: str) -> str:
    """Return text with Slack's three control characters (&, <, >) as HTML entities."""
    # "&" first, or the entities produced for "<" and ">" would be escaped again.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clean(text: str | None) -> str:
    """Return text on one line: control characters dropped, whitespace runs collapsed."""
    if not text:
        return ""
    # Control characters (NUL, C0/C1) come from broken feeds: invisible at best, and rejected by
    # some JSON consumers at worst. Whitespace controls (newline, tab) become plain spaces.
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch) != "Cc"
    )
    return " ".join(kept.split())


def _is_mark(ch: str) -> bool:
    """Return True for characters that belong to the previous one (accents, ZWJ, selectors)."""
    skin_tone = "\U0001f3fb" <= ch <= "\U0001f3ff"
    return unicodedata.combining(ch) != 0 or ch in "\u200d\ufe0e\ufe0f" or skin_tone


def truncate(text: str, limit: int, escape: Callable[[str], str] = lambda s: s) -> str:
    """Return escape(text), shortened with "…" so that its slack_len is at most limit.

    The cut is made on the raw text, before escaping, so an entity such as "&amp;" is never split;
    it never separates a character from its combining marks, and prefers a word boundary when one
    is near the end.
    """
    escaped = escape(text)
    if slack_len(escaped) <= limit:
        return escaped
    budget = limit - slack_len(_ELLIPSIS)
    if budget <= 0:
        return _ELLIPSIS[: max(limit, 0)]
    used = 0
    cut = 0
    for i, ch in enumerate(text):
        cost = slack_len(escape(ch))
        if used + cost > budget:
            break
        used += cost
        cut = i + 1
    while 0 < cut < len(text) and _is_mark(text[cut]):
        cut -= 1
    # Back up to a space when it costs at most a fifth of the room: "Damascus…" reads better
    # than "Damasc…", but cutting a long URL-like word to nothing would not.
    space = text.rfind(" ", 0, cut)
    if space > 0 and cut - space <= max(cut // 5, 1):
        cut = space
    return escape(text[:cut].rstrip()) + _ELLIPSIS


def format_date(value: str | None) -> str | None:
    """Return "23 Dec 2025", "Oct 2025" or "2025" for an ISO date of day/month/year precision."""
    if not value:
        return None
    match = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", value.strip())
    if not match:
        return _clean(value)  # unknown shape: show it as given rather than hide it
    year, month, day = match.groups()
    if month is None:
        return year
    if not 1 <= int(month) <= 12:
        return _clean(value)
    if day is None:
        return f"{_MONTHS[int(month) - 1]} {year}"
    return f"{int(day)} {_MONTHS[int(month) - 1]} {year}"


def _as_utc(value: datetime) -> datetime:
    """Return value as an aware UTC datetime; a naive one is taken to be UTC already."""
    # Naive datetimes are UTC by the store's convention (newsmon.store.utcnow).
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _format_published(value: datetime | None) -> str | None:
    """Return "23 Dec 2025 09:14 UTC" for a publication time, or None."""
    if value is None:
        return None
    value = _as_utc(value)
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year} {value:%H:%M} UTC"


def _type_label(event: AlertEvent) -> str:
    """Return "Meeting", "Planned call", "Cancelled visit", ... for the event."""
    label = _TYPE_LABELS.get(event.type, _clean(event.type).capitalize() or "Event")
    if event.status == "cancelled":
        return f"Cancelled {label.lower()}"
    if event.status == "planned" or event.kind == "planned":
        return f"Planned {label.lower()}"
    return label


def _groups(participants: Iterable[AlertParticipant]) -> list[tuple[str, list[AlertParticipant]]]:
    """Return participants grouped by country, countries in order of first appearance."""
    groups: dict[str, list[AlertParticipant]] = {}
    for participant in participants:
        groups.setdefault(_clean(participant.country), []).append(participant)
    return list(groups.items())


def _names(people: list[AlertParticipant], shown: int) -> str:
    """Return the first `shown` names joined by commas, plus "+N" for the rest."""
    names = [truncate(_clean(p.name), HEADLINE_PART_MAX) for p in people[:shown]]
    rest = len(people) - len(names)
    return ", ".join(names) + (f" +{rest}" if rest else "")


def _role(role: str | None) -> str:
    """Return the role with a capital first letter ("foreign minister" -> "Foreign minister")."""
    role = _clean(role)
    return role[:1].upper() + role[1:]


def _described_role(person: AlertParticipant) -> str:
    """Return the role shown for a participant, with its kind outside the state ("Head of the
    Moscow platform, opposition")."""
    role = _role(person.role)
    if person.kind == "state":
        return role
    kind = KIND_LABELS.get(person.kind, _clean(person.kind))
    return f"{role}, {kind}" if role else kind.capitalize()


# --------------------------------------------------------------------------------------------
# headline


def headline(event: AlertEvent, max_chars: int = SLACK_HEADER_MAX) -> str:
    """Return the one-line headline, e.g. "Meeting: Vladimir Putin — Asaad al-Shaibani · Moscow ·
    23 Dec 2025", shortened to max_chars (default: Slack's header limit).

    Participants are grouped by country, the country of the first listed participant on the
    left. When the names do not fit, each side keeps its first names and "+N" for the others.
    """
    label = _type_label(event)
    groups = _groups(event.participants)
    place = truncate(_clean(event.place), HEADLINE_PART_MAX)
    tail = [part for part in (place, format_date(event.date)) if part]

    def build(shown: int) -> str:
        who = _SIDES_SEP.join(_names(people, shown) for _, people in groups)
        if not who:
            who = _clean(event.watchlist_title) or "participants not identified"
        sides = [_clean(event.sides)] if _clean(event.sides) else []
        if event.kind == "update":
            # The type becomes one more "·" segment, so the line has a single colon.
            change = _clean(event.change) or "more sources"
            text = f"Update — {change}: " + _SEP.join([*sides, label, who, *tail])
        else:
            text = _SEP.join([*sides, label]) + ": " + _SEP.join([who, *tail])
        return f"[TEST] {text}" if event.kind == "test" else text

    most = max((len(people) for _, people in groups), default=1)
    for shown in range(most, 0, -1):
        text = build(shown)
        if slack_len(text) <= max_chars:
            return text
    return truncate(build(1), max_chars)


# --------------------------------------------------------------------------------------------
# Slack


def _link(url: str, label: str, limit: int) -> str:
    """Return an escaped mrkdwn link "<url|label>" within limit, or the bare label.

    Only http(s) URLs are linked (never javascript:, data:, ...). Characters that would end or
    split Slack's <url|label> syntax are percent-encoded in the URL.
    """
    url = url.strip()
    label_text = _clean(label) or url
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        scheme = ""
    if scheme not in ("http", "https") or any(ch.isspace() for ch in url):
        return truncate(label_text, limit, escape_mrkdwn)
    safe_url = escape_mrkdwn(url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E"))
    # Leave room for the label: a URL that would eat the whole line is shown as plain text.
    room = limit - slack_len(safe_url) - 3  # "<", "|", ">"
    if room < 20:
        return truncate(label_text, limit, escape_mrkdwn)
    return f"<{safe_url}|{truncate(label_text, room, escape_mrkdwn)}>"


def _participants_mrkdwn(event: AlertEvent) -> str:
    """Return the participants section: a bold line per country, then a bullet per person."""
    if not event.participants:
        return "*Participants*\n_not identified in the reports_"
    groups = _groups(event.participants)
    # Every country keeps a share of the list, so a long delegation on one side can never push
    # the other side out of the alert.
    per_group = max(1, PARTICIPANTS_SHOWN_MAX // len(groups))
    n_lines = sum(
        1 + min(len(people), per_group) + (len(people) > per_group) for _, people in groups
    )
    # An equal share of the section per line, so that the limit is met by shortening long names
    # rather than by dropping the last lines (and with them a whole country).
    room = max(20, min(2 * NAME_MAX, (SLACK_SECTION_TEXT_MAX - 10) // n_lines - 3))
    lines: list[str] = []
    for country, people in groups:
        lines.append(f"*{truncate(country, room, escape_mrkdwn) or 'Unknown country'}*")
        for person in people[:per_group]:
            role = _described_role(person)
            who = _clean(person.name) + (f" — {role}" if role else "")
            lines.append(f"• {truncate(who, room, escape_mrkdwn)}")
        if len(people) > per_group:
            lines.append(f"• _+{len(people) - per_group} more_")
    return _fit_lines(lines, SLACK_SECTION_TEXT_MAX)


def _fit_lines(lines: list[str], limit: int, tail: str | None = None) -> str:
    """Return escaped mrkdwn lines joined by newlines within limit, then tail.

    Lines that do not fit are replaced by one "…" line; the tail (a "+N more" line) is kept.
    """
    room = limit - 2 - (slack_len(tail) + 1 if tail else 0)  # 2: a final "\n…"
    out: list[str] = []
    used = 0
    for line in lines:
        line = _cut_escaped(line, room)
        cost = slack_len(line) + (1 if out else 0)
        if used + cost > room:
            out.append(_ELLIPSIS)
            break
        out.append(line)
        used += cost
    if tail:
        out.append(tail)
    return "\n".join(out)


def _cut_escaped(text: str, limit: int) -> str:
    """Return already-escaped mrkdwn cut to limit without splitting an entity or a link."""
    if slack_len(text) <= limit:
        return text
    # Cut before the first link or entity that straddles the limit: walk tokens, not characters.
    tokens = re.findall(r"<[^<>]*>|&(?:amp|lt|gt);|.", text, flags=re.DOTALL)
    out: list[str] = []
    used = 0
    budget = limit - slack_len(_ELLIPSIS)
    for token in tokens:
        cost = slack_len(token)
        if used + cost > budget:
            break
        out.append(token)
        used += cost
    return "".join(out).rstrip() + _ELLIPSIS


def _sources_mrkdwn(event: AlertEvent) -> str:
    """Return the sources section: up to SOURCES_SHOWN_MAX links, first report first, "+N more".

    For an update the point is the new reports, so it shows the first report and then the newest.
    """
    sources = list(enumerate(event.sources, start=1))
    if not sources:
        return "*Sources*\n_none recorded_"
    if event.kind == "update" and len(sources) > SOURCES_SHOWN_MAX:
        shown = [sources[0], *sources[-(SOURCES_SHOWN_MAX - 1) :]]
    else:
        shown = sources[:SOURCES_SHOWN_MAX]
    lines = ["*Sources* (first report first)"]
    # Each line gets an equal share of the section (the header and "+N more" lines are short).
    line_room = (SLACK_SECTION_TEXT_MAX - 100) // SOURCES_SHOWN_MAX
    for number, source in shown:
        meta = [
            truncate(_clean(source.site), NAME_MAX, escape_mrkdwn),
            escape_mrkdwn(_format_published(source.published) or ""),
        ]
        suffix = " — " + _SEP.join(m for m in meta if m) if any(meta) else ""
        first = " _(first report)_" if number == 1 and len(sources) > 1 else ""
        room = line_room - slack_len(f"{number}. {suffix}{first}")
        link = _link(source.url, truncate(_clean(source.title), TITLE_MAX), room)
        lines.append(f"{number}. {link}{suffix}{first}")
    rest = len(sources) - len(shown)
    tail = f"+{rest} more source{'s' if rest != 1 else ''}" if rest else None
    return _fit_lines(lines, SLACK_SECTION_TEXT_MAX, tail)


def _evidence_mrkdwn(event: AlertEvent) -> str:
    """Return the evidence sentence as a mrkdwn block quote, cut to EVIDENCE_MAX."""
    evidence = _clean(event.evidence)
    if not evidence:
        return "_No evidence sentence recorded._"
    return ">" + truncate(f"“{evidence}”", EVIDENCE_MAX, escape_mrkdwn)


def _mrkdwn(text: str) -> dict[str, Any]:
    """Return a mrkdwn text object."""
    return {"type": "mrkdwn", "text": text}


def slack_payload(event: AlertEvent) -> dict[str, Any]:
    """Return the Slack incoming-webhook body (Block Kit) for the event, within Slack's limits."""
    title = headline(event)
    facts = [
        ("Type", _TYPE_LABELS.get(event.type, _clean(event.type).capitalize() or "Event")),
        ("Status", _STATUS_LABELS.get(event.status, _clean(event.status).capitalize())),
        ("Date", format_date(event.date) or "not reported"),
        ("Place", _clean(event.place) or "not reported"),
    ]
    fields = [
        _mrkdwn(f"*{name}*\n" + truncate(value, NAME_MAX, escape_mrkdwn)) for name, value in facts
    ]
    footer = _SEP.join(
        part
        for part in (
            truncate(_clean(event.watchlist_title), NAME_MAX, escape_mrkdwn),
            f"event `{truncate(_clean(event.event_id), NAME_MAX, escape_mrkdwn)}`",
            "test alert, please ignore" if event.kind == "test" else "",
        )
        if part
    )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title, "emoji": True}},
        {"type": "section", "text": _mrkdwn(_participants_mrkdwn(event))},
        {"type": "section", "fields": fields},
        {"type": "section", "text": _mrkdwn(_evidence_mrkdwn(event))},
        {"type": "section", "text": _mrkdwn(_sources_mrkdwn(event))},
        {"type": "context", "elements": [_mrkdwn(_cut_escaped(footer, SLACK_TEXT_OBJECT_MAX))]},
    ]
    fallback = title
    if event.watchlist_title:
        fallback = f"{title} ({truncate(_clean(event.watchlist_title), NAME_MAX)})"
    return slack_message(fallback, blocks)


def slack_message(fallback: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """Return a Slack message of these blocks with its fallback text, link previews off."""
    return {
        # Shown in notifications and by clients that cannot render blocks; Slack parses it as
        # mrkdwn, so it is escaped like the blocks.
        "text": truncate(fallback, FALLBACK_TEXT_MAX, escape_mrkdwn),
        "blocks": blocks,
        # One message can carry several article links; previews of each would bury it.
        "unfurl_links": False,
        "unfurl_media": False,
    }


# --------------------------------------------------------------------------------------------
# generic webhook and console


def _iso(value: datetime | None) -> str | None:
    """Return value in ISO 8601 with its offset (naive values are UTC), or None."""
    if value is None:
        return None
    return value.isoformat() if value.tzinfo is not None else _as_utc(value).isoformat()


def webhook_payload(event: AlertEvent) -> dict[str, Any]:
    """Return the generic JSON webhook body: every field of the event, dates in ISO 8601."""
    date = event.date
    precision = None
    if date:
        precision = {10: "day", 7: "month", 4: "year"}.get(len(date))
    return {
        "schema": WEBHOOK_SCHEMA,
        "event_id": event.event_id,
        "kind": event.kind,
        "change": event.change,
        "type": event.type,
        "status": event.status,
        "date": date,
        "date_precision": precision,
        "place": event.place,
        "participants": [
            {"name": p.name, "country": p.country, "role": p.role, "kind": p.kind}
            for p in event.participants
        ],
        "sides": event.sides or None,
        "evidence": event.evidence,
        "sources": [
            {"url": s.url, "title": s.title, "site": s.site, "published": _iso(s.published)}
            for s in event.sources
        ],
        "source_count": len(event.sources),
        "watchlist_title": event.watchlist_title,
        "headline": headline(event),
    }


def console_text(event: AlertEvent) -> str:
    """Return a multi-line plain-text rendering of the event for the console/log channel."""
    lines = [headline(event, max_chars=10_000)]
    status = _STATUS_LABELS.get(event.status, _clean(event.status)).lower()
    lines.append(
        f"  {_clean(event.watchlist_title)} · event {_clean(event.event_id)} · {event.kind}"
        f" · {status}"
    )
    for country, people in _groups(event.participants):
        described = [
            _clean(p.name) + (f" ({_described_role(p)})" if _described_role(p) else "")
            for p in people
        ]
        lines.append(f"  {country or 'Unknown country'}: {', '.join(described)}")
    if _clean(event.evidence):
        lines.append(f"  Evidence: “{_clean(event.evidence)}”")
    count = len(event.sources)
    lines.append(f"  Sources ({count}, first report first):" if count else "  Sources: none")
    for index, source in enumerate(event.sources, start=1):
        meta = [part for part in (_clean(source.site), _format_published(source.published)) if part]
        lines.append(
            f"    {index}. {_clean(source.title) or '(untitled)'}"
            + (f" — {_SEP.join(meta)}" if meta else "")
        )
        lines.append(f"       {_clean(source.url)}")
    return "\n".join(lines)
