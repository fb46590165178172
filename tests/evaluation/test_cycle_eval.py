"""eval-cycle's comparison of stored events with the labels, and the site it serves."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import feedparser

from newsmon.evaluation.cases import Case, Gold, GoldMeeting
from newsmon.evaluation.corpus import CorpusItem
from newsmon.evaluation.cycle_eval import (
    StoredMeeting,
    cycle_report,
    story_meeting,
    write_site,
)
from newsmon.models import Participant

PUTIN = Participant("vladimir-putin", "Vladimir Putin", "RUS", "president", "head_of_state")
LAVROV = Participant("sergei-lavrov", "Sergei Lavrov", "RUS", "foreign minister", "minister")
SHAIBANI = Participant("asaad-al-shaibani", "Asaad al-Shaibani", "SYR", "foreign minister",
                       "minister")


def item(story: str, day: str | None, *meetings: GoldMeeting, report: bool = True) -> CorpusItem:
    """Return a labelled report of our own making."""
    case = Case(f"corpus:{story}-{day}-{len(meetings)}", "Headline line\nA body line.",
                Gold(True, meetings), url="https://example.org/x",
                published=date.fromisoformat(day) if day else None)
    return CorpusItem(case, story, "syria-russia", report, "example.org")


def stored(event_id: str, day: str, *people: Participant, status: str = "occurred",
           alerts: int = 1) -> StoredMeeting:
    """Return a stored meeting event."""
    return StoredMeeting(event_id, status, date.fromisoformat(day), "day", people, 1, alerts, "")


PUTIN_MEETING = GoldMeeting("2025-12-23", ("Vladimir Putin", "Asaad al-Shaibani"), "Moscow")
LAVROV_MEETING = GoldMeeting("2025-12-24", ("Sergey Lavrov", "Asaad al-Shaibani"), "Moscow")


def test_a_story_is_one_meeting_dated_by_most_of_its_reports() -> None:
    month = GoldMeeting("2025-12", ("Vladimir Putin",), None)
    items = [item("putin", "2025-12-23", PUTIN_MEETING), item("putin", "2025-12-24", month),
             item("putin", "2025-12-24", PUTIN_MEETING)]
    gold = story_meeting("putin", items)
    assert gold is not None and gold.date == "2025-12-23"


def test_each_event_goes_to_the_meeting_of_its_day_and_the_rest_is_named(watchlist) -> None:  # type: ignore[no-untyped-def]
    items = [item("putin", "2025-12-23", PUTIN_MEETING),
             item("lavrov", "2025-12-24", LAVROV_MEETING)]
    events = [stored("a", "2025-12-23", PUTIN, LAVROV, SHAIBANI),  # Lavrov sat in
              stored("b", "2025-12-24", LAVROV, SHAIBANI),
              stored("c", "2025-11-02", PUTIN, SHAIBANI, alerts=0),
              stored("d", "2025-12-23", SHAIBANI)]
    report = cycle_report(items, events, watchlist, alerts_sent=2)
    assert [(m.story, [e.id for e in m.events]) for m in report.meetings] == [
        ("putin", ["a"]), ("lavrov", ["b"])]
    assert [e.id for e in report.extra] == ["c"]
    assert [e.id for e in report.one_sided] == ["d"]
    assert not report.ok  # one extra event


def test_two_events_of_one_meeting_fail_it(watchlist) -> None:  # type: ignore[no-untyped-def]
    items = [item("putin", "2025-12-23", PUTIN_MEETING)]
    events = [stored("a", "2025-12-23", PUTIN, SHAIBANI), stored("b", "2025-12-24", PUTIN,
                                                                  SHAIBANI)]
    [outcome] = cycle_report(items, events, watchlist, 2).meetings
    assert not outcome.ok


def test_the_site_is_a_feed_of_the_reports_with_their_dates(tmp_path: Path) -> None:
    items = [item("putin", "2025-12-23", PUTIN_MEETING), item("putin", None, PUTIN_MEETING)]
    write_site(items, tmp_path)
    feed = feedparser.parse((tmp_path / "feed.xml").read_bytes())
    assert len(feed.entries) == 2
    assert feed.entries[0].published_parsed[:3] == (2025, 12, 23)
    assert "published" not in feed.entries[1]  # an undated report stays undated
    page = (tmp_path / "pages" / f"{items[0].case.id.removeprefix('corpus:')}.html").read_text()
    assert "<title>Headline line</title>" in page and "<p>A body line.</p>" in page
