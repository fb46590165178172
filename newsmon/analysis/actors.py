"""Turn a parsed document into mentions resolved to watchlist actors at a date."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import date

from spacy.tokens import Doc, Span, Token

from newsmon.analysis.vocab import (
    LEADER_WORDS,
    LEVEL_BY_WORD,
    NONSTATE_TITLE_WORDS,
    OFFICE_SYNONYMS,
    ROLE_WORDS,
    canonical_office,
    kind_of_words,
)
from newsmon.analysis.watchlist import LEVEL_RANK, Institution, Person, Watchlist, _fold
from newsmon.models import Mention

_ENTITY_LABELS = ("PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "EVENT")
_OFFICE_WORDS = frozenset(
    [word for variants in OFFICE_SYNONYMS.values() for v in variants for word in v.split()]
    + ["ministers"]  # "Syria's foreign and defence ministers"
)
_PLURAL_OFFICE = re.compile(r"\b(\w+)\s*(?:,|and)\s+(\w+) ministers\b", re.IGNORECASE)
# Words that qualify an office without changing it: "Syria's interim leader", "the new
# Syrian leadership", "the transitional government's defence minister".
_TRANSIENT_OFFICE_WORDS = ("interim", "transitional", "new", "caretaker")


def pick_person(candidates: list[Person], when: date | None) -> Person | None:
    """Return the candidate holding the highest role at the date, else the most recent holder."""
    if not candidates:
        return None
    holding = [(p, p.role_at(when)) for p in candidates]
    active = [(p, r) for p, r in holding if r is not None]
    if active:
        return min(active, key=lambda pr: LEVEL_RANK[pr[1].level])[0]
    if when is None:
        return candidates[0]

    def last_end(person: Person) -> date:
        ends = [r.end for r in person.roles if r.end and r.end <= when]
        return max(ends, default=date.min)

    return max(candidates, key=last_end)


def _person_mention(
    ent: Span, person: Person, side: str, when: date | None, sentence: int, inferred: bool = False
) -> Mention:
    """Return a mention of a watchlist person with the role held at the date."""
    role = person.role_at(when)
    return Mention(
        sentence, ent.start_char, ent.end_char, ent.text, "PERSON", person.id, person.name,
        side, "person", role.office if role else None, role.level if role else None, inferred,
        role.kind if role else None,
    )


def _person_side(token: Token) -> str | None:
    """Return the side of a watchlist person the ruler tagged on this token, if any."""
    if token.ent_id_.startswith("person|"):
        return token.ent_id_.split("|", 2)[1]
    return None


def side_of_token(token: Token) -> str | None:
    """Return the side a ruler-tagged token belongs to (country, demonym, capital...)."""
    if token.ent_id_ and "|" in token.ent_id_:
        kind, side, _ = token.ent_id_.split("|", 2)
        if kind in ("country", "demonym", "capital", "institution"):
            return side
    return None


def _title_before(ent: Span, max_tokens: int = 10) -> tuple[str | None, list[Token]]:
    """Return the side named in the title phrase just before a name, and the phrase tokens."""
    tokens: list[Token] = []
    index = ent.start - 1
    sent_start = ent.sent.start
    while index >= sent_start and len(tokens) < max_tokens:
        token = ent.doc[index]
        if token.is_punct and token.text not in ("'s", "'", "’s", "-"):
            break
        # Office words end no title even when mis-tagged ("... and expatriates" as a verb).
        if (token.pos_ in ("VERB", "AUX", "ADP") and token.lower_ not in ("of", "for")
                and token.lower_ not in _OFFICE_WORDS):
            break
        tokens.insert(0, token)
        index -= 1
    return _affiliation(tokens), tokens


_LEGAL_FORMULA = frozenset(["banned", "outlawed", "prohibited", "illegal", "terrorist"])
_INTERNATIONAL_BODIES = frozenset(["un", "u.n.", "eu", "nato", "opcw", "icrc", "osce", "who"])


def _after_legal_formula(ent: Span) -> bool:
    """Return True for "(banned in Russia)"-style formulas Russian media attach to group names."""
    doc = ent.doc
    words = [doc[i].lower_ for i in range(max(ent.start - 2, 0), ent.start)]
    # The formula word comes right before "in": "(banned in Russia)", "terrorist in Russia";
    # "a terrorist attack in Syria" is news about Syria, not a formula.
    return len(words) == 2 and words[1] == "in" and words[0] in _LEGAL_FORMULA


_DATELINE_FOLLOWERS = frozenset(["(", ",", "-", "\u2013", "\u2014", ":"])


def _is_dateline(ent: Span) -> bool:
    """Return True for a dateline: an upper-case place opening a sentence, then "(", "," or a
    dash ("MOSCOW (Sputnik) -", "DAMASCUS, Jan 3 (Reuters) -")."""
    doc = ent.doc
    return (
        ent.text.isupper() and len(ent.text) > 3 and ent.start == ent.sent.start
        and ent.end < len(doc) and doc[ent.end].text in _DATELINE_FOLLOWERS
    )


def _third_party_title(tokens: list[Token]) -> bool:
    """Return True when a title names another country or an international body ("Iraqi FM",
    "UN envoy"); a ministry without a country ("foreign ministry spokesperson") is not one."""
    return _affiliation(tokens) is None and any(
        (t.ent_type_ in ("NORP", "GPE") and not t.ent_id_) or t.lower_ in _INTERNATIONAL_BODIES
        for t in tokens
    )


def _affiliation(tokens: list[Token]) -> str | None:
    """Return the side a title phrase says the person belongs to, if any.

    "Syria's ambassador to Russia" belongs to Syria (the side after "to" is the posting);
    "UN special envoy for Syria" and "Turkish Foreign Minister" belong to neither side.
    """
    side: str | None = None
    third_party = False
    for position, token in enumerate(tokens):
        previous = tokens[position - 1].lower_ if position else ""
        if previous in ("for", "to", "on", "in", "with"):
            continue
        token_side = side_of_token(token)
        if token_side and side is None:
            side = token_side
        elif token.ent_type_ in ("NORP", "GPE", "ORG") and not token.ent_id_:
            third_party = third_party or side is None
    return None if third_party else side


def _title_after(ent: Span, max_tokens: int = 8) -> tuple[str | None, list[Token]]:
    """Return the side named in an appositive after a name (", Syria's defence minister,")."""
    doc = ent.doc
    if ent.end >= len(doc) or doc[ent.end].text != ",":
        return None, []
    if ent.end + 1 < len(doc) and doc[ent.end + 1].lower_ in ("and", "or"):
        # "X, and Russian Ambassador Y": the next item of a list, not X's title.
        return None, []
    tokens: list[Token] = []
    index = ent.end + 1
    while index < ent.sent.end and len(tokens) < max_tokens:
        token = doc[index]
        if token.is_punct and token.text not in ("'s", "-"):
            break
        if token.pos_ in ("VERB", "AUX"):
            break
        if token.ent_type_ == "PERSON":
            # "X, Russian Deputy Foreign Minister Y, ...": the title of the next name in a list.
            return None, []
        tokens.append(token)
        index += 1
    return _affiliation(tokens), tokens


def _role_from_tokens(tokens: list[Token]) -> tuple[str | None, str | None]:
    """Return (office phrase, level) if the tokens hold an office title, else (None, None)."""
    words = [t.lower_ for t in tokens]
    if not any(w in ROLE_WORDS for w in words):
        return None, None
    phrase = " ".join(t.text for t in tokens if side_of_token(t) is None and not t.is_punct)
    phrase = re.sub(r"^(the|his|her|its|their)\s+", "", phrase.strip(), flags=re.IGNORECASE)
    # "minister of foreign affairs of [Syria]": the side was cut out, leaving a dangling "of".
    phrase = re.sub(r"(\s+(of|the|for|to|and))+$", "", phrase, flags=re.IGNORECASE)
    level = next((LEVEL_BY_WORD[w] for w in words if w in LEVEL_BY_WORD), "official")
    if "deputy" in words:
        level = "deputy_minister"
    return canonical_office(phrase) if phrase else None, level


def listed_body(
    tokens: Iterable[Token], watchlist: Watchlist, when: date | None
) -> tuple[str, Institution] | None:
    """Return (side, body) of the first listed body outside the state the tokens name."""
    for token in tokens:
        if token.ent_id_.startswith("institution|"):
            key = token.ent_id_.split("|", 2)[2]
            body = watchlist.bodies.get(key)
            if body is not None and body.kind_at(when) != "state":
                return key.split(":", 1)[0], body
    return None


def described_kind(tokens: list[Token], watchlist: Watchlist, when: date | None) -> str | None:
    """Return the actor kind a title or description names: a listed body's kind at the date
    ("head of the High Negotiations Committee"), else its kind words, else None."""
    found = listed_body(tokens, watchlist, when)
    return found[1].kind_at(when) if found else kind_of_words([t.lower_ for t in tokens])


def _nonstate_title(tokens: list[Token]) -> tuple[str | None, str | None]:
    """Return (description, level) of a title outside the state, (None, None) without one."""
    words = [t.lower_ for t in tokens]
    if not any(w in NONSTATE_TITLE_WORDS or w.rstrip("s") in NONSTATE_TITLE_WORDS
               for w in words):
        return None, None
    phrase = " ".join(t.text for t in tokens if not t.is_punct or t.text in ("'s", "-"))
    phrase = re.sub(r"^(the|a|an|his|her|its|their)\s+", "", phrase.strip(), flags=re.IGNORECASE)
    level = "leader" if any(w in LEADER_WORDS for w in words) else "member"
    return phrase, level


def _names_agree(name: str, person: Person) -> bool:
    """Return True when a name is the person's (same surname, or a cut-off start of a name)."""
    folded = _fold(name)
    for alias in (person.name, *person.aliases):
        full = _fold(alias)
        if full.split()[-1] == folded.split()[-1] or (len(folded) >= 6 and full.startswith(folded)):
            return True
    return False


