"""Actor resolution details through the real spaCy pipeline (dated roles: test_watchlist.py)."""

from __future__ import annotations

import pytest

from newsmon.actors import resolve_mentions

FORMULA_CASES = [
    ("Fighters of Jabhat al-Nusra (banned in Russia) shelled the town.", "Russia", "boilerplate"),
    ("The group, recognised as terrorist in Russia, claimed the attack.", "Russia", "boilerplate"),
    ("Zakharova commented on the terrorist attack in Syria.", "Syria", "country"),
    ("The ban in Russia on the group was upheld.", "Russia", "country"),
]


@pytest.mark.parametrize(("text", "name", "kind"), FORMULA_CASES, ids=[c[0][:40] for c in FORMULA_CASES])
def test_press_formulas_are_boilerplate_and_news_is_not(  # type: ignore[no-untyped-def]
    nlp, watchlist, text: str, name: str, kind: str
) -> None:
    mentions = [m for m in resolve_mentions(nlp(text), watchlist, None) if m.text == name]
    assert mentions, f"{name} not found"
    assert mentions[0].kind == kind


DATELINE_CASES = [
    ("MOSCOW (Sputnik) - Syrian troops retook the town.", "MOSCOW", "dateline"),
    ("DAMASCUS, March 3 - Talks began.", "DAMASCUS", "dateline"),
    ("Talks were held in Moscow (the Kremlin said).", "Moscow", "capital"),
    ("Moscow, the Kremlin said, will send aid.", "Moscow", "capital"),
]


@pytest.mark.parametrize(("text", "name", "kind"), DATELINE_CASES,
                         ids=[c[0][:40] for c in DATELINE_CASES])
def test_datelines_are_not_presence(  # type: ignore[no-untyped-def]
    nlp, watchlist, text: str, name: str, kind: str
) -> None:
    mentions = [m for m in resolve_mentions(nlp(text), watchlist, None) if m.text == name]
    assert mentions, f"{name} not found"
    assert mentions[0].kind == kind
