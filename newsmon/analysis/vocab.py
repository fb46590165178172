"""English vocabulary the NLP stages share: offices, role words, relation and event triggers.

This is knowledge of the language, not of one topic: watchlists carry everything topical.
"""

from __future__ import annotations

import re

# Canonical office -> the ways news English writes it (lower case, hyphens as spaces).
OFFICE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "president": ("president", "head of state", "leader"),
    "prime minister": ("prime minister", "premier", "pm", "head of government"),
    "foreign minister": (
        "foreign minister", "minister of foreign affairs", "foreign affairs minister",
        "fm", "top diplomat", "minister of foreign affairs and expatriates",
    ),
    "defence minister": (
        "defence minister", "defense minister", "minister of defence", "minister of defense",
        "defence chief", "defense chief",
    ),
    "deputy foreign minister": (
        "deputy foreign minister", "deputy minister of foreign affairs", "deputy fm",
    ),
    "deputy defence minister": (
        "deputy defence minister", "deputy defense minister", "deputy minister of defence",
        "deputy minister of defense",
    ),
    "ambassador": ("ambassador",),
    "special envoy": ("special envoy", "envoy", "special representative", "presidential envoy"),
}

# Words that make a noun phrase an office title (used to infer unknown officials' roles).
ROLE_WORDS = frozenset(
    ["president", "minister", "premier", "ambassador", "envoy", "diplomat", "spokesman", "spokeswoman", "spokesperson", "general", "commander", "chief", "adviser", "advisor", "aide", "official", "officials", "representative", "delegate", "delegation", "secretary", "deputy", "head", "chairman", "speaker", "mufti", "governor", "fm", "counterpart", "counterparts", "ministers", "leader", "leaders"]
)

LEVEL_BY_WORD = {
    "president": "head_of_state",
    "premier": "head_of_government",
    "prime": "head_of_government",
    "minister": "minister",
    "fm": "minister",
    "deputy": "deputy_minister",
    "envoy": "envoy",
    "representative": "envoy",
    "ambassador": "ambassador",
    "general": "military",
    "commander": "military",
    "chief": "official",
}

# Words of a title or of a group's description that say what kind of actor it is (issue 16).
# Checked in this order, so the first kind with a word wins: a "former" minister is former
# whatever he was, "opposition party" is opposition, "Kurdish fighters" an armed group.
KIND_WORDS: tuple[tuple[str, frozenset[str]], ...] = (
    ("former", frozenset(["former", "ex", "exiled"])),
    ("parliament", frozenset(
        ["parliament", "parliamentary", "parliamentarian", "parliamentarians", "duma",
         "lawmaker", "lawmakers", "legislator", "legislators", "mp", "mps", "senator",
         "senators"])),
    ("armed_group", frozenset(
        ["militia", "militias", "rebel", "rebels", "fighters", "brigade", "brigades", "faction",
         "factions", "insurgent", "insurgents", "armed", "militant", "militants"])),
    ("opposition", frozenset(
        ["opposition", "dissident", "dissidents", "platform", "coalition", "kurdish",
         "politician", "politicians", "movement", "revolutionary"])),
    ("party", frozenset(["party", "parties", "ba'ath", "baath"])),
    ("civic", frozenset(
        ["mufti", "patriarch", "sheikh", "cleric", "clerics", "bishop", "archbishop", "tribal",
         "tribe", "tribes", "elders", "civil", "religious", "spiritual", "community", "public",
         "business", "businessman", "businessmen", "society", "activist", "activists",
         "druze", "alawite"])),
)
# Title words that name a person by a kind outside the state ("Kurdish politician X"): with a
# side and a kind word they make an inferred actor, as offices do for officials.
NONSTATE_TITLE_WORDS = frozenset(
    ["politician", "activist", "figure", "member", "co-chair", "lawmaker", "mp", "senator",
     "cleric", "sheikh", "mufti", "patriarch", "bishop", "dissident", "founder", "coordinator",
     "chairwoman", "commander", "leader", "head", "chairman", "secretary", "representative"]
)
# Title words of someone who heads a body: the participant's level is "leader", else "member".
LEADER_WORDS = frozenset(
    ["leader", "head", "chairman", "chairwoman", "chair", "co-chair", "president", "secretary",
     "founder", "coordinator", "chief", "commander", "speaker", "mufti", "patriarch"]
)