def slug(text: str) -> str:
    """Return a kebab-case id fragment for a name."""
    return re.sub(r"[^a-z0-9]+", "-", _fold(text)).strip("-")


class _Resolver:
    """Resolves the entities of one document, remembering full names for short-form coreference."""

    def __init__(self, doc: Doc, watchlist: Watchlist, when: date | None) -> None:
        self.doc = doc
        self.watchlist = watchlist
        self.when = when
        self.inferred: dict[str, Mention] = {}  # last name token -> inferred mention
        self.sentence_index = {sent.start: i for i, sent in enumerate(doc.sents)}

    def sentence_of(self, span: Span) -> int:
        """Return the index of the span's sentence."""
        return self.sentence_index.get(span.sent.start, 0)

    def resolve(self, ent: Span) -> Mention | None:
        """Return the mention for one entity span, resolved where the watchlist allows."""
        sentence = self.sentence_of(ent)
        if ent.ent_id_ and "|" in ent.ent_id_:
            kind, side, key = ent.ent_id_.split("|", 2)
            if kind == "person":
                if _third_party_title(_title_before(ent)[1]):
                    # "Iraqi Foreign Minister Ibrahim al-Jaafari" is not Syria's Bashar Jaafari.
                    return Mention(sentence, ent.start_char, ent.end_char, ent.text, "PERSON",
                                   name=ent.text)
                found = self.watchlist.persons_named(key) or self.watchlist.persons_named(
                    key.removesuffix("s")
                )
                person = pick_person([p for s, p in found if s == side], self.when)
                if person:
                    return _person_mention(ent, person, side, self.when, sentence)
                return None
            if kind == "country" and _after_legal_formula(ent):
                kind = "boilerplate"  # "Daesh (banned in Russia)": a legal formula of the press
            elif kind in ("capital", "country") and _is_dateline(ent):
                kind = "dateline"  # "MOSCOW (Sputnik) -": where the story was filed
            body = self.watchlist.bodies.get(key) if kind == "institution" else None
            return Mention(
                sentence, ent.start_char, ent.end_char, ent.text, ent.label_, key, ent.text,
                side, kind, actor_kind=body.kind_at(self.when) if body else None,
            )
        if ent.label_ != "PERSON":
            return Mention(sentence, ent.start_char, ent.end_char, ent.text, ent.label_)
        return self._unknown_person(ent, sentence)

    def _unknown_person(self, ent: Span, sentence: int) -> Mention:
        """Return a PERSON mention not in the watchlist, with affiliation from its title."""
        name = ent.text.strip()
        last = _fold(name.split()[-1]) if name.split() else ""
        if len(name.split()) == 1 and last in self.inferred:
            earlier = self.inferred[last]
            return Mention(
                sentence, ent.start_char, ent.end_char, ent.text, "PERSON", earlier.actor_id,
                earlier.name, earlier.side, "person", earlier.role, earlier.level, True,
            )
        side, tokens = _title_before(ent)
        if side is None:
            side, tokens = _title_after(ent)
        actor_kind = described_kind(tokens, self.watchlist, self.when) if side else None
        if actor_kind not in (None, "state"):
            # "Qadri Jamil, a leader of the Syrian opposition", "Syrian Kurdish politician X".
            office, level = _nonstate_title(tokens)
        else:
            actor_kind = "state"
            office, level = _role_from_tokens(tokens) if side else (None, None)
        if side and office:
            holder = self.watchlist.office_holder(side, office, self.when)
            if holder is not None and _names_agree(name, holder):
                return _person_mention(ent, holder, side, self.when, sentence)
            mention = Mention(
                sentence, ent.start_char, ent.end_char, ent.text, "PERSON",
                f"inferred:{side}:{slug(name)}", name, side, "person", office, level, True,
                actor_kind,
            )
            self.inferred[last] = mention
            return mention
        return Mention(sentence, ent.start_char, ent.end_char, ent.text, "PERSON", name=name)


