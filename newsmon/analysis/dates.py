"""Resolve temporal expressions in English news text against the article's publish date.

Used to date meeting events: "Putin met al-Shaibani on Tuesday" in an article published on
Wednesday 2025-12-24 resolves to 2025-12-23. Stdlib only: a table of regular expressions, each
paired with one small resolver that turns a match into (value, precision, relation).

Conventions:
- `value` is the first day of the period (the Monday for week precision), or None when the
  phrase names no datable period ("at the time", "in the coming days").
- Expressions without a year look backwards: the most recent such day/month/weekday on or before
  the publish date. News mostly reports what already happened; deciding that a bare "on Tuesday"
  is future from the verb tense is the caller's job.
- Relation "future" comes only from explicit future words ("next week", "tomorrow",
  "later this month", "in the coming days") or from a fully dated expression after publication.
- The reported span leaves out a plain leading preposition ("in October" -> "October",
  "on Tuesday" -> "Tuesday"); idioms keep theirs ("at the time", "during the visit").
- Overlapping matches keep the longest ("last Tuesday" beats "Tuesday").
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

DAY = "day"
WEEK = "week"
MONTH = "month"
YEAR = "year"

PAST = "past"
FUTURE = "future"
PRESENT = "present"
ANAPHORIC = "anaphoric"


@dataclass(frozen=True)
class TimeRef:
    """A temporal expression found in text and resolved against the publish date."""

    start: int  # char offset in the text
    end: int
    text: str  # matched text
    value: date | None  # first day of the period
    precision: str  # "day" | "month" | "year" | "week"
    relation: str  # "past" | "future" | "present" | "anaphoric"


# (value, precision, relation); a resolver returns None to reject a match that only looks
# like a date (e.g. "February 30", or the modal verb in "this may be").
Resolution = tuple[date | None, str, str]
Resolver = Callable[[re.Match[str], date], Resolution | None]

# --- vocabulary ---------------------------------------------------------------------------------

_FULL_MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_ABBREVIATED_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7,
    "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH_NUMBERS = {name: i for i, name in enumerate(_FULL_MONTHS, start=1)} | _ABBREVIATED_MONTHS
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "a couple of": 2, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_VAGUE_NUMBERS = ("a few", "several")

# Words that can follow the month "may" but never the modal verb "may" ("in may he met" is a
# month, "this may be" is not). Only consulted when "may" is not written as "May".
_MAY_MONTH_FOLLOWERS = frozenset({
    "and", "or", "but", "to", "when", "while", "after", "before", "as", "at", "in", "on", "of",
    "for", "from", "with", "the", "a", "an", "this", "that", "he", "she", "they", "we", "i", "it",
    "his", "her", "their", "its", "our", "there", "last", "next", "is", "was", "were", "will",
    "had", "has", "said",
})  # fmt: skip

# Fixed phrases naming a day relative to publication: day offset and relation.
_RELATIVE_DAYS: dict[str, tuple[int, str]] = {
    "today": (0, PRESENT),
    "tonight": (0, PRESENT),
    "this morning": (0, PRESENT),
    "this afternoon": (0, PRESENT),
    "this evening": (0, PRESENT),
    "at the time of writing": (0, PRESENT),
    "yesterday": (-1, PAST),
    "last night": (-1, PAST),
    "the day before yesterday": (-2, PAST),
    "tomorrow": (1, FUTURE),
    "the day after tomorrow": (2, FUTURE),
}

# "<modifier> week|month|year": period offset from the publish period, and relation.
_PERIOD_MODIFIERS: dict[str, tuple[int, str]] = {
    "last": (-1, PAST),
    "this": (0, PRESENT),
    "next": (1, FUTURE),
    "earlier this": (0, PAST),
    "later this": (0, FUTURE),
}

# Phrases pointing back at a time set elsewhere in the article; they carry no date themselves.
_ANAPHORIC_PHRASES: dict[str, str] = {
    "at the time": DAY,
    "at that time": DAY,
    "back then": DAY,
    "at that point": DAY,
    "on that occasion": DAY,
    "during the visit": DAY,
    "during that visit": DAY,
    "during his visit": DAY,
    "during her visit": DAY,
    "during their visit": DAY,
    "during the trip": DAY,
    "during that trip": DAY,
    "that day": DAY,
    "that same day": DAY,
    "the same day": DAY,
    "later that day": DAY,
    "the next day": DAY,
    "the following day": DAY,
    "the previous day": DAY,
    "the day before": DAY,
    "that week": WEEK,
    "later that week": WEEK,
    "that month": MONTH,
    "later that month": MONTH,
    "that year": YEAR,
    "later that year": YEAR,
}

# --- regex fragments ----------------------------------------------------------------------------


def _alternation(phrases: Iterable[str]) -> str:
    """Return a regex alternation of phrases, longest first, any whitespace between words."""
    ordered = sorted(phrases, key=len, reverse=True)
    return "|".join(r"\s+".join(map(re.escape, phrase.split())) for phrase in ordered)


_MONTH_FULL = _alternation(_FULL_MONTHS)
# Abbreviations ("Dec.", "Oct") only where a day or year follows; alone they are too ambiguous.
_MONTH_ANY = _alternation([*_FULL_MONTHS, *_ABBREVIATED_MONTHS])
_MONTH_FULL_G = r"\b(?P<month>" + _MONTH_FULL + r")\b"
_MONTH_ANY_G = r"\b(?P<month>" + _MONTH_ANY + r")\b\.?"
_WEEKDAY = _alternation(_WEEKDAYS)
# "Tuesday, 23 December" / "Tuesday the 23rd of December": the weekday adds nothing to resolve.
_WEEKDAY_PREFIX = r"(?:\b(?:" + _WEEKDAY + r"),?\s+(?:the\s+)?)?"
# A day of month, never glued to other digits or to "S-", "2,", "10:" and the like.
_DAY_G = r"(?<![\w.,/:-])(?P<day>[0-3]?\d)(?:st|nd|rd|th)?(?![\d:])"
# A plausible year, not part of a larger number, range, decade ("1990s") or percentage.
_YEAR_G = r"(?P<year>(?:19|20)\d\d)(?![\w%]|[.,/-]\d)"
# "the last Tuesday of the month" and "the next day" are not relative to publication.
_NOT_AFTER_THE = r"(?<!the )"
# Keeps "this year-long campaign" or "that day-to-day work" from matching.
_WORD_END = r"(?![\w-])"
# Prepositions that make a bare month name a time expression ("in October").
_PREPOSITIONS = (
    r"(?:in|during|since|until|till|by|from|through|throughout|before|after|of|between|around"
    r"|(?:the\s+)?(?:end|beginning|start|middle)\s+of)"
)
# The same for a bare year, minus those that often precede a count ("of 2000", "around 2000").
_YEAR_PREPOSITIONS = (
    r"(?:in|during|since|until|till|by|from|through|throughout|before|after"
    r"|(?:the\s+)?(?:end|beginning|start|middle)\s+of)"
)
_QUALIFIER = r"(?:(?:early|mid|late)[\s-]+)"
# "by 2000 votes" or "in 2000 troops" count things; a year is not followed by such a noun.
_NOT_A_QUANTITY = (
    r"(?!\s+(?:people|persons|troops|soldiers|men|women|children|votes|voters|km|kilometres"
    r"|kilometers|miles|metres|meters|tons|tonnes|dollars|euros|units|cases|deaths|refugees)\b)"
)

# --- date arithmetic ----------------------------------------------------------------------------


def _safe_date(year: int, month: int, day: int) -> date | None:
    """Return the date if it exists and the year is plausible for news, else None."""
    if not 1900 <= year <= 2099:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _monday(day: date) -> date:
    """Return the Monday of the ISO week containing day."""
    return day - timedelta(days=day.weekday())


def _add_months(first: date, months: int) -> date:
    """Return the first day of the month that is `months` after the month of first."""
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _shift_period(published: date, unit: str, offset: int) -> date:
    """Return the first day of the day/week/month/year `offset` units from the publish one."""
    if unit == DAY:
        return published + timedelta(days=offset)
    if unit == WEEK:
        return _monday(published) + timedelta(weeks=offset)
    if unit == MONTH:
        return _add_months(published.replace(day=1), offset)
    return date(published.year + offset, 1, 1)


# A year-less day this close after the reference date is in its year: a dateline one day
# after the feed's date ("MOSCOW, Nov 21 (Reuters) -" in an item dated the 20th), or a
# reference date that lags the story, is not a day of the previous year (issue 15).
AHEAD_DAYS = 7


def _most_recent_day(month: int, day: int, published: date) -> date | None:
    """Return the latest date with this month and day on or before published (or at most
    AHEAD_DAYS after it), or None."""
    # Going back a few years lets "February 29" find the last leap year.
    for year in range(published.year, published.year - 8, -1):
        candidate = _safe_date(year, month, day)
        if candidate is not None and candidate <= published + timedelta(days=AHEAD_DAYS):
            return candidate
    return None


def _most_recent_month(month: int, published: date, strictly_before: bool) -> date:
    """Return the first day of the latest such month on (or strictly) before the publish month."""
    if month < published.month or (month == published.month and not strictly_before):
        return date(published.year, month, 1)
    return date(published.year - 1, month, 1)


def _next_month(month: int, published: date) -> date:
    """Return the first day of the earliest such month strictly after the publish month."""
    year = published.year if month > published.month else published.year + 1
    return date(year, month, 1)


def _weekday_near(weekday: int, published: date, direction: int, inclusive: bool) -> date:
    """Return the nearest given weekday before (-1) or after (+1) published, maybe published."""
    gap = (published.weekday() - weekday) * -direction % 7
    if gap == 0 and not inclusive:
        gap = 7
    return published + timedelta(days=gap * direction)


def _dated(value: date | None, precision: str, published: date) -> Resolution | None:
    """Return a resolution for a fully dated period: future if it starts after publication."""
    if value is None:
        return None
    return value, precision, FUTURE if value > published else PAST


def _month_of(match: re.Match[str]) -> int | None:
    """Return the month number of the match's month group, or None for the modal verb "may"."""
    token = match["month"]
    if token.lower() != "may" or token == "May":
        return _MONTH_NUMBERS[token.lower()]
    # Lower-cased or shouted "may": a month only if followed by nothing, punctuation, a number
    # or a word that cannot follow the modal verb.
    following = re.match(r"\s*([a-z]+)", match.string[match.end("month") :], re.IGNORECASE)
    if following is None or following[1].lower() in _MAY_MONTH_FOLLOWERS:
        return 5
    return None


