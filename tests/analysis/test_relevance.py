"""Relevance signals on sentences we wrote, through the real spaCy pipeline and watchlist.

Each row: a text, and which of the signals (armed_action, armed_news, state_action,
listed_only) it must raise; the others must stay at zero. The rows cover the rule in
docs/devset.md: a side acting or speaking counts, a side as description ("Russian-backed") or
as a list item does not; a dated or attributed strike is news, a recalled one background.
"""

from __future__ import annotations

import pytest

from newsmon.analysis.pipeline import AnalysisInput, AnalysisRules, analyze
from newsmon.analysis.relevance import WEIGHTS, relevance_features, weighted_score

SIGNALS = ("armed_action", "armed_news", "state_action", "listed_only")

CASES = [
    ("Syrian or Russian warplanes struck a market in Idlib on Monday, the monitor said.",
     {"armed_action", "armed_news"}),
    ("Air raids by Russia hit Douma overnight, rescuers in Damascus said.",
     {"armed_action", "armed_news"}),
    ("Russia's air force bombed rebel positions near Hama, activists said.",
     {"armed_action", "armed_news"}),
    ("In recent weeks Russian jets have bombed markets across Idlib province.",
     {"armed_action"}),
    ("Russian warplanes have pounded Aleppo.", {"armed_action"}),
    (("It was unclear if the raids on Aleppo were carried out by aircraft belonging to the "
      "Syrian government or its ally Russia, the monitor said."), {"armed_action", "armed_news"}),
    ("Rescuers in Idlib accused Russia of the targeting of hospitals by Russia on Sunday.",
     {"armed_action", "armed_news"}),
    ("Rebels fired rockets at the Russian air base in Latakia.", set()),
    ("Government forces, backed by Russian air power, advanced on Aleppo.", set()),
    ("Russian-backed troops entered the town of Saraqeb.", set()),
    ("For a week regime troops backed by Syrian and Russian warplanes fought for Idlib.", set()),
    ("The army retook Palmyra with the support of Russian aircraft.", set()),
    ("Syrian troops, with Russian air support, entered Deir ez-Zor.", set()),
    ("Syrian Democratic Forces fighters and Russian diplomats were seen in Raqqa.", set()),
    ("The Russian defence ministry denied that its jets had struck Khan Sheikhoun.",
     {"state_action"}),
    ("Moscow condemned the strike on Damascus.", {"state_action"}),
    ("Lavrov warned that the attack on Aleppo would not go unanswered.", {"state_action"}),
    ("The Russian embassy in Damascus is near the old city.", set()),
    ("Russia together with Belarus, Nicaragua, Cuba and Syria submitted a draft concept.",
     {"listed_only"}),
    ("Students from Egypt, Jordan, Syria and Morocco studied in Russia.", {"listed_only"}),
    ("Syria and Russia signed a trade deal.", {"state_action"}),
    ("Students from Syria and Russia met in a cafe in Berlin.", set()),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_signals(nlp, watchlist, text: str, expected: set[str]) -> None:  # type: ignore[no-untyped-def]
    [analysis] = analyze(nlp, watchlist, [AnalysisInput("t", text)], AnalysisRules())
    raised = {name for name in SIGNALS if analysis.features.get(name, 0.0) > 0}
    assert raised == expected, analysis.reason


def test_every_feature_has_a_weight_and_a_feature_for_every_weight() -> None:
    features = relevance_features([], frozenset(), [])
    assert set(features) == set(WEIGHTS) - {"bias"}
    assert 0.0 < weighted_score(features) < 1.0