def kind_of_words(words: list[str]) -> str | None:
    """Return the actor kind the words describe (KIND_WORDS order), None for none."""
    folded = {w.lower() for w in words}
    return next((kind for kind, vocab in KIND_WORDS if folded & vocab), None)


# Bilateral-relations vocabulary (lemmas / lower-case words) for the relevance score.
RELATION_TERMS = frozenset(
    ["relations", "ties", "relationship", "cooperation", "cooperate", "bilateral", "partnership", "partner", "ally", "allies", "alliance", "support", "supported", "backing", "backed", "backer", "agreement", "agreements", "accord", "deal", "treaty", "talks", "met", "meet", "meeting", "meetings", "visit", "visited", "visits", "call", "called", "phone", "telephone", "discuss", "discussed", "discussion", "negotiation", "negotiations", "consultations", "envoy", "ambassador", "embassy", "base", "bases", "airbase", "military", "troops", "forces", "airstrike", "airstrikes", "strikes", "strike", "bombing", "bombed", "raids", "warplanes", "jets", "aid", "humanitarian", "sanctions", "trade", "investment", "reconstruction", "veto", "resolution", "security", "counterpart", "delegation", "summit", "condemned", "condemn", "accused", "welcomed", "invited", "invitation", "intervention", "campaign", "operation"]
)

MEETING_VERBS = frozenset(
    ["meet", "receive", "host", "confer", "greet", "welcome", "sit", "hold", "discuss", "negotiate"]
)
# Verbs that report a meeting only when their object is a person: "received a delegation" is a
# meeting, "received a letter" is not.
PERSON_OBJECT_VERBS = frozenset(["receive", "host", "greet", "welcome"])
MEETING_NOUNS = frozenset(
    ["meeting", "talk", "talks", "consultation", "consultations", "negotiation", "negotiations",
     "summit", "reception", "audience", "conversation", "encounter"]
)
HOLD_OBJECTS = frozenset(
    ["talk", "talks", "meeting", "meetings", "consultation", "consultations", "negotiation",
     "negotiations", "discussion", "discussions", "conversation"]
)
PHONE_WORDS = frozenset(
    ["phone", "telephone", "phoned", "telephoned", "videoconference", "video-conference"]
)
VISIT_WORDS = frozenset(["visit", "arrive", "trip", "travel", "tour"])
# Modifiers that make a meeting noun a future one: "the upcoming talks", "a planned visit".
PLANNED_MODIFIERS = frozenset(["upcoming", "planned", "forthcoming", "next", "future", "proposed"])
# Verbs whose subject/object/complement meeting has not happened yet: "is expected to visit",
# "the meeting was planned", "invited him to visit".
GOVERNING_FUTURE = frozenset(
    ["expect", "schedule", "plan", "due", "invite", "intend", "hope", "want", "prepare",
     "propose", "set", "aim", "seek", "offer", "agree", "arrange"]
)
FUTURE_AUXILIARIES = frozenset(["will", "would", "shall", "'ll", "wo"])
CANCEL_CUES = frozenset(["cancel", "postpone", "deny", "scrap", "delay", "call off"])
NEGATIONS = frozenset(["not", "never", "no", "n't"])


def normalise_phrase(text: str) -> str:
    """Return text lower-cased with hyphens and possessives folded, single-spaced."""
    text = text.casefold().replace("\u2019", "'").replace("'s", "")
    return re.sub(r"[\s\-]+", " ", text).strip()


_OFFICE_INDEX = {
    normalise_phrase(variant): canonical
    for canonical, variants in OFFICE_SYNONYMS.items()
    for variant in variants
}