# --- resolvers, one per pattern family ----------------------------------------------------------


def _resolve_iso(match: re.Match[str], published: date) -> Resolution | None:
    """Return the day named by an ISO "2025-12-23" date, or None if it does not exist."""
    value = _safe_date(int(match["year"]), int(match["month"]), int(match["day"]))
    return _dated(value, DAY, published)


def _resolve_slashed(match: re.Match[str], published: date) -> Resolution | None:
    """Return the day named by "12/23/2025" (US month first; day first if that is the only fit)."""
    year = int(match["year"])
    if len(match["year"]) == 2:
        year += 2000
    first, second = int(match["first"]), int(match["second"])
    value = _safe_date(year, first, second) or _safe_date(year, second, first)
    return _dated(value, DAY, published)


def _resolve_day_month(match: re.Match[str], published: date) -> Resolution | None:
    """Return the day named by "23 December [2025]" / "December 23[, 2025]" / "Dec. 23"."""
    month = _month_of(match)
    if month is None:
        return None
    day = int(match["day"])
    if match["year"]:
        return _dated(_safe_date(int(match["year"]), month, day), DAY, published)
    value = _most_recent_day(month, day, published)
    if value is None:
        return None
    return value, DAY, PAST if value <= published else PRESENT


def _resolve_month_year(match: re.Match[str], published: date) -> Resolution | None:
    """Return the month named by "October 2015" / "July, 2025"."""
    month = _month_of(match)
    if month is None:
        return None
    return _dated(_safe_date(int(match["year"]), month, 1), MONTH, published)


