"""Find events between the two sides (meetings, calls, visits) in a parsed article."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta

from spacy.tokens import Doc, Span, Token

from newsmon.analysis.clauses import (
    SUBJECTS,
    borrowed_subject,
    clause_root,
    is_flat,
    lemma_of,
    starts_clause,
    trigger_region,
)
from newsmon.analysis.dates import TimeRef, find_time_refs
from newsmon.analysis.vocab import (
    CANCEL_CUES,
    FUTURE_AUXILIARIES,
    GOVERNING_FUTURE,
    HOLD_OBJECTS,
    MEETING_NOUNS,
    NEGATIONS,
    PERSON_OBJECT_VERBS,
    PHONE_WORDS,
    PLANNED_MODIFIERS,
    ROLE_WORDS,
    VISIT_WORDS,
)
from newsmon.analysis.watchlist import LEVEL_RANK
from newsmon.models import EventMention, Mention, Participant

_PARTICIPANT_KINDS = ("person", "office", "group")
_PLACE_KINDS = ("capital", "place", "country")
_PLACE_PREPOSITIONS = ("in", "to", "at", "from")
_PRONOUNS = ("he", "she", "him", "her")
# Where the received or hosted person hangs: "received on Tuesday Russian Defense Minister
# Sergei Shoigu" leaves the parser an adverbial or attribute, not always an object.
_OBJECT_DEPS = ("dobj", "nsubjpass", "agent", "pobj", "dative", "npadvmod", "attr", "oprd")
# Verbs that carry a meeting noun: their negation is the meeting's ("the talks did not take place").
SUPPORT_VERBS = frozenset(["hold", "have", "take", "go", "happen", "occur", "conduct", "be"])
# Verbs of reporting: what their clause says happened, happened at their time unless it says
# otherwise ("Borisov said on Tuesday that he had discussed with Assad ...").
SPEECH_VERBS = frozenset(["say", "tell", "announce", "state", "report", "confirm", "add", "note",
                          "declare", "stress", "explain", "disclose", "reveal"])
# A time after these words is a starting point or a comparison, not when the event happened.
_NOT_EVENT_TIME = ("since", "until", "till", "before")


def _is_phone_sentence(sent: Span) -> bool:
    """Return True when the sentence talks about a phone or video call."""
    words = {t.lower_ for t in sent}
    return bool(words & PHONE_WORDS) or ("video" in words and "call" in words)


def _person_like(token: Token) -> bool:
    """Return True when a token's phrase names a person or an official body."""
    return any(
        t.ent_type_ in ("PERSON", "NORP") or t.lower_ in ROLE_WORDS for t in token.subtree
    )


def _trigger_kind(token: Token, phone: bool) -> str | None:
    """Return meeting, call or visit when the token can report such an event."""
    lemma = lemma_of(token)
    children = list(token.children)
    kind: str | None = None
    if token.pos_ == "VERB":
        if lemma == "hold":
            if any(lemma_of(c) in HOLD_OBJECTS or c.lower_ in HOLD_OBJECTS for c in children):
                kind = "meeting"
        elif lemma in PERSON_OBJECT_VERBS:
            if any(c.dep_ in _OBJECT_DEPS and _person_like(c) for c in children):
                kind = "meeting"
        elif lemma in ("discuss", "sit", "confer", "negotiate"):
            # "discussed with X", "sat down with X": only with a counterpart.
            if any(c.dep_ == "prep" and c.lower_ == "with" for c in children):
                kind = "meeting"
        elif lemma == "meet":
            kind = "meeting"
        elif lemma in ("hand", "deliver", "present") and any(
                c.dep_ == "dobj" and lemma_of(c) in ("message", "letter") for c in children) and any(
                c.dep_ in ("prep", "dative") and c.lower_ == "to" for c in children):
            # "handed a message from Putin to Assad": an envoy who hands a letter to someone
            # meets him (the sender is no participant: PRINCIPAL_NOUNS).
            kind = "meeting"
        elif phone and lemma in ("speak", "talk", "converse", "exchange"):
            kind = "call"  # "spoke by phone with", "talked on the telephone"
        elif lemma in ("call", "phone", "telephone", "ring"):
            # "X called Y" is a call; "called for"/"called on" is a demand.
            urged = any(c.dep_ == "prep" and c.lower_ in ("for", "on") for c in children)
            if phone or (
                not urged and any(c.dep_ == "dobj" and c.ent_type_ == "PERSON" for c in children)
            ):
                kind = "call"
        elif lemma in VISIT_WORDS:
            kind = "visit"
    elif token.pos_ in ("NOUN", "PROPN"):
        if lemma in MEETING_NOUNS or token.lower_ in MEETING_NOUNS:
            kind = "meeting"
        elif "conference" in token.lower_ and any(
            t.lower_ == "joint" for t in token.lefts
        ):
            kind = "meeting"  # a joint news conference puts both sides in one room
        elif lemma in ("visit", "trip", "tour"):
            kind = "visit"
        elif lemma == "call" and phone:
            kind = "call"
    if kind == "meeting" and phone:
        kind = "call"  # "a telephone conversation", "talks by phone"
    return kind