def canonical_office(text: str) -> str:
    """Return the canonical office for a title phrase ("Minister of Defence" -> defence minister)."""
    folded = normalise_phrase(re.sub(r"\(.*?\)", " ", text))
    if folded in _OFFICE_INDEX:
        return _OFFICE_INDEX[folded]
    # "syrian defence minister" -> defence minister, but "vice president" stays itself.
    for variant in sorted(_OFFICE_INDEX, key=len, reverse=True):
        if len(variant) > 2 and folded.endswith(" " + variant):
            before = folded[: -len(variant)].split()
            if not before or before[-1] not in _OFFICE_MODIFIERS:
                return _OFFICE_INDEX[variant]
    return folded


# Words before an office that make the phrase about someone else: "vice president", "adviser
# to the president".
_OFFICE_MODIFIERS = frozenset(
    ["vice", "deputy", "first", "former", "ex", "acting", "assistant", "the", "to", "for", "of"]
)

# Armed-force nouns that make a side an actor when they follow its name: "Russian jets",
# "Russia's air force", "Syrian and Russian warplanes" (relevance: armed_action).
FORCE_NOUNS = frozenset(
    ["jets", "jet", "warplanes", "warplane", "planes", "plane", "aircraft", "aviation",
     "force", "bombers", "helicopters", "helicopter", "drones", "airstrikes", "airstrike", "strikes",
     "strike", "raids", "raid", "bombing", "bombardment", "bombs", "missiles", "forces",
     "troops", "soldiers", "servicemen", "military", "army", "navy", "sappers", "pilots",
     "pilot", "artillery", "shelling", "fighters", "mercenaries", "contractors", "police"]
)
# Attacks (lemmas, nouns and verbs) whose "by <side>" names the attacker: "air raids by Russia",
# "hospitals were bombed by Russia", "the targeting of rescuers by Russia".
ATTACK_LEMMAS = frozenset(
    ["strike", "airstrike", "raid", "bombing", "bombardment", "attack", "shelling", "offensive",
     "assault", "bomb", "target", "targeting", "hit", "pound", "shell", "kill", "destroy"]
)
# Verbs (lemmas) whose subject takes a stance: "the Russian defence ministry denied ...",
# "Moscow warned ...", "Damascus condemned ..." (relevance: state_action).
STANCE_VERBS = frozenset(
    ["say", "deny", "accuse", "blame", "condemn", "denounce", "warn", "veto", "block", "reject",
     "insist", "claim", "announce", "propose", "demand", "urge", "criticise", "criticize",
     "dismiss", "threaten", "vow", "pledge", "offer", "state", "declare", "confirm", "report",
     "refute", "protest", "welcome", "praise", "call", "describe", "suggest", "argue", "stress",
     "tell", "respond", "deliver", "send", "supply", "sign", "agree", "defend", "support",
     "back", "oppose", "dispute", "question", "doubt", "ask", "refuse", "object"]
)
# Words around a side's name that make it a description, not an actor: "Russian-backed",
# "backed by Russian air power", "with Russian support" (relevance: not armed_action).
BACKING_AFTER = frozenset(["backed", "supported", "allied", "sponsored", "made", "built"])
BACKING_BEFORE = frozenset(["backed", "supported", "aided", "assisted", "armed", "protected"])
BACKING_NOUNS = frozenset(["support", "backing", "help", "cover", "aid", "assistance"])

# Time frame of a sentence (relevance: armed_news). A recalled pattern or past campaign is
# background; a dated or attributed event is the news the article reports.
BACKGROUND_WORDS = frozenset(
    ["regularly", "repeatedly", "routinely", "frequently", "often", "previously", "previous",
     "earlier", "since", "usually", "habitually", "past"]
)
BACKGROUND_PAIRS = frozenset(
    [("recent", "weeks"), ("recent", "months"), ("recent", "years"), ("recent", "days"),
     ("last", "year"), ("last", "month"), ("past", "year"), ("past", "months")]
)
NEWS_TIME_WORDS = frozenset(
    ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "today",
     "yesterday", "overnight", "tonight", "dawn", "morning", "afternoon", "evening"]
)
ATTRIBUTION_WORDS = frozenset(
    ["suspected", "apparently", "believed", "allegedly", "reportedly", "according", "blamed",
     "accused"]
)
ATTRIBUTION_VERBS = frozenset(["say", "report", "tell", "blame", "accuse", "suspect", "claim"])