def _resolve_month_modified(match: re.Match[str], published: date) -> Resolution | None:
    """Return the month named by "last December", "this July" or "next March"."""
    month = _month_of(match)
    if month is None:
        return None
    modifier = match["mod"].lower()
    if modifier == "last":
        return _most_recent_month(month, published, strictly_before=True), MONTH, PAST
    if modifier == "next":
        return _next_month(month, published), MONTH, FUTURE
    # "this July" is the publish year's July, whichever side of the publish date it falls.
    if month == published.month:
        return date(published.year, month, 1), MONTH, PRESENT
    return date(published.year, month, 1), MONTH, PAST if month < published.month else FUTURE


def _resolve_month_alone(match: re.Match[str], published: date) -> Resolution | None:
    """Return the most recent month, on or before the publish month, named by "in October"."""
    month = _month_of(match)
    if month is None:
        return None
    return _most_recent_month(month, published, strictly_before=False), MONTH, PAST


def _resolve_year(match: re.Match[str], published: date) -> Resolution | None:
    """Return the year named by "in 2015" / "since 2011"."""
    return _dated(date(int(match["year"]), 1, 1), YEAR, published)


def _resolve_period(match: re.Match[str], published: date) -> Resolution | None:
    """Return the week/month/year named by "last week", "this year", "later this month" etc."""
    modifier = " ".join(match["mod"].lower().split())
    unit = match["unit"].lower()
    offset, relation = _PERIOD_MODIFIERS[modifier]
    return _shift_period(published, unit, offset), unit, relation