def _country_of_token(token: Token) -> str | None:
    """Return the side when the token is part of a country name (not a demonym or capital)."""
    if token.ent_id_.startswith("country|"):
        return token.ent_id_.split("|", 2)[1]
    return None


_STATE_NOUNS = frozenset(
    ["arab", "republic", "federation", "government", "authorities", "cabinet", "administration"]
)


def _side_after_of(tokens: list[Token], j: int) -> tuple[str, int]:
    """Return (side, last index) of an "of (the) <country>" tail after an office ending at j.

    Only a country name ends the title: "leader of the Syrian opposition" and "leader of
    Syria's Popular Front" name something other than the state.
    """
    k = j + 1
    # "of (the) Syrian Arab Republic"; "his counterparts from Syria and Iran".
    if k < len(tokens) and tokens[k].lower_ in ("of", "from"):
        k += 1
        if k < len(tokens) and tokens[k].lower_ == "the":
            k += 1
        side = _country_of_token(tokens[k]) if k < len(tokens) else None
        if side is None and k < len(tokens) and tokens[k].ent_id_.startswith("demonym|"):
            # "of the Syrian government", or a post cut off at "of the syrian a...".
            after = tokens[k + 1] if k + 1 < len(tokens) else None
            if after is None or after.lower_ in _STATE_NOUNS or (
                    after.i == after.doc[-1].i and len(after.text) <= 3):
                return tokens[k].ent_id_.split("|", 2)[1], k
        if side:
            end = k
            while end + 1 < len(tokens) and _country_of_token(tokens[end + 1]) == side:
                end += 1
            after = tokens[end + 1] if end + 1 < len(tokens) else None
            if after is not None and after.lower_ in ("'s", "’s", "s"):
                return "", j
            return side, end
    return "", j


