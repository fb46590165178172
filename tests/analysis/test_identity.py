"""The event identity rule as a table: which pairs of reports are one real-world event."""

from __future__ import annotations

from datetime import date

import pytest

from newsmon.analysis.identity import consolidate, dates_compatible, same_event
from newsmon.models import EventMention, Participant

PUTIN = Participant("vladimir-putin", "Vladimir Putin", "RUS", "president", "head_of_state")
LAVROV = Participant("sergei-lavrov", "Sergei Lavrov", "RUS", "foreign minister", "minister")
SHAIBANI = Participant("asaad-al-shaibani", "Asaad al-Shaibani", "SYR", "foreign minister",
                       "minister")
QASRA = Participant("murhaf-abu-qasra", "Murhaf Abu Qasra", "SYR", "defence minister", "minister")
SHARAA = Participant("ahmed-al-sharaa", "Ahmed al-Sharaa", "SYR", "president", "head_of_state")
NOVAK = Participant("alexander-novak", "Alexander Novak", "RUS", "deputy prime minister", "minister")
JAMIL = Participant("qadri-jamil", "Qadri Jamil", "SYR", "head of the Moscow platform", "leader",
                    kind="opposition")
RUS_GROUP = Participant("RUS:group", "Russia delegation", "RUS", "delegation", "official", True)
DUMA_GROUP = Participant("RUS:group:parliament", "Russian parliament delegation", "RUS",
                         "a Russian parliamentary delegation", "member", True, "parliament")


def report(
    *people: Participant, day: str | None = "2025-12-23", precision: str | None = "day",
    kind: str = "meeting", place: str | None = None, source: str = "text", sentence: int = 0,
) -> EventMention:
    """Return an event report for the table."""
    when = date.fromisoformat(day) if day else None
    return EventMention(kind, "occurred", when, precision, source, place, people, "s", sentence)


CASES = [
    ("same people same day", report(PUTIN, SHAIBANI), report(PUTIN, SHAIBANI, QASRA), True),
    ("a day apart (time zones)", report(PUTIN, QASRA), report(PUTIN, QASRA, day="2025-12-24"),
     True),
    ("two days apart", report(PUTIN, QASRA), report(PUTIN, QASRA, day="2025-12-25"), False),
    ("Tuesday Putin vs Wednesday Lavrov", report(PUTIN, SHAIBANI, QASRA),
     report(LAVROV, SHAIBANI, day="2025-12-24"), False),
    ("same day, different ministers of one delegation", report(PUTIN, SHAIBANI),
     report(PUTIN, QASRA), True),
    ("same day, one side shared, places disagree", report(PUTIN, SHAIBANI, place="Moscow"),
     report(PUTIN, QASRA, place="Damascus"), False),
    ("month precision overlaps a day", report(PUTIN, SHARAA, day="2025-10-01", precision="month"),
     report(PUTIN, SHARAA, day="2025-10-15"), True),
    ("month precision, other month", report(PUTIN, SHARAA, day="2025-07-01", precision="month"),
     report(PUTIN, SHARAA, day="2025-10-15"), False),
    ("call vs meeting", report(PUTIN, SHARAA, kind="call"), report(PUTIN, SHARAA), False),
    ("visit joins meeting of same visitor", report(SHARAA, kind="visit", place="Moscow"),
     report(PUTIN, SHARAA), True),
    ("unknown date matches", report(PUTIN, SHARAA, day=None, precision=None),
     report(PUTIN, SHARAA), True),
    ("no participant in common", report(PUTIN, SHARAA), report(LAVROV, SHAIBANI), False),
    # Issue 16: one Russian official's talks with a minister and with an opposition leader on
    # the same day are two meetings; an unnamed "Russian delegation" may be any kind.
    ("same day, the other side of another kind", report(LAVROV, SHAIBANI, place="Moscow"),
     report(LAVROV, JAMIL, place="Moscow"), False),
    ("an unnamed delegation and a parliamentary one", report(RUS_GROUP, SHARAA),
     report(DUMA_GROUP, SHARAA), True),
]