def _resolve_weekday(match: re.Match[str], published: date) -> Resolution | None:
    """Return the day named by "Tuesday" / "last Tuesday" (backwards) or "next Tuesday"."""
    weekday = _WEEKDAYS.index(match["weekday"].lower())
    modifier = " ".join((match["mod"] or "").lower().split())
    if modifier == "next":
        return _weekday_near(weekday, published, 1, inclusive=False), DAY, FUTURE
    # "last Wednesday" in a Wednesday article means a week ago; a bare "Wednesday" means today.
    strictly_before = modifier in ("last", "past", "this past")
    return _weekday_near(weekday, published, -1, inclusive=not strictly_before), DAY, PAST


def _resolve_relative_day(match: re.Match[str], published: date) -> Resolution | None:
    """Return the day named by "today", "yesterday", "tomorrow", "last night" etc."""
    offset, relation = _RELATIVE_DAYS[" ".join(match["t"].lower().split())]
    return published + timedelta(days=offset), DAY, relation


def _resolve_ago(match: re.Match[str], published: date) -> Resolution | None:
    """Return the period named by "two days ago" / "3 weeks ago"; no value for "a few days ago"."""
    unit = match["unit"].lower()
    amount = " ".join(match["n"].lower().split())
    if amount in _VAGUE_NUMBERS:
        return None, unit, PAST
    count = int(amount) if amount.isdigit() else _NUMBER_WORDS[amount]
    return _shift_period(published, unit, -count), unit, PAST


def _resolve_vague_span(match: re.Match[str], published: date) -> Resolution | None:
    """Return an undated past/future span for "in recent days" / "in the coming weeks"."""
    unit = match["unit"].lower().removesuffix("s")
    future = match["mod"].lower().split()[0] in ("coming", "next")
    return None, unit, FUTURE if future else PAST


def _resolve_weekend(match: re.Match[str], published: date) -> Resolution | None:
    """Return the week of the most recent weekend for "over the weekend" / "last weekend"."""
    # Saturday on or before publication: a Sunday article's weekend is the current one.
    saturday = _weekday_near(5, published, -1, inclusive=True)
    return _monday(saturday), WEEK, PAST


def _resolve_anaphoric(match: re.Match[str], published: date) -> Resolution | None:
    """Return an undated anaphoric reference for "at the time", "during the visit" etc."""
    return None, _ANAPHORIC_PHRASES[" ".join(match["t"].lower().split())], ANAPHORIC


# --- the pattern table --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pattern:
    """One family of expressions: a regex whose group "t" is the reported span, and a resolver."""

    name: str
    regex: re.Pattern[str]
    resolve: Resolver


def _pattern(name: str, regex: str, resolve: Resolver) -> _Pattern:
    """Return a case-insensitive pattern-table entry (social media text is often lower-cased)."""
    return _Pattern(name, re.compile(regex, re.IGNORECASE), resolve)


