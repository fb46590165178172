"""Find events between the two sides (meetings, calls, visits) in a parsed article."""

from __future__ import annotations

from datetime import date, timedelta

from spacy.tokens import Doc, Span, Token

from newsmon.dates import TimeRef, find_time_refs
from newsmon.models import EventMention, Mention, Participant
from newsmon.vocab import (
    CALL_WORDS,
    CANCEL_CUES,
    HOLD_OBJECTS,
    MEETING_NOUNS,
    MEETING_VERBS,
    NEGATIONS,
    PLANNED_CUES,
    VISIT_WORDS,
)
from newsmon.watchlist import LEVEL_RANK

_PARTICIPANT_KINDS = ("person", "office")
_PLACE_KINDS = ("capital", "place", "country")
_PLACE_PREPOSITIONS = ("in", "to", "at", "from")
# Clause links that start a separate statement: what is said in a quote is not the meeting.
_SEPARATE_CLAUSES = ("ccomp", "parataxis", "relcl", "advcl", "acl")
_GOVERNING_FUTURE = frozenset(
    ["expect", "schedule", "plan", "set", "due", "invite", "agree", "intend", "hope", "want", "prepare", "propose"]
)


def _trigger_kind(token: Token) -> str | None:
    """Return meeting, call or visit when the token can report such an event."""
    lemma = token.lemma_.lower()
    lower = token.lower_
    if token.pos_ == "VERB" and lemma in MEETING_VERBS:
        if lemma == "hold":
            has_object = any(c.lemma_.lower() in HOLD_OBJECTS for c in token.children)
            return "meeting" if has_object else None
        if lemma in ("discuss", "welcome", "sit", "greet"):
            # These report a meeting only with a counterpart: "discussed with", "welcomed X".
            return "meeting" if any(c.dep_ in ("prep", "dobj") for c in token.children) else None
        return "meeting"
    if token.pos_ in ("NOUN", "PROPN") and lemma in MEETING_NOUNS:
        return "meeting"
    if lemma in VISIT_WORDS and token.pos_ in ("VERB", "NOUN"):
        return "visit"
    if lower in CALL_WORDS or lemma in ("call", "speak") and _mentions_phone(token.sent):
        return "call" if _mentions_phone(token.sent) else None
    return None


def _mentions_phone(sent: Span) -> bool:
    """Return True when the sentence talks about a phone or video call."""
    words = {t.lower_ for t in sent}
    return bool(words & {"phone", "telephone", "phoned", "telephoned", "videoconference"}) or (
        "video" in words and "call" in words
    )


def _clause_root(token: Token) -> Token:
    """Return the nearest verb at or above the token (the clause the trigger belongs to)."""
    current = token
    while current.pos_ not in ("VERB", "AUX") and current.head is not current:
        current = current.head
    return current


def _region(trigger: Token) -> set[int]:
    """Return token indices that can be participants of the trigger's event.

    The trigger's clause, minus every embedded clause that does not contain the trigger: in
    "X, who met Y last year, said Z" the meeting is X-Y, and Z is only said.
    """
    root = _clause_root(trigger)
    excluded: set[int] = set()
    for token in root.subtree:
        if token is root or token.dep_ not in _SEPARATE_CLAUSES:
            continue
        if trigger not in token.subtree:
            excluded.update(t.i for t in token.subtree)
    return {t.i for t in root.subtree} - excluded


def _status(trigger: Token, sent: Span, refs: list[TimeRef]) -> str:
    """Return occurred, planned or cancelled for the event the trigger reports."""
    root = _clause_root(trigger)
    scope = {trigger, root, *trigger.children, *root.children}
    words = {t.lower_ for t in scope} | {t.lemma_.lower() for t in scope}
    if words & CANCEL_CUES or any(t.dep_ == "neg" or t.lower_ in NEGATIONS for t in scope):
        return "cancelled"
    if any(t.dep_ == "aux" and t.lower_ in ("will", "would", "shall", "'ll") for t in scope):
        return "planned"
    if root.dep_ in ("xcomp", "ccomp") and root.head.lemma_.lower() in _GOVERNING_FUTURE:
        return "planned"
    if root.head.lemma_.lower() in _GOVERNING_FUTURE and root.dep_ != "ROOT":
        return "planned"
    if trigger.pos_ == "NOUN" and any(c.lower_ in PLANNED_CUES for c in trigger.children):
        return "planned"
    if any(r.relation == "future" for r in refs):
        return "planned"
    if root.tag_ == "TO" or any(c.tag_ == "TO" for c in root.children if c.dep_ == "aux"):
        return "planned"  # "to meet" / "to visit": an intention, not a report
    return "occurred"


def _best_ref(refs: list[TimeRef], trigger: Token) -> TimeRef | None:
    """Return the time reference closest to the trigger."""
    if not refs:
        return None
    return min(refs, key=lambda r: abs(r.start - trigger.idx))


def _participants(mentions: list[Mention]) -> tuple[Participant, ...]:
    """Return distinct participants ordered by side and rank."""
    seen: dict[str, Participant] = {}
    for m in mentions:
        if m.actor_id and m.side and m.kind in _PARTICIPANT_KINDS and m.actor_id not in seen:
            seen[m.actor_id] = Participant(
                m.actor_id, m.name or m.text, m.side, m.role, m.level, m.inferred
            )
    return tuple(
        sorted(seen.values(), key=lambda p: (p.side, LEVEL_RANK.get(p.level or "former", 99)))
    )


