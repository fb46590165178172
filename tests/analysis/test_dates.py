"""Tests for newsmon.analysis.dates: temporal expressions resolved against an article's publish date."""

from dataclasses import FrozenInstanceError
from datetime import date

import pytest

from newsmon.analysis.dates import TimeRef, find_time_refs, format_date

# Wednesday: the seed article's publish date.
WED = date(2025, 12, 24)
# Monday in March: months later in the year are still ahead, and the weekend is just behind.
MON_MARCH = date(2025, 3, 10)
# Monday just after New Year: "last week/month/year" and month names cross the year boundary.
MON_JAN = date(2026, 1, 5)
# Sunday: "over the weekend" is the current weekend.
SUN = date(2025, 12, 21)

Expected = list[tuple[str, str | None, str, str]]

CASES: list[tuple[str, date, Expected]] = [
    # --- seed cases ---
    (
        "Putin said on Wednesday during a meeting with al-Shaibani",
        WED,
        [("Wednesday", "2025-12-24", "day", "past")],
    ),
    (
        "On Tuesday, President Putin met Syrian Foreign Minister al-Shaibani",
        WED,
        [("Tuesday", "2025-12-23", "day", "past")],
    ),
    (
        "In October, Syria's new president Ahmed al-Sharaa visited Russia",
        WED,
        [("October", "2025-10", "month", "past")],
    ),
    ("During a visit to Moscow in July", WED, [("July", "2025-07", "month", "past")]),
    ("he told Lavrov at the time", WED, [("at the time", None, "day", "anaphoric")]),
    (
        "since Assad's removal from power last December",
        WED,
        [("last December", "2024-12", "month", "past")],
    ),
    ("the end of a 14-year war", WED, []),
    # --- explicit dates ---
    ("talks on 23 December 2025", WED, [("23 December 2025", "2025-12-23", "day", "past")]),
    ("talks on December 23, 2025", WED, [("December 23, 2025", "2025-12-23", "day", "past")]),
    ("signed Dec. 23 in Moscow", WED, [("Dec. 23", "2025-12-23", "day", "past")]),
    ("the Oct 15 summit", WED, [("Oct 15", "2025-10-15", "day", "past")]),
    ("met on 15 October", WED, [("15 October", "2025-10-15", "day", "past")]),
    ("on the 5th of October", WED, [("5th of October", "2025-10-05", "day", "past")]),
    ("December 23rd", WED, [("December 23rd", "2025-12-23", "day", "past")]),
    ("dated 2025-12-23.", WED, [("2025-12-23", "2025-12-23", "day", "past")]),
    ("dated 12/23/2025", WED, [("12/23/2025", "2025-12-23", "day", "past")]),
    ("dated 23/12/2025", WED, [("23/12/2025", "2025-12-23", "day", "past")]),
    (
        "on Tuesday, December 23, 2025",
        WED,
        [("Tuesday, December 23, 2025", "2025-12-23", "day", "past")],
    ),
    # A day-month without a year may be the publish date itself, else the most recent one.
    ("on December 24", WED, [("December 24", "2025-12-24", "day", "past")]),
    # A day a few days after the reference date stays in its year (issue 15: a dateline one
    # day after the feed date is not last year's); further ahead it is the most recent one.
    ("on December 25", WED, [("December 25", "2025-12-25", "day", "present")]),
    ("MOSCOW, December 31. /TASS/.", WED, [("December 31", "2025-12-31", "day", "present")]),
    ("on January 2", WED, [("January 2", "2025-01-02", "day", "past")]),
    ("on February 29", MON_MARCH, [("February 29", "2024-02-29", "day", "past")]),
    ("Dec. 31", MON_JAN, [("Dec. 31", "2025-12-31", "day", "past")]),
    ("elections on 15 March 2026", WED, [("15 March 2026", "2026-03-15", "day", "future")]),
    ("Victory Day, May 9, 1945", WED, [("May 9, 1945", "1945-05-09", "day", "past")]),
    ("on 2025-02-30", WED, []),
    # --- months ---
    ("in December", WED, [("December", "2025-12", "month", "past")]),
    ("this July", WED, [("this July", "2025-07", "month", "past")]),
    ("this July", MON_MARCH, [("this July", "2025-07", "month", "future")]),
    ("in July", MON_MARCH, [("July", "2024-07", "month", "past")]),
    ("in July 2025", WED, [("July 2025", "2025-07", "month", "past")]),
    ("since October 2015", WED, [("October 2015", "2015-10", "month", "past")]),
    ("in mid-October", WED, [("mid-October", "2025-10", "month", "past")]),
    ("next March", WED, [("next March", "2026-03", "month", "future")]),
    ("in December", MON_JAN, [("December", "2025-12", "month", "past")]),
    (
        "between October and December",
        WED,
        [("October", "2025-10", "month", "past"), ("December", "2025-12", "month", "past")],
    ),
    # --- years ---
    ("in 2015", WED, [("2015", "2015", "year", "past")]),
    ("last year", WED, [("last year", "2024", "year", "past")]),
    ("this year", WED, [("this year", "2025", "year", "present")]),
    ("earlier this year", WED, [("earlier this year", "2025", "year", "past")]),
    ("net zero by 2030", WED, [("2030", "2030", "year", "future")]),
    (
        "from 2011 to 2024",
        WED,
        [("2011", "2011", "year", "past"), ("2024", "2024", "year", "past")],
    ),
    ("last year", MON_JAN, [("last year", "2025", "year", "past")]),
    # --- weekdays ---
    ("on Monday", WED, [("Monday", "2025-12-22", "day", "past")]),
    ("Thursday", WED, [("Thursday", "2025-12-18", "day", "past")]),
    ("last Tuesday", WED, [("last Tuesday", "2025-12-23", "day", "past")]),
    ("last Wednesday", WED, [("last Wednesday", "2025-12-17", "day", "past")]),
    ("next Tuesday", WED, [("next Tuesday", "2025-12-30", "day", "future")]),
    ("on Friday", MON_JAN, [("Friday", "2026-01-02", "day", "past")]),
    ("Wednesday's talks", WED, [("Wednesday", "2025-12-24", "day", "past")]),
    # --- relative days and periods ---
    ("today", WED, [("today", "2025-12-24", "day", "present")]),
    ("tonight", WED, [("tonight", "2025-12-24", "day", "present")]),
    ("this morning", WED, [("this morning", "2025-12-24", "day", "present")]),
    ("yesterday", WED, [("yesterday", "2025-12-23", "day", "past")]),
    (
        "the day before yesterday",
        WED,
        [("the day before yesterday", "2025-12-22", "day", "past")],
    ),
    ("two days ago", WED, [("two days ago", "2025-12-22", "day", "past")]),
    ("3 weeks ago", WED, [("3 weeks ago", "2025-12-01", "week", "past")]),
    ("21 years ago", WED, [("21 years ago", "2004", "year", "past")]),
    ("a few days ago", WED, [("a few days ago", None, "day", "past")]),
    ("tomorrow", WED, [("tomorrow", "2025-12-25", "day", "future")]),
    ("last week", WED, [("last week", "2025-12-15", "week", "past")]),
    ("this week", WED, [("this week", "2025-12-22", "week", "present")]),
    ("earlier this week", WED, [("earlier this week", "2025-12-22", "week", "past")]),
    ("next week", WED, [("next week", "2025-12-29", "week", "future")]),
    ("last week", MON_JAN, [("last week", "2025-12-29", "week", "past")]),
    ("last month", WED, [("last month", "2025-11", "month", "past")]),
    ("earlier this month", WED, [("earlier this month", "2025-12", "month", "past")]),
    ("later this month", WED, [("later this month", "2025-12", "month", "future")]),
    ("next month", WED, [("next month", "2026-01", "month", "future")]),
    ("last month", MON_JAN, [("last month", "2025-12", "month", "past")]),
    ("in the coming days", WED, [("the coming days", None, "day", "future")]),
    ("in recent weeks", WED, [("recent weeks", None, "week", "past")]),
    ("over the weekend", MON_MARCH, [("over the weekend", "2025-03-03", "week", "past")]),
    ("over the weekend", SUN, [("over the weekend", "2025-12-15", "week", "past")]),
    # --- anaphoric ---
    ("at that time", WED, [("at that time", None, "day", "anaphoric")]),
    ("back then", WED, [("back then", None, "day", "anaphoric")]),
    ("during that visit", WED, [("during that visit", None, "day", "anaphoric")]),
    ("During the visit, they signed", WED, [("During the visit", None, "day", "anaphoric")]),
    ("the following day", WED, [("the following day", None, "day", "anaphoric")]),
    ("then they left", WED, []),
    ("at the time of writing", WED, [("at the time of writing", "2025-12-24", "day", "present")]),
    # --- lower-cased social media text ---
    (
        "putin met assad on tuesday in moscow, last december",
        WED,
        [("tuesday", "2025-12-23", "day", "past"), ("last december", "2024-12", "month", "past")],
    ),
    ("lavrov in may he said", WED, [("may", "2025-05", "month", "past")]),
    ("great talks in march #diplomacy", WED, [("march", "2025-03", "month", "past")]),
    # --- numbers and words that are not dates ---
    ("after 21 years in power", WED, []),
    ("2,000 troops", WED, []),
    ("UN Resolution 2254", WED, []),
    ("Resolution 2254 of 2015", WED, []),
    ("S-400 systems and F-16 jets", WED, []),
    ("a 21-year-old soldier", WED, []),
    ("won by 2000 votes", WED, []),
    ("in the 1990s", WED, []),
    ("this may be true", WED, []),
    ("the 9 may be freed", WED, []),
    ("plans to march on the capital", WED, []),
    ("the last Tuesday of the month", WED, []),
    ("markets open on Tuesdays", WED, []),
    ("a this year-long campaign", WED, []),
    ("at 10:30 local time", WED, []),
    # --- several expressions, in text order ---
    (
        "Yesterday Lavrov recalled that in 2015, and again last month, the two met at the time",
        WED,
        [
            ("Yesterday", "2025-12-23", "day", "past"),
            ("2015", "2015", "year", "past"),
            ("last month", "2025-11", "month", "past"),
            ("at the time", None, "day", "anaphoric"),
        ],
    ),
]


