"""Group actors: delegations, representatives and the heads of bodies outside the state.

"A Russian delegation", "officials from Russia and Syria", "representatives of the Syrian
opposition", "a People's Council delegation", "the secretary-general of the Syrian National
Youth Party": each stands for its side in a meeting when no member is named, with its kind.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from spacy.tokens import Doc, Token

from newsmon.analysis.actors import described_kind, listed_body, side_of_token, slug
from newsmon.analysis.watchlist import Institution, Watchlist, _fold
from newsmon.models import KIND_LABELS, Mention

# Nouns of several people who speak for a side or a body.
_GROUP_NOUNS = frozenset(
    ["delegation", "delegations", "officials", "diplomats", "representatives", "leaders",
     "members", "figures", "delegates", "lawmakers", "parliamentarians", "activists",
     "leadership"]
)
_PLURAL_GROUP_NOUNS = _GROUP_NOUNS - {"delegation", "leadership"}
# Nouns that, after "the" or "his", point back to a group or person named earlier.
_ANAPHORA_NOUNS = frozenset(["delegation", "delegations", "officials", "diplomats"])
# Nouns of the one person who heads a body outside the state ("a leader of the Syrian
# opposition"). Unnamed, the head stands for the body; named, the person is the participant.
_HEAD_NOUNS = frozenset(
    ["leader", "head", "chairman", "chairwoman", "co-chair", "secretary", "commander", "chief",
     "founder", "coordinator"]
)
_GROUP_WORD_RE = re.compile(
    r"\b(?:" + "|".join(sorted(_GROUP_NOUNS | _HEAD_NOUNS)) + r")\b", re.IGNORECASE)
_ANAPHORA_RE = re.compile(r"\b(?:" + "|".join(sorted(_ANAPHORA_NOUNS)) + r")\b", re.IGNORECASE)
# What may stand before the noun within its phrase: "a Syrian public and political delegation".
_MODIFIER_POS = frozenset(["ADJ", "NOUN", "PART", "PROPN", "CCONJ"])
_MAX_BACK = 5
_MAX_FORWARD = 8


@dataclass(frozen=True)
class _Phrase:
    """The description around one group or head noun."""

    noun: Token
    before: tuple[Token, ...]  # modifiers: "a Syrian opposition [delegation]"
    after: tuple[Token, ...]  # the "of"/"from" tail: "[representatives] of the Syrian opposition"
    named: bool  # a person's name stands in apposition: the person is the participant

    @property
    def tokens(self) -> tuple[Token, ...]:
        """Return the phrase's tokens, the noun included."""
        return (*self.before, self.noun, *self.after)


def _modifiers(doc: Doc, noun: Token) -> tuple[Token, ...]:
    """Return the modifier tokens right before a noun, within its sentence."""
    out: list[Token] = []
    index = noun.i - 1
    while index >= noun.sent.start and len(out) < _MAX_BACK:
        token = doc[index]
        if not (side_of_token(token) or token.pos_ in _MODIFIER_POS
                or token.lower_ in ("'s", "’s", "-")):
            break
        if token.ent_type_ == "PERSON":
            break
        out.insert(0, token)
        index -= 1
    return tuple(out)


def _tail(doc: Doc, noun: Token) -> tuple[tuple[Token, ...], bool]:
    """Return the "of"/"from" tail after a noun, and whether a person's name ends it."""
    index = noun.i + 1
    # "secretary-general of ...": the title goes on past the hyphen.
    if index + 1 < noun.sent.end and doc[index].text == "-" and doc[index + 1].lower_ == "general":
        index += 2
    if index >= noun.sent.end or doc[index].lower_ not in ("of", "from"):
        return (), index < noun.sent.end and doc[index].ent_type_ == "PERSON"
    out: list[Token] = []
    while index < noun.sent.end and len(out) < _MAX_FORWARD:
        token = doc[index]
        if token.ent_type_ == "PERSON" and not token.ent_id_.startswith("institution|"):
            return tuple(out), True
        if (token.is_punct and token.text not in ("'s", "’s", "-")) or token.pos_ in (
                "VERB", "AUX") or (token.pos_ == "ADP" and token.lower_ not in ("of", "from")):
            break
        out.append(token)
        index += 1
    return tuple(out), False


def _after_a_name(doc: Doc, first: Token) -> bool:
    """Return True when the phrase is an apposition to a name ("Qadri Jamil, a leader of")."""
    index = first.i - 1
    if index >= 0 and doc[index].lower_ in ("a", "an", "the"):
        index -= 1
    return index >= 1 and doc[index].text == "," and doc[index - 1].ent_type_ == "PERSON"