def _place(
    doc: Doc, mentions: list[Mention], region: set[int], trigger: Token
) -> tuple[str | None, str | None]:
    """Return (place name, its side): a place introduced by in/to/at, or the object visited."""
    objects = {t.i for t in trigger.children if t.dep_ == "dobj"}
    for m in mentions:
        if m.kind not in _PLACE_KINDS and m.label not in ("GPE", "LOC"):
            continue
        span = doc.char_span(m.start, m.end, alignment_mode="expand")
        if span is None or span.start not in region or span.start == 0:
            continue
        if doc[span.start - 1].lower_ in _PLACE_PREPOSITIONS or span.root.i in objects:
            return m.text, m.side
    return None, None


def _visitor_tokens(trigger: Token) -> set[int]:
    """Return token indices that can name who visits: subject, possessor or "by" agent."""
    holders: list[Token] = []
    if trigger.pos_ == "VERB":
        holders = [c for c in trigger.children if c.dep_ in ("nsubj", "nsubjpass")]
    else:
        holders = [c for c in trigger.children if c.dep_ == "poss"]
        holders += [
            g for c in trigger.children if c.dep_ == "prep" and c.lower_ == "by"
            for g in c.children
        ]
        # "X paid a visit", "during a visit to Moscow, X said": the governing verb's subject.
        verb = _clause_root(trigger)
        if verb is not trigger and trigger.dep_ in ("dobj", "pobj"):
            holders += [c for c in verb.children if c.dep_ == "nsubj"]
    return {t.i for holder in holders for t in holder.subtree}


def is_new(event_date: date | None, published: date | None, window_days: int) -> bool:
    """Return True when the event happened within the window before publication."""
    if event_date is None or published is None:
        return False
    return published - timedelta(days=window_days) <= event_date <= published + timedelta(days=1)


def find_event_mentions(
    doc: Doc, mentions: list[Mention], published: date | None, sides: tuple[str, str]
) -> list[EventMention]:
    """Return one EventMention per sentence that reports an event with both sides involved."""
    found: list[EventMention] = []
    ref_date = published or date.today()
    refs_all = find_time_refs(doc.text, ref_date)
    for index, sent in enumerate(doc.sents):
        sent_mentions = [m for m in mentions if m.sentence == index]
        if not any(m.kind in _PARTICIPANT_KINDS for m in sent_mentions):
            continue
        refs = [r for r in refs_all if sent.start_char <= r.start < sent.end_char]
        anaphoric = any(r.relation == "anaphoric" for r in refs)
        sentence_events: list[EventMention] = []
        for trigger in sent:
            kind = _trigger_kind(trigger)
            if kind is None:
                continue
            event = _event_at(doc, trigger, kind, sent, index, sent_mentions, refs, sides)
            # One sentence can report two events ("X met Y on Wednesday, a day after Z received
            # them"); the same participants twice are one report.
            if event is not None and all(
                {p.actor_id for p in e.participants} != {p.actor_id for p in event.participants}
                for e in sentence_events
            ):
                sentence_events.append(event)
        found.extend(sentence_events)
        if not sentence_events and anaphoric:
            # "... al-Shaibani told Lavrov at the time": both sides together, at a time the
            # article already named; the consolidation step joins it to that event.
            people = _participants(sent_mentions)
            if {p.side for p in people} >= set(sides):
                found.append(EventMention(
                    "meeting", "occurred", None, None, "anaphoric", None, people,
                    sent.text.strip(), index,
                ))
    return found


def _event_at(
    doc: Doc,
    trigger: Token,
    kind: str,
    sent: Span,
    index: int,
    sent_mentions: list[Mention],
    refs: list[TimeRef],
    sides: tuple[str, str],
) -> EventMention | None:
    """Return the event a trigger reports, or None when both sides are not involved."""
    region = _region(trigger)
    in_region = [
        m for m in sent_mentions
        if (span := doc.char_span(m.start, m.end, alignment_mode="expand")) is not None
        and span.start in region
    ]
    people = _participants(in_region)
    people_sides = {p.side for p in people}
    place, place_side = _place(doc, in_region, region, trigger)
    if kind == "visit" and len(people_sides) == 2:
        kind = "meeting"  # a visit where both sides' officials appear is a meeting with hosts
    if kind == "visit":
        # A visit needs its visitor (subject / possessor / "by" agent) and a destination of the
        # other side; a name elsewhere in the sentence is not the visitor.
        visitor_tokens = _visitor_tokens(trigger)
        people = tuple(
            p for p in people
            if any(
                (span := doc.char_span(m.start, m.end, alignment_mode="expand")) is not None
                and span.root.i in visitor_tokens and m.actor_id == p.actor_id
                for m in in_region
            )
        )
        place, place_side = _place(doc, in_region, {t.i for t in trigger.subtree}, trigger)
        people_sides = {p.side for p in people}
        if len(people_sides) != 1 or place_side is None or place_side in people_sides:
            return None
    elif not set(sides) <= people_sides:
        return None
    ref = _best_ref([r for r in refs if r.relation != "anaphoric"], trigger)
    status = _status(trigger, sent, refs)
    if ref is not None and ref.value is not None:
        when, precision, source = ref.value, ref.precision, "text"
    elif any(r.relation == "anaphoric" for r in refs):
        when, precision, source = None, None, "anaphoric"
    else:
        when, precision, source = None, None, "published"
    return EventMention(
        kind, status, when, precision, source, place, people, sent.text.strip(), index
    )
