"""The real cycle on labelled real reports: what it stores and alerts, per real meeting.

`newsmon eval-cycle` writes the reports of some corpus stories as a loopback site (one RSS
feed, one page per report), runs the monitor flow on it with a local stand-in for Slack, and
compares the stored meeting events and the alerts with the labels: one occurred event per
real meeting, no other meeting events, one alert per meeting that was new.
"""

from __future__ import annotations

import html
import json
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb

from newsmon.analysis.watchlist import Watchlist
from newsmon.evaluation.cases import GoldMeeting
from newsmon.evaluation.corpus import STATE_KINDS, CorpusItem, stories
from newsmon.evaluation.evaluate import dates_compatible, gold_name_sides, participants_match
from newsmon.models import Participant

MEETING_TYPES = ("meeting", "visit")


def _published_at(day: date | None) -> datetime | None:
    """Return a report's publication time: noon UTC of its day (None when undated)."""
    return datetime.combine(day, time(12), tzinfo=UTC) if day else None


def _page(item: CorpusItem) -> str:
    """Return an HTML page carrying a report's text, its first line as the title."""
    lines = [line.strip() for line in item.case.text.splitlines() if line.strip()]
    title = lines[0] if lines else item.story
    when = _published_at(item.case.published)
    meta = (f'<meta property="article:published_time" content="{when.isoformat()}">'
            if when else "")
    body = "\n".join(f"<p>{html.escape(line)}</p>" for line in lines[1:])
    return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}"
            f"</title>{meta}</head><body><article><h1>{html.escape(title)}</h1>\n{body}\n"
            "</article></body></html>")


def write_site(items: Sequence[CorpusItem], root: Path) -> None:
    """Write the reports as root/feed.xml and root/pages/<key>.html ({BASE}: the server)."""
    (root / "pages").mkdir(parents=True, exist_ok=True)
    entries = []
    for item in items:
        key = item.case.id.removeprefix("corpus:")
        (root / "pages" / f"{key}.html").write_text(_page(item), encoding="utf-8")
        title = html.escape(item.case.text.strip().splitlines()[0][:200])
        when = _published_at(item.case.published)
        date_line = f"<pubDate>{format_datetime(when)}</pubDate>" if when else ""
        entries.append(f"<item><title>{title}</title><link>{{BASE}}/pages/{key}.html</link>"
                       f"<guid>{key}</guid>{date_line}</item>")
    (root / "feed.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>newsmon eval-cycle</title><link>{BASE}/</link><description>labelled real "
        f"reports</description>{''.join(entries)}</channel></rss>", encoding="utf-8")


@contextmanager
def slack_stand_in() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Yield (URL, received payloads) of a loopback endpoint that answers like Slack."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            received.append(json.loads(self.rfile.read(length) or b"{}"))
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/services/eval", received
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class StoredMeeting:
    """One stored meeting or visit event, as an analyst sees it."""

    id: str
    status: str
    day: date | None
    precision: str | None
    participants: tuple[Participant, ...]
    sources: int
    alerts: int  # 'new' (or 'planned') alert rows delivered for it
    evidence: str