def _status(trigger: Token, refs: list[TimeRef]) -> str:
    """Return occurred, planned or cancelled for the event the trigger reports."""
    root = clause_root(trigger)
    near = [trigger, root, *trigger.children, *root.children]
    lemmas = {lemma_of(t) for t in near}
    # A negation cancels the event only on its own verb or a verb that carries it ("did not
    # take place", "was not held"): "X was not discussed at the meeting" reports the meeting.
    negated = [trigger, *trigger.children]
    if root.i == trigger.i or lemma_of(root) in SUPPORT_VERBS:
        negated += [root, *root.children]
    if lemmas & CANCEL_CUES or any(t.dep_ == "neg" or t.lower_ in NEGATIONS for t in negated):
        return "cancelled"
    if any(t.dep_ == "aux" and t.lower_ in FUTURE_AUXILIARIES for t in root.children):
        return "planned"
    if _is_setting(trigger):
        # A meeting that is the setting of what its clause says ("proposed to resume the
        # commission at a meeting with X") took place; only its own future words make it a
        # plan (the auxiliary above, a future date below).
        return "planned" if any(r.relation == "future" for r in refs) else "occurred"
    # "the meeting was planned", "plans to meet", "is due to hold talks", "invited X to visit".
    if lemma_of(root) in GOVERNING_FUTURE and root.i != trigger.i:
        return "planned"
    governor = root.head
    # Only an infinitive hangs on a plan ("agreed to meet"); a finite clause is a report
    # ("talks were held; continued dialogue was agreed").
    infinitive = root.dep_ == "xcomp" or any(
        c.dep_ == "aux" and c.tag_ == "TO" for c in root.children)
    if infinitive and lemma_of(governor) in GOVERNING_FUTURE:
        return "planned"
    # A headline's "Lavrov to hold talks with Syrian counterpart": an infinitive on the
    # sentence's subject (parsed as its root verb with a subject, or as a clause on the noun).
    headline_infinitive = (
        (root.dep_ == "ROOT" and any(c.dep_ in SUBJECTS for c in root.children))
        or (root.dep_ in ("relcl", "acl") and governor.dep_ == "ROOT"
            and governor.pos_ in ("PROPN", "NOUN"))
    )
    if infinitive and headline_infinitive:
        return "planned"
    if governor.dep_ == "xcomp" and lemma_of(governor.head) in GOVERNING_FUTURE:
        return "planned"
    if lemma_of(governor) in GOVERNING_FUTURE and governor.pos_ == "ADJ":
        return "planned"
    if trigger.pos_ == "NOUN" and any(c.lower_ in PLANNED_MODIFIERS for c in trigger.children):
        return "planned"
    if any(r.relation == "future" for r in refs):
        return "planned"
    return "occurred"


# Prepositions that make a meeting the setting of what the clause reports.
_SETTING_PREPOSITIONS = ("at", "during", "after", "following", "on", "in")


def _is_setting(trigger: Token) -> bool:
    """Return True for a meeting noun in an adjunct of its clause: "said at a meeting with"."""
    return (trigger.pos_ == "NOUN" and trigger.dep_ == "pobj"
            and trigger.head.lower_ in _SETTING_PREPOSITIONS
            and trigger.head.head.pos_ in ("VERB", "AUX"))