@pytest.mark.parametrize(("name", "a", "b", "expected"), CASES, ids=[c[0] for c in CASES])
def test_same_event_table(name: str, a: EventMention, b: EventMention, expected: bool) -> None:
    assert same_event(a, b) is expected
    assert same_event(b, a) is expected  # the rule is symmetric


def test_week_precision_is_compatible_within_seven_days() -> None:
    assert dates_compatible(date(2025, 12, 24), "week", date(2025, 12, 18), "day")
    assert not dates_compatible(date(2025, 12, 24), "week", date(2025, 12, 10), "day")


def test_summary_sentence_matching_two_dated_events_is_evidence_only() -> None:
    tuesday = report(PUTIN, SHAIBANI, QASRA, sentence=3)
    wednesday = report(LAVROV, SHAIBANI, day="2025-12-24", sentence=1)
    summary = report(PUTIN, LAVROV, SHAIBANI, QASRA, day=None, precision=None,
                     source="published", sentence=0)
    events = consolidate([summary, wednesday, tuesday], date(2025, 12, 24))
    assert sorted(str(e.date) for e in events) == ["2025-12-23", "2025-12-24"]
    assert {p.actor_id for p in events[0].participants} | {
        p.actor_id for p in events[1].participants} == {
        "vladimir-putin", "sergei-lavrov", "asaad-al-shaibani", "murhaf-abu-qasra"}
    tuesday_event = next(e for e in events if str(e.date) == "2025-12-23")
    assert "sergei-lavrov" not in {p.actor_id for p in tuesday_event.participants}


def test_anaphoric_report_joins_the_earlier_event() -> None:
    july = report(SHAIBANI, kind="visit", day="2025-07-01", precision="month", place="Moscow",
                  sentence=5)
    told = report(LAVROV, SHAIBANI, day=None, precision=None, source="anaphoric", sentence=6)
    [event] = consolidate([july, told], date(2025, 12, 24))
    assert event.type == "meeting" and str(event.date) == "2025-07-01"
    assert {p.actor_id for p in event.participants} == {"sergei-lavrov", "asaad-al-shaibani"}


@pytest.mark.parametrize(("sentence", "precision"), [(0, "day"), (3, "day"), (4, "week")])
def test_undated_report_without_a_match_is_the_day_of_publication_in_the_lead_else_its_week(
    sentence: int, precision: str
) -> None:
    # Issue 15: "X holds talks with Y" in a headline or lead is the day's news; an undated
    # report further down is only known to be recent.
    [event] = consolidate(
        [report(LAVROV, SHAIBANI, day=None, precision=None, source="published",
                sentence=sentence)],
        date(2025, 12, 24),
    )
    assert (str(event.date), event.date_precision) == ("2025-12-24", precision)


def test_two_days_of_one_visit_are_one_visit_but_two_events() -> None:
    from newsmon.analysis.identity import same_visit

    tuesday = report(PUTIN, SHAIBANI, QASRA, place="Moscow")
    wednesday = report(LAVROV, SHAIBANI, day="2025-12-24", place="Moscow")
    assert not same_event(tuesday, wednesday)
    assert same_visit(tuesday, wednesday)
    assert not same_visit(tuesday, report(LAVROV, SHAIBANI, day="2025-12-30", place="Moscow"))


def test_a_group_stands_for_its_side_only_between_dated_reports() -> None:
    group = Participant("SYR:group", "Syria officials", "SYR", "delegation", "official", True)
    named = report(NOVAK, SHAIBANI, day="2025-09-09")
    assert same_event(report(NOVAK, group, day="2025-09-09"), named)
    # An undated plan of someone else's visit does not join a delegation's talks.
    undated = report(NOVAK, group, day=None, precision=None, source="none")
    assert not same_event(undated, report(NOVAK, SHARAA, day="2025-10-15"))