def _phrase_at(doc: Doc, noun: Token) -> _Phrase:
    """Return the description around a group or head noun."""
    before = _modifiers(doc, noun)
    after, named = _tail(doc, noun)
    first = before[0] if before else noun
    return _Phrase(noun, before, after, named or _after_a_name(doc, first))


def _sides(phrase: _Phrase) -> list[str]:
    """Return the sides the phrase names: the nearest modifier's, else every side of its tail
    ("officials from Russia and Syria"); a plural noun takes every side of its modifiers."""
    def sides_in(tokens: tuple[Token, ...]) -> list[str]:
        found = [s for t in tokens if (s := side_of_token(t))]
        return list(dict.fromkeys(found))

    before = sides_in(phrase.before)
    if before:
        plural = phrase.noun.lower_ in _PLURAL_GROUP_NOUNS or phrase.noun.lower_ == "delegations"
        return before if plural else before[-1:]
    return sides_in(phrase.after)


def _body(
    phrase: _Phrase, watchlist: Watchlist, when: date | None
) -> tuple[str, Institution] | None:
    """Return (side, body) of the listed body outside the state the phrase names, if any."""
    return listed_body(phrase.tokens, watchlist, when) or _cut_body(phrase, watchlist, when)


# The fewest words of a body's name a text cut off mid-name must still give.
_MIN_CUT_WORDS = 2
_NAME_FILLERS = frozenset(["of", "from", "the", "for", "and", "'s", "’s"])


def _name_words(words: Iterable[str]) -> list[str]:
    """Return the words of a name without its fillers ("of", "the", "'s"...)."""
    return [w for w in words if w not in _NAME_FILLERS]


def _cut_body(
    phrase: _Phrase, watchlist: Watchlist, when: date | None
) -> tuple[str, Institution] | None:
    """Return (side, body) of the body outside the state whose name a post cut off at a length limit ends
    with ("... secretary-general of the syrian national youth" of the Syrian National Youth
    Party), when exactly one listed name starts that way; None otherwise.

    Feed items and ministry posts are cut at a fixed length; a name cut there is only a
    start, which the ruler cannot match whole.
    """
    if not phrase.after:
        return None
    doc = phrase.noun.doc
    # The words from the "of" to the cut: nothing but the period the pipeline closes a text
    # with may follow them (a link after them means the title ended there, uncut).
    end = phrase.after[0].i
    while end < len(doc) and not (doc[end].is_punct and doc[end].text not in ("'s", "’s")):
        end += 1
    if any(not (t.is_punct or t.is_space) for t in doc[end:]) or (
            end - phrase.after[0].i > _MAX_FORWARD + 2):
        return None  # the phrase does not run to the end of the text
    words = _name_words(t.lower_ for t in doc[phrase.after[0].i:end])
    found: dict[str, Institution] = {}
    for key, body in watchlist.bodies.items():
        if body.kind_at(when) == "state":
            continue
        for name in (body.name, *body.aliases):
            full = _name_words(_fold(name).split())
            for k in range(min(len(words), len(full) - 1), _MIN_CUT_WORDS - 1, -1):
                tail = words[-k:]
                # Two whole words ("syrian opposition") are a phrase of their own; a cut
                # shows in a third word or in a word cut short.
                cut_short = full[k - 1] != tail[-1]
                if (tail[:-1] == full[:k - 1] and full[k - 1].startswith(tail[-1])
                        and (k > _MIN_CUT_WORDS or cut_short)):
                    found[key] = body
                    break
    if len(found) != 1:
        return None
    [(key, body)] = found.items()
    return key.split(":", 1)[0], body


def _group_mention(
    phrase: _Phrase, side: str, kind: str, sentence: int, watchlist: Watchlist,
    body: Institution | None,
) -> Mention:
    """Return the group mention of one side for a phrase."""
    noun = phrase.noun
    if kind == "state":
        # A side's officials are one group whatever the noun: "the Russian delegation" and
        # "Russian officials" in one article are the same participant.
        return Mention(
            sentence, noun.idx, noun.idx + len(noun), noun.text, "NORP", f"{side}:group",
            f"{watchlist.side(side).names[0]} {noun.lower_}", side, "group", "delegation",
            "official", True, "state",
        )
    head = noun.lower_ in _HEAD_NOUNS
    title = noun.lower_
    doc = noun.doc
    if noun.i + 2 < len(doc) and doc[noun.i + 1].text == "-" and doc[noun.i + 2].lower_ == "general":
        title = f"{title}-general"  # "secretary-general" is one title
    demonyms = watchlist.side(side).demonyms
    owner = body.name if body else f"{demonyms[0] if demonyms else side} {KIND_LABELS[kind]}"
    name = f"{title} of the {owner}" if head else f"{owner} {title}"
    description = " ".join(t.text for t in phrase.tokens if t.lower_ not in ("a", "an"))
    return Mention(
        sentence, noun.idx, noun.idx + len(noun), noun.text, "NORP",
        f"{side}:group:{slug(body.name if body else kind)}", name, side, "group", description,
        "leader" if head else "member", True, kind,
    )