def _event_time(
    doc: Doc, refs: list[TimeRef], region: set[int], excluded_chars: list[tuple[int, int]],
    trigger: Token,
) -> TimeRef | None:
    """Return the time reference that dates the trigger: in its clause first, else nearby."""
    region_chars = {doc[i].idx for i in region}

    def usable(ref: TimeRef) -> bool:
        before = doc.text[max(0, ref.start - 7) : ref.start].lower().split()
        # "last week's strike": a possessive time dates its noun, not the clause's event.
        possessive = doc.text[ref.end : ref.end + 2] in ("'s", "\u2019s")
        return ref.relation != "anaphoric" and not possessive and not (
            before and before[-1] in _NOT_EVENT_TIME) and not _under_bound(doc, ref, trigger)

    candidates = [r for r in refs if usable(r)]
    own = [r for r in candidates if any(r.start <= c < r.end for c in region_chars)]
    if own:
        return min(own, key=lambda r: abs(r.start - trigger.idx))
    root = clause_root(trigger)
    if starts_clause(root) and not (root.dep_ == "ccomp" and lemma_of(root.head) in SPEECH_VERBS):
        # An embedded clause without its own time does not take the main clause's: in "met X
        # on Wednesday, a day after Y received them" Y's meeting is not on Wednesday.
        return _shifted_from_main(doc, root, candidates)
    outside = [r for r in candidates
               if not any(start <= r.start < end for start, end in excluded_chars)]
    return min(outside, key=lambda r: abs(r.start - trigger.idx)) if outside else None


def _under_bound(doc: Doc, ref: TimeRef, trigger: Token) -> bool:
    """Return True when the time sits in a "since"/"until"/"before" phrase: "his first visit
    since the fall of the regime on December 8" dates the fall, a bound of the visit."""
    span = doc.char_span(ref.start, ref.end, alignment_mode="expand")
    if span is None:
        return False
    current = span.root
    for _ in range(8):
        if current.i == trigger.i or current.head.i == current.i:
            return False
        if current.lower_ in _NOT_EVENT_TIME and current.dep_ in ("prep", "mark"):
            return True
        current = current.head
    return False


_COUNTS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}


def _shifted_from_main(doc: Doc, clause: Token, refs: list[TimeRef]) -> TimeRef | None:
    """Return the main clause's time moved by "N days after/before" heading this clause."""
    marker = next((c for c in clause.children if c.lower_ in ("after", "before")), None)
    if marker is None:
        return None
    unit = next((c for c in marker.children if lemma_of(c) == "day"), None)
    if unit is None or not refs:
        return None
    count = next(
        (_COUNTS.get(c.lower_) or (int(c.text) if c.text.isdigit() else None)
         for c in unit.children if c.dep_ in ("det", "nummod")),
        1,
    ) or 1
    clause_end = clause.right_edge.idx + len(clause.right_edge)
    main = [r for r in refs if r.value is not None and r.precision == "day"
            and not clause.left_edge.idx <= r.start < clause_end]
    anchor_day = main[0].value if main else None
    if anchor_day is None:
        return None
    shift = timedelta(days=-count if marker.lower_ == "after" else count)
    return replace(main[0], value=anchor_day + shift)


_WEEKDAY = re.compile(r"\b(mon|tues|wednes|thurs|fri|satur|sun)day\b", re.IGNORECASE)


def _forward_if_planned(ref: TimeRef, status: str, published: date | None) -> date | None:
    """Return the ref's date, moved to the next such day when a plan names a past one.

    Year-less dates resolve to the past by default ("on Oct. 15" in a report); in "will meet on
    December 17" the same words point forward: a weekday moves a week on, a day or month without
    a year moves a year on. A date on or after publication stays.
    """
    value = ref.value
    if value is None or status != "planned" or ref.relation == "future" or published is None:
        return value
    if value >= published or re.search(r"\b(19|20)\d\d\b", ref.text):
        return value
    if _WEEKDAY.search(ref.text):
        return value + timedelta(days=7)
    if ref.precision not in ("day", "month"):
        return value
    try:
        return value.replace(year=value.year + 1)
    except ValueError:  # 29 February
        return value + timedelta(days=365)


def _participants(mentions: list[Mention]) -> tuple[Participant, ...]:
    """Return distinct participants ordered by side and rank."""
    seen: dict[str, Participant] = {}
    for m in mentions:
        # Meetings are between officials: a person without an office at the date (Assad named
        # in a 2025 article) is background, not a participant.
        if m.role is None and not m.inferred:
            continue
        if m.inferred and m.kind != "group" and m.level in (None, "official"):
            # An unknown "official" with no office we could read is no participant; a person
            # described by a kind outside the state ("a leader of the opposition") has the
            # level "leader" or "member" and is one.
            continue
        if m.actor_id and m.side and m.kind in _PARTICIPANT_KINDS and m.actor_id not in seen:
            seen[m.actor_id] = Participant(
                m.actor_id, m.name or m.text, m.side, m.role, m.level, m.inferred,
                m.actor_kind or "state",
            )
    return tuple(
        sorted(seen.values(), key=lambda p: (p.side, LEVEL_RANK.get(p.level or "former", 99)))
    )