def _office_phrases(sent: Span) -> list[tuple[int, int, str, str]]:
    """Return (start, end, side-or-'', office) for office titles in a sentence not followed by a
    name: "his Russian counterpart", "Syria's foreign and defence ministers", "minister of
    foreign affairs of the Syrian Arab Republic"."""
    found: list[tuple[int, int, str, str]] = []
    tokens = list(sent)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.lower_ not in _OFFICE_WORDS and token.lower_ not in (
                "counterpart", "counterparts", "ministers"):
            i += 1
            continue
        j = i
        inner_side = ""
        while j + 1 < len(tokens) and (
            tokens[j + 1].lower_ in _OFFICE_WORDS or tokens[j + 1].lower_ in ("of", "and")
            # "foreign, defence ministers"
            or (tokens[j + 1].lower_ == "," and j + 2 < len(tokens)
                and tokens[j + 2].lower_ in _OFFICE_WORDS and tokens[j].lower_ in _OFFICE_WORDS)
            # "top Syrian diplomat": a side inside the title names whose office it is.
            or (side_of_token(tokens[j + 1]) and j + 2 < len(tokens)
                and tokens[j + 2].lower_ in _OFFICE_WORDS)
        ):
            j += 1
            inner_side = inner_side or (side_of_token(tokens[j]) or "")
        while j > i and tokens[j].lower_ in ("of", "and"):
            j -= 1  # "minister of" before "the Syrian Arab Republic": the office ends earlier
        office_end = j
        tail_side, j = _side_after_of(tokens, j)
        # Walk back over modifiers: "Syria's foreign", "his Russian", "the Syrian".
        k = i
        side = ""
        while k - 1 >= 0 and (
            tokens[k - 1].lower_ in _OFFICE_WORDS
            or tokens[k - 1].lower_ in ("'s", "’s", "and", "deputy", *_TRANSIENT_OFFICE_WORDS)
            or side_of_token(tokens[k - 1])
        ):
            k -= 1
            side = side or (side_of_token(tokens[k]) or "")
        possessive = tokens[k - 1].lower_ if k - 1 >= 0 else ""
        followed_by_name = j + 1 < len(tokens) and tokens[j + 1].ent_type_ == "PERSON"
        # "Lavrov, the Russian foreign minister": an apposition names the holder. A person of
        # the other side before the comma is a coordination ("Putin, top Syrian diplomat").
        office_side = side or inner_side or tail_side
        preceded_by_name = (
            possessive == "," and k - 2 >= 0 and tokens[k - 2].ent_type_ == "PERSON"
            and not (office_side and _person_side(tokens[k - 2]) not in (None, office_side))
        )
        if not followed_by_name and not preceded_by_name:
            office_start = next(
                (n for n in range(k, office_end + 1) if not side_of_token(tokens[n])
                 and tokens[n].lower_ not in ("'s", "’s")), i,
            )
            phrase = " ".join(t.text for t in tokens[office_start : office_end + 1])
            phrase = " ".join(t.text for t in tokens[office_start : office_end + 1]
                              if not side_of_token(t) and t.lower_ not in _TRANSIENT_OFFICE_WORDS)
            found.append((tokens[k].i, tokens[j].i + 1,
                          side or inner_side or tail_side or possessive, phrase))
        i = j + 1
    return found