_PATTERNS: tuple[_Pattern, ...] = (
    _pattern(
        "iso",
        r"(?<![\w./-])(?P<t>(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2}))(?![\w-]|[./]\d)",
        _resolve_iso,
    ),
    _pattern(
        "slashed",
        r"(?<![\w./-])(?P<t>(?P<first>\d{1,2})/(?P<second>\d{1,2})/(?P<year>\d{4}|\d{2}))"
        r"(?![\w/-]|\.\d)",
        _resolve_slashed,
    ),
    _pattern(
        "day_month",
        rf"(?P<t>{_WEEKDAY_PREFIX}{_DAY_G}\s+(?:of\s+)?{_MONTH_ANY_G}(?:,?\s+{_YEAR_G})?)",
        _resolve_day_month,
    ),
    _pattern(
        "month_day",
        rf"(?P<t>{_WEEKDAY_PREFIX}{_MONTH_ANY_G}\s+(?:the\s+)?{_DAY_G}(?:,?\s+{_YEAR_G})?)",
        _resolve_day_month,
    ),
    _pattern(
        "month_year",
        rf"(?P<t>{_QUALIFIER}?{_MONTH_ANY_G},?\s+(?:of\s+)?{_YEAR_G})",
        _resolve_month_year,
    ),
    _pattern(
        "month_modified",
        # Not before a number: "last December 23" is a day, left to the day patterns.
        rf"{_NOT_AFTER_THE}\b(?P<t>(?P<mod>last|this|next)\s+{_MONTH_FULL_G})(?!\s*\d)",
        _resolve_month_modified,
    ),
    _pattern(
        "month_alone",
        # A bare month name needs a preposition or qualifier: "may" and "march" are also verbs.
        rf"(?:\b{_PREPOSITIONS}\s+|\b(?={_QUALIFIER}))(?P<t>{_QUALIFIER}?{_MONTH_FULL_G})",
        _resolve_month_alone,
    ),
    _pattern(
        "month_range_end",
        # The second month of "between October and December" has no preposition of its own.
        rf"\b(?:{_MONTH_FULL})\s+(?:and|to|or|until|till|through)\s+(?P<t>{_MONTH_FULL_G})",
        _resolve_month_alone,
    ),
    _pattern(
        "year",
        rf"(?:\b{_YEAR_PREPOSITIONS}\s+(?:the\s+year\s+)?|\b(?={_QUALIFIER}))"
        rf"(?P<t>{_QUALIFIER}?{_YEAR_G}){_NOT_A_QUANTITY}",
        _resolve_year,
    ),
    _pattern(
        "year_range_end",
        # Likewise the second year of "from 2011 to 2024".
        rf"(?<![\w.,/-])(?:19|20)\d\d\s+(?:and|to|or|until|till|through)\s+(?P<t>{_YEAR_G})"
        rf"{_NOT_A_QUANTITY}",
        _resolve_year,
    ),
    _pattern(
        "period",
        rf"{_NOT_AFTER_THE}\b(?P<t>(?P<mod>earlier\s+this|later\s+this|last|this|next)\s+"
        rf"(?P<unit>week|month|year)){_WORD_END}",
        _resolve_period,
    ),
    _pattern(
        "weekday",
        # The lookbehinds keep "the last Tuesday of the month" from matching as a bare weekday.
        rf"{_NOT_AFTER_THE}\b(?P<t>(?:(?P<mod>last|next|this\s+past|past)\s+"
        rf"|(?<!last )(?<!next )(?<!first ))(?P<weekday>{_WEEKDAY}))\b",
        _resolve_weekday,
    ),
    _pattern(
        "relative_day",
        # Not after a possessive: "Syria's tomorrow", "Russia's today" name a future or a
        # present (and movements and outlets: "Syria's Tomorrow Movement"), not a day.
        rf"(?<!'s )(?<!\u2019s )\b(?P<t>{_alternation(_RELATIVE_DAYS)}){_WORD_END}",
        _resolve_relative_day,
    ),
    _pattern(
        "ago",
        rf"\b(?P<t>(?P<n>\d\d?\d?|{_alternation([*_NUMBER_WORDS, *_VAGUE_NUMBERS])})\s+"
        r"(?P<unit>day|week|month|year)s?\s+ago)\b",
        _resolve_ago,
    ),
    _pattern(
        "vague_span",
        r"\b(?P<t>(?:the\s+)?(?P<mod>coming|next\s+few|recent|past\s+few|last\s+few)\s+"
        r"(?P<unit>days|weeks|months))\b",
        _resolve_vague_span,
    ),
    _pattern(
        "weekend",
        r"\b(?P<t>(?:over|at|during)\s+the\s+weekend|(?:last|this\s+past|past)\s+weekend)\b",
        _resolve_weekend,
    ),
    _pattern(
        "anaphoric",
        rf"\b(?P<t>{_alternation(_ANAPHORIC_PHRASES)}){_WORD_END}",
        _resolve_anaphoric,
    ),
)

# --- public API ---------------------------------------------------------------------------------


def find_time_refs(text: str, published: date) -> list[TimeRef]:
    """Return the temporal expressions in text, resolved against the publish date, in text order."""
    candidates: list[TimeRef] = []
    for pattern in _PATTERNS:
        for match in pattern.regex.finditer(text):
            resolution = pattern.resolve(match, published)
            if resolution is None:
                continue
            start, end = match.span("t")
            candidates.append(TimeRef(start, end, match["t"], *resolution))
    # Longest wins on overlap: "last Tuesday" over "Tuesday", "July 2025" over "July".
    candidates.sort(key=lambda ref: (ref.start - ref.end, ref.start))
    chosen: list[TimeRef] = []
    for ref in candidates:
        if all(ref.end <= kept.start or ref.start >= kept.end for kept in chosen):
            chosen.append(ref)
    return sorted(chosen, key=lambda ref: ref.start)


def format_date(value: date | None, precision: str) -> str | None:
    """Return 'YYYY-MM-DD', 'YYYY-MM', 'YYYY' (week precision: its Monday) or None."""
    if value is None:
        return None
    if precision == DAY:
        return value.isoformat()
    if precision == WEEK:
        return _monday(value).isoformat()
    if precision == MONTH:
        return f"{value.year:04d}-{value.month:02d}"
    if precision == YEAR:
        return f"{value.year:04d}"
    raise ValueError(f"unknown precision: {precision!r}")