def _span_tokens(doc: Doc, mention: Mention) -> set[int]:
    """Return the token indices a mention covers."""
    span = doc.char_span(mention.start, mention.end, alignment_mode="expand")
    return {t.i for t in span} if span is not None else set()


def _place(
    doc: Doc, mentions: list[Mention], region: set[int], trigger: Token
) -> tuple[str | None, str | None]:
    """Return (place name, its side): a place introduced by in/to/at, or the object visited."""
    objects = {t.i for t in trigger.children if t.dep_ == "dobj"}
    for m in mentions:
        if m.kind not in _PLACE_KINDS and m.label not in ("GPE", "LOC", "FAC"):
            continue
        span = doc.char_span(m.start, m.end, alignment_mode="expand")
        if span is None or span.start not in region or span.start == 0:
            continue
        if _in_topic(doc[span.start - 1], trigger):
            continue  # "talks on the situation in Syria": what they discussed, not where
        if doc[span.start - 1].lower_ in _PLACE_PREPOSITIONS or span.root.i in objects:
            return m.text, m.side
    return None, None


_TOPIC_PREPOSITIONS = frozenset(["on", "about", "over", "regarding", "concerning"])


def _in_topic(token: Token, trigger: Token) -> bool:
    """Return True when the token sits in a topic phrase of the trigger ("on the situation
    in Syria", "about the war in Syria") rather than saying where the event took place."""
    current = token
    for _ in range(8):
        if current.i == trigger.i or current.head.i == current.i:
            return False
        if current.dep_ == "pobj" and current.head.lower_ in _TOPIC_PREPOSITIONS:
            return True
        current = current.head
    return False


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
        verb = clause_root(trigger)
        if verb.i != trigger.i and trigger.dep_ in ("dobj", "pobj"):
            holders += [c for c in verb.children if c.dep_ == "nsubj"]
    return {t.i for holder in holders for t in holder.subtree}


def _pronoun_antecedents(
    doc: Doc, trigger: Token, region: set[int], mentions: list[Mention]
) -> list[Mention]:
    """Return the persons that he/she/him/her around the trigger refer to.

    The nearest earlier named person, of the side the rest of the clause lacks: "Lavrov recalled
    that he had met al-Shaibani" makes "he" Lavrov.
    """
    root = clause_root(trigger)
    pronouns = [
        t for t in (*trigger.children, *root.children)
        if t.lower_ in _PRONOUNS and t.dep_ in ("nsubj", "nsubjpass", "dobj", "pobj")
    ] + [g for c in root.children if c.dep_ == "agent" for g in c.children
         if g.lower_ in _PRONOUNS]
    # "his talks with the Syrian president": the possessor holds the talks.
    pronouns += [c for c in trigger.children if c.dep_ == "poss" and c.lower_ in ("his", "her")]
    # "He visited Damascus and held a meeting with Assad": a subject the clause borrows.
    pronouns += [doc[i] for i in sorted(borrowed_subject(root))
                 if doc[i].lower_ in _PRONOUNS and doc[i] not in pronouns]
    found: list[Mention] = []
    for pronoun in pronouns:
        present = {m.side for m in mentions if _span_tokens(doc, m) & region and m.side}
        earlier = [
            m for m in mentions
            if m.kind in _PARTICIPANT_KINDS and m.side and m.end <= pronoun.idx
            and m.side not in present
        ]
        if earlier:
            found.append(earlier[-1])
    return found


def is_new(event_date: date | None, published: date | None, window_days: int) -> bool:
    """Return True when the event happened within the window before publication."""
    if event_date is None or published is None:
        return False
    return published - timedelta(days=window_days) <= event_date <= published + timedelta(days=1)