def _summary(refs: list[TimeRef]) -> Expected:
    """Return refs as (text, formatted date, precision, relation) tuples for comparison."""
    return [
        (ref.text, format_date(ref.value, ref.precision), ref.precision, ref.relation)
        for ref in refs
    ]


@pytest.mark.parametrize(("text", "published", "expected"), CASES, ids=[c[0] for c in CASES])
def test_find_time_refs(text: str, published: date, expected: Expected) -> None:
    """Each case resolves to exactly the expected expressions."""
    assert _summary(find_time_refs(text, published)) == expected


@pytest.mark.parametrize(("text", "published"), [(c[0], c[1]) for c in CASES])
def test_spans_point_at_the_matched_text(text: str, published: date) -> None:
    """Offsets slice the original text back to the reported match, in ascending order."""
    refs = find_time_refs(text, published)
    assert all(text[ref.start : ref.end] == ref.text for ref in refs)
    assert [ref.start for ref in refs] == sorted(ref.start for ref in refs)


def test_seed_sentence_in_context() -> None:
    """A full news sentence keeps its offsets and resolves the seed example."""
    text = "Putin met al-Shaibani on Tuesday, the Kremlin said."
    (ref,) = find_time_refs(text, WED)
    assert ref == TimeRef(25, 32, "Tuesday", date(2025, 12, 23), "day", "past")


def test_empty_text() -> None:
    """Empty text has no temporal expressions."""
    assert find_time_refs("", WED) == []


def test_time_ref_is_frozen() -> None:
    """TimeRef is immutable."""
    ref = TimeRef(0, 5, "today", WED, "day", "present")
    with pytest.raises(FrozenInstanceError):
        ref.text = "tomorrow"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("value", "precision", "expected"),
    [
        (date(2025, 12, 23), "day", "2025-12-23"),
        (date(2025, 10, 1), "month", "2025-10"),
        (date(2025, 10, 17), "month", "2025-10"),
        (date(2015, 1, 1), "year", "2015"),
        (date(2025, 12, 24), "week", "2025-12-22"),
        (date(2025, 12, 22), "week", "2025-12-22"),
        (None, "day", None),
        (None, "week", None),
    ],
)
def test_format_date(value: date | None, precision: str, expected: str | None) -> None:
    """Each precision formats as documented; no value formats as None."""
    assert format_date(value, precision) == expected


def test_format_date_rejects_unknown_precision() -> None:
    """An unknown precision is a programming error."""
    with pytest.raises(ValueError, match="precision"):
        format_date(WED, "decade")