@dataclass
class MeetingOutcome:
    """One real meeting (a story of the labels) and what the cycle made of it."""

    story: str
    gold: GoldMeeting
    reports: int
    events: list[StoredMeeting] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return True for exactly one stored occurred event, alerted at most once."""
        occurred = [e for e in self.events if e.status == "occurred"]
        return len(occurred) == 1 and occurred[0].alerts <= 1


def story_meeting(story: str, items: Sequence[CorpusItem]) -> GoldMeeting | None:
    """Return the meeting a story's reports report as news: the day most of them give, with
    every participant they name for it (None when no report labels a news meeting)."""
    golds = [g for item in items if item.meeting_report for g in item.case.gold.meetings
             if not g.recalled and g.kind in STATE_KINDS]
    if not golds:
        return None
    days = Counter(g.date for g in golds if g.date and len(g.date) == 10)
    day = min(days, key=lambda d: (-days[d], d)) if days else next(
        (g.date for g in golds if g.date), None)
    same = [g for g in golds if g.date == day] or golds
    names = tuple(dict.fromkeys(n for g in same for n in g.participants))
    return GoldMeeting(day, names, next((g.place for g in same if g.place), None))


def stored_meetings(con: duckdb.DuckDBPyConnection) -> list[StoredMeeting]:
    """Return every stored meeting or visit event with participants, sources and alerts."""
    rows = con.execute(
        "SELECT e.id, e.status, e.event_date, e.date_precision, e.sources, "
        "(SELECT count(*) FROM alerts a WHERE a.event_id = e.id AND a.kind IN ('new', 'planned')"
        " AND a.status = 'delivered'), "
        "(SELECT ea.sentence FROM event_articles ea WHERE ea.event_id = e.id ORDER BY ea.added_at LIMIT 1) "
        "FROM events e WHERE e.type IN ('meeting', 'visit') ORDER BY e.event_date, e.id"
    ).fetchall()
    people: dict[str, list[Participant]] = {}
    for event_id, *participant in con.execute(
        "SELECT event_id, actor_id, name, country, role, level, inferred, kind "
        "FROM event_participants ORDER BY rowid"
    ).fetchall():
        people.setdefault(event_id, []).append(Participant(*participant))
    return [StoredMeeting(r[0], r[1], r[2], r[3], tuple(people.get(r[0], ())), r[4], r[5],
                          r[6] or "") for r in rows]


def _matches(
    gold: GoldMeeting, event: StoredMeeting, watchlist: Watchlist, strict: bool = True
) -> bool:
    """Return True when a stored event is the gold meeting (participants and date)."""
    return participants_match(gold.participants, event.participants, watchlist) and (
        dates_compatible(gold.date, event.day, event.precision, strict=strict))


@dataclass(frozen=True)
class CycleEvalReport:
    """Per real meeting the stored events; the recalled past meetings; the extra events."""

    meetings: list[MeetingOutcome]
    recalled: list[StoredMeeting]
    extra: list[StoredMeeting]
    alerts_sent: int
    one_sided: list[StoredMeeting] = field(default_factory=list)  # visits of one side only

    @property
    def ok(self) -> bool:
        """Return True when every real meeting is one event and nothing else was stored."""
        return all(m.ok for m in self.meetings) and not self.extra


def _named_on_both_sides(gold: GoldMeeting, watchlist: Watchlist) -> bool:
    """Return True when the gold meeting names a watchlist person of each side."""
    sides = set().union(*(gold_name_sides(n, watchlist) for n in gold.participants))
    return len(sides) >= 2


def cycle_report(
    items: Sequence[CorpusItem], events: list[StoredMeeting], watchlist: Watchlist,
    alerts_sent: int,
) -> CycleEvalReport:
    """Return the comparison of the stored events with the labels of the served reports.

    Each story is one real meeting; a stored event that is no story's meeting but another
    labelled one (a recalled past meeting, a second meeting a report also covers) is listed
    as such; one that is neither is extra.
    """
    outcomes = []
    for story, group in stories(items).items():
        gold = story_meeting(story, group)
        if gold is not None:
            outcomes.append(MeetingOutcome(story, gold, sum(i.meeting_report for i in group)))
    others = [g for item in items for g in item.case.gold.meetings
              if g.kind in STATE_KINDS and _named_on_both_sides(g, watchlist)]
    planned = [GoldMeeting(p.get("date"), tuple(p.get("participants", ())), p.get("place"))
               for item in items for p in item.planned]
    extra, past, one_sided = [], [], []
    for event in events:
        if len({p.side for p in event.participants}) < 2:
            one_sided.append(event)  # "X visited Moscow": no meeting of the two sides
            continue
        if event.status == "planned" and any(
                participants_match(g.participants, event.participants, watchlist)
                for g in planned):
            past.append(event)  # an announced meeting the labels list as planned
            continue
        mine = [o for o in outcomes if _matches(o.gold, event, watchlist)]
        if mine:
            # One event is one meeting: the story whose day it has, else the first.
            best = min(mine, key=lambda o: _day_gap(o.gold, event))
            best.events.append(event)
        elif any(_matches(g, event, watchlist, strict=False) for g in others):
            past.append(event)
        else:
            extra.append(event)
    return CycleEvalReport(outcomes, past, extra, alerts_sent, one_sided)


def _day_gap(gold: GoldMeeting, event: StoredMeeting) -> int:
    """Return how many days the event's date is from the gold day (large when either lacks one)."""
    if gold.date is None or event.day is None or len(gold.date) != 10:
        return 999
    return abs((date.fromisoformat(gold.date) - event.day).days)


def _event_line(event: StoredMeeting) -> str:
    """Return one line naming a stored event."""
    names = ", ".join(p.name for p in event.participants) or "nobody named"
    day = f"{event.day}/{event.precision}" if event.day else "no date"
    return (f"{event.status} {day} [{names}] sources={event.sources} alerts={event.alerts}: "
            f"{event.evidence[:160]}")


def format_cycle_report(report: CycleEvalReport) -> str:
    """Return the report as text: one block per real meeting, then recalled and extra events."""
    lines = []
    for outcome in report.meetings:
        mark = "ok " if outcome.ok else "BAD"
        lines.append(f"{mark} {outcome.story} ({outcome.gold.date}, {outcome.reports} reports): "
                     f"{len(outcome.events)} stored event(s)")
        lines += [f"      {_event_line(e)}" for e in outcome.events]
    lines.append(f"other labelled meetings stored (recalled past ones, a second meeting a "
                 f"report covers, announced ones): {len(report.recalled)}")
    lines += [f"      {_event_line(e)}" for e in report.recalled]
    lines.append(f"one-sided visits stored (no meeting of the two sides): {len(report.one_sided)}")
    lines += [f"      {_event_line(e)}" for e in report.one_sided]
    lines.append(f"EXTRA meeting events (match no labelled meeting): {len(report.extra)}")
    lines += [f"      {_event_line(e)}" for e in report.extra]
    good = sum(o.ok for o in report.meetings)
    lines.append(f"{good}/{len(report.meetings)} meetings stored as exactly one event; "
                 f"{len(report.extra)} extra; {report.alerts_sent} alert(s) sent to the "
                 "Slack stand-in")
    return "\n".join(lines)