def resolve_offices(
    doc: Doc, mentions: list[Mention], watchlist: Watchlist, when: date | None
) -> list[Mention]:
    """Return mentions for untitled office phrases resolved to the office holders at the date."""
    out: list[Mention] = []
    index = {sent.start: i for i, sent in enumerate(doc.sents)}
    named_sides = {m.side for m in mentions if m.side}
    for sent in doc.sents:
        sentence = index[sent.start]
        people = [m for m in mentions if m.sentence == sentence and m.kind == "person" and m.side]
        for start, end, side_hint, phrase in _office_phrases(sent):
            span = doc[start:end]
            side = side_hint if side_hint in (s.key for s in watchlist.sides) else ""
            offices: list[str]
            if "counterpart" in phrase.lower():
                # "his Russian counterpart": the other side's holder of the subject's office.
                # The holder named before the phrase, else after it ("As he hosted his Syrian
                # counterpart, Sergey Lavrov said").
                subject = next((m for m in reversed(people) if m.end <= span.start_char
                                and m.role), None) or next(
                    (m for m in people if m.start >= span.end_char and m.role), None)
                if subject is None or subject.side is None:
                    continue
                side = side or watchlist.other(subject.side)
                offices = [canonical_office(subject.role or "")]
            else:
                if side_hint in ("his", "her", "its") and not side:
                    owner = next((m for m in reversed(people) if m.end <= span.start_char), None)
                    side = owner.side or "" if owner else ""
                plural = _PLURAL_OFFICE.search(phrase)
                if plural:
                    offices = [canonical_office(f"{plural.group(1)} minister"),
                               canonical_office(f"{plural.group(2)} minister")]
                else:
                    offices = [canonical_office(phrase)]
            generic = "leader" in phrase.lower() or "official" in phrase.lower()
            if (not side and not generic and start > 0 and people
                    and doc[start - 1].lower_ in ("with", "and")):
                # "Lavrov met with the minister of foreign affairs [of ...]" in a text that names
                # the other side: the counterpart is that side's office holder.
                own = {m.side for m in people}
                others = [k for k in named_sides if k not in own]
                side = others[0] if len(own) == 1 and len(others) == 1 else ""
            if not side:
                continue
            for office in offices:
                holder = watchlist.office_holder(side, office, when)
                if holder is None:
                    continue
                role = holder.role_at(when)
                out.append(Mention(
                    sentence, span.start_char, span.end_char, span.text, "PERSON", holder.id,
                    holder.name, side, "office", role.office if role else office,
                    role.level if role else None, True, role.kind if role else None,
                ))
    return out


