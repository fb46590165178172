"""Event identity: when two reports describe the same real-world event, and how they merge.

Rule (one function, `same_event`, tested as a table in tests/analysis/test_identity.py): two reports of
the same type family (meeting/visit vs call) with compatible dates (same day +-1 for time zones,
or overlapping periods when one has month/week/year precision) are the same event when
- every side named in both shares at least one participant (reports name partial lists), or
- both are dated to the very same day, one side shares a participant and the places agree
  (two outlets naming different ministers of a delegation received by the same president).
A visit names only the visiting side; its host side is its place.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from newsmon.models import EventMention, Participant, event_kind

_FAMILY = {"meeting": "meeting", "visit": "meeting", "call": "call"}


def type_family(event_type: str) -> str:
    """Return the family an event type merges within."""
    return _FAMILY.get(event_type, event_type)


def dates_compatible(a: date | None, a_precision: str | None, b: date | None,
                     b_precision: str | None) -> bool:
    """Return True when two dates can name the same day (+-1 day, or overlapping periods)."""
    if a is None or b is None:
        return True
    if a_precision == "day" and b_precision == "day":
        return abs((a - b).days) <= 1
    coarse = "year" if "year" in (a_precision, b_precision) else "month"
    if coarse == "year":
        return a.year == b.year
    if "week" in (a_precision, b_precision):
        return abs((a - b).days) <= 7
    return (a.year, a.month) == (b.year, b.month)


def places_compatible(a: str | None, b: str | None) -> bool:
    """Return True when the places are equal or at least one is unknown."""
    return a is None or b is None or a.casefold() == b.casefold()


def _ids_by_side(participants: tuple[Participant, ...]) -> dict[str, set[str]]:
    """Return participant actor ids grouped by side."""
    out: dict[str, set[str]] = {}
    for p in participants:
        out.setdefault(p.side, set()).add(p.actor_id)
    return out


def _only_groups(ids: set[str]) -> bool:
    """Return True when a side is present only as a group ("Syrian officials")."""
    return all(actor_id.endswith(":group") for actor_id in ids)


def participants_overlap(
    a: tuple[Participant, ...], b: tuple[Participant, ...], groups_stand_in: bool = False
) -> bool:
    """Return True when every side present in both reports shares a participant.

    With groups_stand_in, a side present only as a group ("a Russian delegation", "Syrian
    officials") stands for whoever of that side the other report names.
    """
    sides_a, sides_b = _ids_by_side(a), _ids_by_side(b)
    common = set(sides_a) & set(sides_b)
    return bool(common) and all(
        sides_a[side] & sides_b[side] or (groups_stand_in and (
            _only_groups(sides_a[side]) or _only_groups(sides_b[side])))
        for side in common
    )


def shares_a_side(a: tuple[Participant, ...], b: tuple[Participant, ...]) -> bool:
    """Return True when some side has a participant in both reports."""
    sides_a, sides_b = _ids_by_side(a), _ids_by_side(b)
    return any(sides_a[side] & sides_b[side] for side in set(sides_a) & set(sides_b))


def _side_kinds(participants: tuple[Participant, ...]) -> dict[str, str | None]:
    """Return side -> the kind its participants give it; None for a side named only by an
    unnamed delegation of the state, which may be of any kind ("a Russian delegation" is
    the parliamentary delegation another report names)."""
    by_side: dict[str, list[Participant]] = {}
    for p in participants:
        by_side.setdefault(p.side, []).append(p)
    return {
        side: (None if all(p.actor_id == f"{side}:group" for p in people)
               else event_kind(p.kind for p in people if p.actor_id != f"{side}:group"))
        for side, people in by_side.items()
    }


def kinds_compatible(a: tuple[Participant, ...], b: tuple[Participant, ...]) -> bool:
    """Return True when no side present in both reports has two different kinds."""
    kinds_a, kinds_b = _side_kinds(a), _side_kinds(b)
    return all(
        kinds_a[side] is None or kinds_b[side] is None or kinds_a[side] == kinds_b[side]
        for side in set(kinds_a) & set(kinds_b)
    )


def same_event(a: EventMention, b: EventMention) -> bool:
    """Return True when two event reports describe the same real-world event."""
    if type_family(a.type) != type_family(b.type):
        return False
    if not dates_compatible(a.date, a.date_precision, b.date, b.date_precision):
        return False
    # A group stands for its side only between two-sided reports of a known day: an undated
    # plan ("al-Sharaa's coming visit") must not join whatever talks a delegation held, nor a
    # delegation's arrival the talks of the next day.
    # Nor do reports of different kinds: Bogdanov's talks with the foreign minister and his
    # talks with an opposition leader on the same day in Moscow are two meetings (issue 16).
    same_kind = kinds_compatible(a.participants, b.participants)
    stand_in = same_kind and a.date is not None and b.date is not None and all(
        len({p.side for p in r.participants}) == 2 for r in (a, b))
    if participants_overlap(a.participants, b.participants, groups_stand_in=stand_in):
        return True
    same_day = a.date_precision == b.date_precision == "day" and a.date == b.date
    return (
        same_day
        and same_kind
        and shares_a_side(a.participants, b.participants)
        and places_compatible(a.place, b.place)
    )


VISIT_DAYS = 3


def same_visit(a: EventMention, b: EventMention) -> bool:
    """Return True when two distinct events belong to one visit: a shared participant, dates
    within three days, and places that agree (talks with Putin on Tuesday and with Lavrov on
    Wednesday of one Moscow trip)."""
    if a.date is None or b.date is None or "day" not in (a.date_precision, b.date_precision):
        return False
    return (
        participants_overlap_any(a.participants, b.participants)
        and within_days(a.date, b.date, VISIT_DAYS)
        and places_compatible(a.place, b.place)
    )


def merge_participants(
    a: tuple[Participant, ...], b: tuple[Participant, ...]
) -> tuple[Participant, ...]:
    """Return the union of two participant lists, first occurrence kept."""
    seen = {p.actor_id: p for p in b}
    seen.update({p.actor_id: p for p in a})
    return tuple(sorted(seen.values(), key=lambda p: (p.side, p.level or "~", p.name)))


def _finer(a: EventMention, b: EventMention) -> tuple[date | None, str | None]:
    """Return the more precise of two compatible dates."""
    order = {"day": 0, "week": 1, "month": 2, "year": 3, None: 4}
    if order[a.date_precision] <= order[b.date_precision]:
        return a.date, a.date_precision
    return b.date, b.date_precision


def merge(a: EventMention, b: EventMention) -> EventMention:
    """Return a merged report: union of participants, finer date, known place, stronger type."""
    when, precision = _finer(a, b)
    kind = "meeting" if "meeting" in (a.type, b.type) else a.type
    status = "occurred" if "occurred" in (a.status, b.status) else a.status
    return replace(
        a,
        type=kind,
        status=status,
        date=when,
        date_precision=precision,
        date_source=a.date_source if when == a.date else b.date_source,
        place=a.place or b.place,
        participants=merge_participants(a.participants, b.participants),
    )


# The headline and the first sentences of the body: where a report states its news.
LEAD_SENTENCES = 3


# How many sentences back "the meeting" may point to the meeting it means.
DEFINITE_REACH = 3


def consolidate(mentions: list[EventMention], published: date | None) -> list[EventMention]:
    """Return one event per real-world event of an article, in order of first report.

    Dated reports come first; a report dated only by "at the time" joins the latest earlier
    event sharing a participant; an undated report joins the dated event it matches, is only
    evidence when it matches several (a summary sentence), and otherwise is dated by the
    publication day.
    """
    events: list[EventMention] = []
    evidence: dict[int, list[str]] = {}

    def add(mention: EventMention) -> None:
        for i, event in enumerate(events):
            if same_event(event, mention):
                events[i] = merge(event, mention)
                evidence.setdefault(i, []).append(mention.evidence)
                return
        events.append(mention)
        evidence[len(events) - 1] = [mention.evidence]

    for mention in (m for m in mentions if m.date_source in ("text", "none")):
        add(mention)
    for mention in (m for m in mentions if m.date_source == "anaphoric"):
        earlier = [
            i for i, e in enumerate(events)
            if e.sentence < mention.sentence
            and participants_overlap_any(e.participants, mention.participants)
        ] or [
            # "The meeting was attended by [others]": the meeting reported just before it.
            i for i, e in enumerate(events)
            if mention.sentence - DEFINITE_REACH <= e.sentence < mention.sentence
            and e.type == mention.type == "meeting" and e.date is not None
        ]
        if earlier:
            i = max(earlier, key=lambda k: events[k].sentence)
            events[i] = merge(events[i], replace(mention, date=None, date_precision=None))
    for mention in (m for m in mentions if m.date_source == "published"):
        related = [
            i for i, e in enumerate(events)
            if type_family(e.type) == type_family(mention.type)
            and participants_overlap_any(e.participants, mention.participants)
        ]
        same = [i for i in related if participants_overlap(events[i].participants,
                                                           mention.participants)]
        if len(same) == 1:
            events[same[0]] = merge(events[same[0]], replace(mention, date=None))
        elif not related and published is not None:
            # The headline and lead report the news: undated there, it is the day of
            # publication ("Putin holds talks with Syrian ministers"). Further down, undated
            # past-tense news is recent news: "within the week of publication".
            lead = mention.sentence <= LEAD_SENTENCES
            add(replace(mention, date=published, date_precision="day" if lead else "week"))
        # Otherwise it summarises several dated events, or half-matches one: evidence only.
    return events


def participants_overlap_any(a: tuple[Participant, ...], b: tuple[Participant, ...]) -> bool:
    """Return True when the reports share at least one participant."""
    return bool({p.actor_id for p in a} & {p.actor_id for p in b})


def within_days(a: date, b: date, days: int) -> bool:
    """Return True when two dates are at most that many days apart."""
    return abs(a - b) <= timedelta(days=days)
