"""Actor resolution details through the real spaCy pipeline (dated roles: test_watchlist.py)."""

from __future__ import annotations

import pytest

from newsmon.analysis.mentions import resolve_mentions

# Press formulas ("banned in Russia") and datelines ("MOSCOW (Sputnik) -") name a side without
# making it a party to the story; the same words inside news do.
FORMULA_CASES = [
    ("Fighters of Jabhat al-Nusra (banned in Russia) shelled the town.", "Russia", "boilerplate"),
    ("The group, recognised as terrorist in Russia, claimed the attack.", "Russia", "boilerplate"),
    ("Zakharova commented on the terrorist attack in Syria.", "Syria", "country"),
    ("The ban in Russia on the group was upheld.", "Russia", "country"),
]


DATELINE_CASES = [
    ("MOSCOW (Sputnik) - Syrian troops retook the town.", "MOSCOW", "dateline"),
    ("DAMASCUS, March 3 - Talks began.", "DAMASCUS", "dateline"),
    ("Talks were held in Moscow (the Kremlin said).", "Moscow", "capital"),
    ("Moscow, the Kremlin said, will send aid.", "Moscow", "capital"),
]


KIND_CASES = FORMULA_CASES + DATELINE_CASES


@pytest.mark.parametrize(("text", "name", "kind"), KIND_CASES, ids=[c[0][:40] for c in KIND_CASES])
def test_press_formulas_and_datelines_are_not_presence(  # type: ignore[no-untyped-def]
    nlp, watchlist, text: str, name: str, kind: str
) -> None:
    mentions = [m for m in resolve_mentions(nlp(text), watchlist, None) if m.text == name]
    assert mentions, f"{name} not found"
    assert mentions[0].kind == kind