_URL = re.compile(r"https?://[^\s<>\"']+")


def resolve_markers(doc: Doc, watchlist: Watchlist) -> list[Mention]:
    """Return side mentions that are not words: flag emoji and links to official domains.

    Posts of a foreign ministry mark countries with flags ("🇷🇺 🇸🇾") and link their own site;
    a link to a side's official domain means that side is speaking.
    """
    starts = [sent.start_char for sent in doc.sents]

    def sentence_at(offset: int) -> int:
        return max((i for i, start in enumerate(starts) if start <= offset), default=0)

    out: list[Mention] = []
    for flag, side in watchlist.flags.items():
        for match in re.finditer(re.escape(flag), doc.text):
            out.append(Mention(sentence_at(match.start()), match.start(), match.end(), flag,
                               "GPE", side, flag, side, "country"))
    for match in _URL.finditer(doc.text):
        publisher = watchlist.publisher_side(match.group(0))
        if publisher:
            out.append(Mention(sentence_at(match.start()), match.start(), match.end(),
                               match.group(0), "ORG", f"{publisher}:publisher", "official source",
                               publisher, "institution"))
    return out


def _name_tokens(text: str) -> list[str]:
    """Return the folded words of a name, dots kept on initials ("Vladimir V." -> 2 words)."""
    return [w for w in re.split(r"[\s\-]+", _fold(text)) if w and w not in ("al", "el")]


def _same_person_named(name: str, alias: str) -> bool:
    """Return True when a name is a short form of the alias: its surname, or its first names
    with initials ("Vladimir V." of "Vladimir Vladimirovich Putin")."""
    words, full = _name_tokens(name), _name_tokens(alias)
    if not words or len(words) >= len(full) + (0 if words[-1] == full[-1] else 1):
        return False
    if words == [full[-1]]:
        return True
    return len(words) >= 2 and all(
        w == f or (w.endswith(".") and len(w) == 2 and f.startswith(w[0]))
        for w, f in zip(words, full, strict=False)
    )


def corefer_named_persons(mentions: list[Mention], watchlist: Watchlist) -> list[Mention]:
    """Return mentions where a short form of a watchlist person named in full elsewhere in the
    article ("Borisov", "Vladimir V.", a headline's "Borisov Calls") is that person.

    Surnames alone are no aliases (several officials share them), but within one article the
    full name says whom the short one means. Only one person per short form: two Ivanovs in
    one article leave "Ivanov" unresolved.
    """
    named: dict[str, Mention] = {m.actor_id: m for m in mentions
                                 if m.kind == "person" and m.actor_id and not m.inferred}
    people = watchlist.persons  # person id -> (side, person)
    out = []
    for m in mentions:
        if m.label == "PERSON" and (m.actor_id is None or m.actor_id.startswith("inferred:")):
            # A headline's title case glues words to a name: "Borisov Calls Meeting".
            words = m.text.split()
            forms = {m.text, *(" ".join(words[:n]) for n in range(1, len(words)))}
            matches = {
                actor_id for actor_id, full in named.items() if actor_id in people
                and any(_same_person_named(form, alias) for form in forms
                        for alias in (people[actor_id][1].name, *people[actor_id][1].aliases))
                and (m.side is None or m.side == full.side)
            }
            if len(matches) == 1:
                full = named[matches.pop()]
                m = replace(full, sentence=m.sentence, start=m.start, end=m.end, text=m.text)
        out.append(m)
    return out


def resolve_entities(doc: Doc, watchlist: Watchlist, when: date | None) -> list[Mention]:
    """Return the mentions of the document's entity spans, resolved to actors at the date."""
    resolver = _Resolver(doc, watchlist, when)
    return [
        mention
        for ent in doc.ents
        if ent.label_ in _ENTITY_LABELS and (mention := resolver.resolve(ent)) is not None
    ]