def find_event_mentions(
    doc: Doc, mentions: list[Mention], published: date | None, sides: tuple[str, str]
) -> list[EventMention]:
    """Return the EventMentions of every sentence that reports an event between both sides."""
    found: list[EventMention] = []
    refs_all = find_time_refs(doc.text, published or date.today())
    sentences = list(doc.sents)
    for index, sent in enumerate(sentences):
        sent_mentions = [m for m in mentions if m.sentence == index]
        if not any(m.kind in _PARTICIPANT_KINDS for m in sent_mentions):
            continue
        # Earlier sentences' people are candidates for pronouns ("He met al-Shaibani").
        context = [m for m in mentions if m.sentence in (index - 1, index)]
        refs = [r for r in refs_all if sent.start_char <= r.start < sent.end_char]
        phone = _is_phone_sentence(sent)
        sentence_events: list[EventMention] = []
        for trigger in sent:
            kind = _trigger_kind(trigger, phone)
            if kind is None:
                continue
            event = _event_at(doc, trigger, kind, sent, index, context, refs, sides, published)
            # One sentence can report two events ("X met Y on Wednesday, a day after Z received
            # them"); the same participants twice are one report.
            if event is not None and all(
                {p.actor_id for p in e.participants} != {p.actor_id for p in event.participants}
                for e in sentence_events
            ):
                sentence_events.append(event)
        found.extend(sentence_events)
        if not sentence_events and any(r.relation == "anaphoric" for r in refs):
            # "... al-Shaibani told Lavrov at the time": both sides together, at a time the
            # article already named; the consolidation step joins it to that event.
            people = _participants(sent_mentions)
            if {p.side for p in people} >= set(sides):
                found.append(EventMention(
                    "meeting", "occurred", None, None, "anaphoric", None, people,
                    sent.text.strip(), index,
                ))
    return found


def _excluded_clause_chars(sent: Span, region: set[int]) -> list[tuple[int, int]]:
    """Return the character ranges of the sentence's clauses outside the trigger's region."""
    ranges = []
    for token in sent:
        if starts_clause(token) and token.i not in region:
            sub = list(token.subtree)
            ranges.append((sub[0].idx, sub[-1].idx + len(sub[-1])))
    return ranges


def _definite_meeting(trigger: Token) -> bool:
    """Return True for "the meeting was attended by ..." / "the talks were joined by ...": more
    people at the meeting the article already reported, not a new one."""
    return (
        trigger.pos_ == "NOUN" and trigger.dep_ in ("nsubj", "nsubjpass")
        and lemma_of(trigger.head) in ("attend", "join")
        and any(c.dep_ == "det" and c.lower_ in ("the", "this", "that") for c in trigger.children)
    )


def _event_at(
    doc: Doc,
    trigger: Token,
    kind: str,
    sent: Span,
    index: int,
    context: list[Mention],
    refs: list[TimeRef],
    sides: tuple[str, str],
    published: date | None = None,
) -> EventMention | None:
    """Return the event a trigger reports, or None when both sides are not involved."""
    # Lower-case posts parse badly ("and expatriates" becomes a verb): their clause is the
    # whole sentence, which is short anyway.
    region = {t.i for t in sent} if is_flat(doc) else trigger_region(trigger)
    in_region = [m for m in context if m.sentence == index and _span_tokens(doc, m) & region]
    in_region += _pronoun_antecedents(doc, trigger, region, context)
    people = _participants(in_region)
    people_sides = {p.side for p in people}
    if kind == "visit" and len(people_sides) == 2:
        kind = "meeting"  # a visit where both sides' officials appear is a meeting with hosts
    if kind == "meeting" and len(people_sides) == 1:
        # "A Russian delegation held consultations in Damascus": talks hosted by the other side,
        # whose officials go unnamed, are a visit by the side that is named.
        place, place_side = _place(doc, in_region, region, trigger)
        if place_side is None or place_side in people_sides:
            return None
        kind = "visit"
    elif kind == "visit":
        # A visit needs its visitor (subject / possessor / "by" agent) and a destination of the
        # other side; a name elsewhere in the sentence is not the visitor.
        visitors = _visitor_tokens(trigger)
        people = _participants(
            [m for m in in_region if _span_tokens(doc, m) & visitors]
        )
        place, place_side = _place(doc, in_region, {t.i for t in trigger.subtree}, trigger)
        people_sides = {p.side for p in people}
        if len(people_sides) != 1 or place_side is None or place_side in people_sides:
            return None
    else:
        if not set(sides) <= people_sides:
            return None
        place, _ = _place(doc, in_region, region, trigger)
    ref = _event_time(doc, refs, region, _excluded_clause_chars(sent, region), trigger)
    clause_refs = [ref] if ref is not None else []
    status = _status(trigger, clause_refs)
    if ref is not None and ref.value is not None:
        when, precision, source = (
            _forward_if_planned(ref, status, published), ref.precision, "text")
    elif any(r.relation == "anaphoric" for r in refs) or _definite_meeting(trigger):
        when, precision, source = None, None, "anaphoric"
    elif status == "occurred":
        when, precision, source = None, None, "published"
    else:
        when, precision, source = None, None, "none"  # a plan without a date stays undated
    return EventMention(
        kind, status, when, precision, source, place, people, sent.text.strip(), index
    )