def resolve_groups(
    doc: Doc, mentions: list[Mention], watchlist: Watchlist, when: date | None
) -> list[Mention]:
    """Return the group mentions of the document, one per side a group phrase names."""
    if not _GROUP_WORD_RE.search(doc.text):
        return []  # most texts name no group: skip the walk over every token
    index = {sent.start: i for i, sent in enumerate(doc.sents)}
    taken = {m.start for m in mentions if m.kind in ("person", "office")}
    out: list[Mention] = []
    for token in doc:
        word = token.lower_
        if word not in _GROUP_NOUNS and word not in _HEAD_NOUNS or token.idx in taken:
            continue
        phrase = _phrase_at(doc, token)
        body_side, body = _body(phrase, watchlist, when) or (None, None)
        kind = (body.kind_at(when) if body else None) or described_kind(
            list(phrase.tokens), watchlist, when) or "state"
        if word in _HEAD_NOUNS and (kind == "state" or phrase.named):
            continue  # an office of the state is resolved to its holder; a named head is himself
        if word == "leadership" and kind == "state":
            continue  # "the Syrian leadership" is the president, whom the text names or not
        head = _head_of_body(phrase, body, body_side, watchlist, when)
        if head is not None:
            out.append(replace(head, sentence=index[token.sent.start]))
            continue
        for side in _sides(phrase) or ([body_side] if body_side else []):
            out.append(_group_mention(phrase, side, kind, index[token.sent.start], watchlist,
                                      body))
    return out


# Words that make a head noun someone other than the head: "deputy chairman", "co-founder".
_NOT_THE_HEAD = frozenset(["deputy", "vice", "former", "ex", "acting", "co", "assistant"])


def _head_of_body(
    phrase: _Phrase, body: Institution | None, side: str | None, watchlist: Watchlist,
    when: date | None,
) -> Mention | None:
    """Return the mention of the listed person who heads the named body at the date, for an
    unnamed head ("the leader of the Syria's Tomorrow Movement"), else None."""
    if (body is None or side is None or phrase.noun.lower_ not in _HEAD_NOUNS
            or any(t.lower_ in _NOT_THE_HEAD for t in phrase.before)):
        return None
    person = watchlist.body_head(side, body, when)
    role = person.role_at(when) if person else None
    if person is None or role is None:
        return None
    noun = phrase.noun
    return Mention(0, noun.idx, noun.idx + len(noun), noun.text, "PERSON", person.id,
                   person.name, side, "office", role.office, role.level, True, role.kind)


def resolve_group_anaphora(
    doc: Doc, mentions: list[Mention], watchlist: Watchlist
) -> list[Mention]:
    """Return group mentions for "the delegation" (the last group named before it) and "his
    delegation" (the group of the last person named before it)."""
    out: list[Mention] = []
    if not _ANAPHORA_RE.search(doc.text):
        return out
    index = {sent.start: i for i, sent in enumerate(doc.sents)}
    taken = {m.start for m in mentions}
    for token in doc:
        if token.lower_ not in _ANAPHORA_NOUNS or token.idx in taken or token.i == 0:
            continue
        determiner = doc[token.i - 1].lower_
        if determiner in ("his", "her"):
            kinds = ("person", "office")
        elif determiner in ("the", "its", "their"):
            kinds = ("group",)
        else:
            continue
        before = [m for m in (*mentions, *out) if m.end <= token.idx and m.side
                  and m.kind in kinds]
        if not before:
            continue
        antecedent = before[-1]
        side = antecedent.side
        assert side is not None
        sentence = index[token.sent.start]
        span = {"sentence": sentence, "start": token.idx, "end": token.idx + len(token),
                "text": token.text}
        if antecedent.kind == "group":
            out.append(replace(antecedent, **span))
            continue
        kind = antecedent.actor_kind or "state"
        out.append(Mention(
            sentence, token.idx, token.idx + len(token), token.text, "NORP",
            f"{side}:group" if kind == "state" else f"{side}:group:{kind}",
            f"{watchlist.side(side).names[0]} {token.lower_}", side, "group", "delegation",
            "official" if kind == "state" else "member", True, kind,
        ))
    return out
