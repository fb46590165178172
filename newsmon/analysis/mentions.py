"""Every actor mention of an article: entities, markers, offices and groups, in text order."""

from __future__ import annotations

from datetime import date

from spacy.tokens import Doc

from newsmon.analysis.actors import (
    corefer_named_persons,
    resolve_entities,
    resolve_markers,
    resolve_offices,
)
from newsmon.analysis.groups import resolve_group_anaphora, resolve_groups
from newsmon.analysis.watchlist import Watchlist
from newsmon.models import Mention


def resolve_mentions(doc: Doc, watchlist: Watchlist, when: date | None) -> list[Mention]:
    """Return every actor mention of the document, resolved at the date, in text order."""
    mentions = corefer_named_persons(resolve_entities(doc, watchlist, when), watchlist)
    mentions.extend(resolve_markers(doc, watchlist))
    mentions.extend(resolve_offices(doc, mentions, watchlist, when))
    mentions.extend(resolve_groups(doc, mentions, watchlist, when))
    mentions.sort(key=lambda m: (m.start, m.end))
    mentions.extend(resolve_group_anaphora(doc, mentions, watchlist))
    return sorted(mentions, key=lambda m: (m.start, m.end))
