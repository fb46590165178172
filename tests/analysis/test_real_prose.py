"""Issue 15's failure classes on real news prose, each in sentences we wrote ourselves.

Every case is a paraphrase of a construction seen in the corpus of real reports
(tests/data/corpus), never its text. Each names the mechanism it exercises.
"""

from __future__ import annotations

from datetime import date

import pytest

from newsmon.analysis.dates import format_date
from newsmon.analysis.pipeline import AnalysisInput, AnalysisRules, analyze


def meetings(nlp, watchlist, text: str, published: str, title: str = ""):  # type: ignore[no-untyped-def]
    """Return (status, date, participant ids) of every meeting or visit analyze finds."""
    item = AnalysisInput("t", text, title, date.fromisoformat(published))
    [analysis] = analyze(nlp, watchlist, [item], AnalysisRules())
    return {
        (e.status, format_date(e.date, e.date_precision or "day"),
         frozenset(p.actor_id for p in e.participants))
        for e in analysis.events if e.type in ("meeting", "visit")
    }


SHOIGU_ASSAD = frozenset({"sergei-shoigu", "bashar-al-assad"})
BORISOV_ASSAD = frozenset({"yury-borisov", "bashar-al-assad"})
LAVROV_MUALLEM = frozenset({"sergei-lavrov", "walid-muallem"})


@pytest.mark.parametrize(
    ("label", "text", "published", "expected"),
    [
        # Co-participants outside the trigger's clause: a gerund or participle takes the
        # subject of the clause it hangs on.
        ("gerund after a preposition",
         ("Russian Deputy Prime Minister Yury Borisov spoke to journalists on Saturday after "
         "meeting Syrian President Bashar al-Assad in Damascus."),
         "2019-04-20", {("occurred", "2019-04-20", BORISOV_ASSAD)}),
        ("participial clause",
         ("Russian Defence Minister Sergei Shoigu flew into Damascus on Tuesday, holding talks "
         "with Syrian President Bashar al-Assad about the drills."),
         "2022-02-15", {("occurred", "2022-02-15", SHOIGU_ASSAD)}),
        ("relative clause over a coordination",
         ("Sergei Shoigu and Bashar al-Assad, who last met in Damascus in June 2016, spoke "
         "about the offensive."),
         "2017-09-12", {("occurred", "2016-06", SHOIGU_ASSAD)}),
        # Who sent someone is not who met: "on the orders of", "delivered X's message".
        ("principal of an envoy",
         ("Syrian President Bashar al-Assad received Russian Defence Minister Sergei Shoigu on "
         "Tuesday on the instructions of President Vladimir Putin."),
         "2019-03-19", {("occurred", "2019-03-19", SHOIGU_ASSAD)}),
        # A received person the parser leaves as an adverbial.
        ("object after a time adverb",
         ("Syrian President Bashar al-Assad received on Tuesday Russian Defence Minister "
         "Sergei Shoigu, who heads a military delegation."),
         "2022-02-15", {("occurred", "2022-02-15", SHOIGU_ASSAD)}),
        # A conjunct verb borrows its subject; a pronoun there is the person named before.
        ("pronoun subject of a conjunct verb",
         ("Russian Defence Minister Sergei Shoigu toured the naval base at Tartus on Tuesday. "
          "He then went on to the capital and held talks with Syrian President Bashar al-Assad."),
         "2022-02-15", {("occurred", "2022-02-15", SHOIGU_ASSAD)}),
        # An envoy who hands over a letter meets its addressee; its sender stays away.
        ("handing over a letter",
         ("Sergei Shoigu flew to Damascus on Tuesday, where he handed a letter from President "
          "Vladimir Putin to Syrian President Bashar al-Assad."),
         "2019-03-19", {("occurred", "2019-03-19", SHOIGU_ASSAD)}),
    ],
)
def test_participants_of_both_sides_outside_the_trigger_clause(  # type: ignore[no-untyped-def]
    nlp, watchlist, label: str, text: str, published: str, expected: set
) -> None:
    assert meetings(nlp, watchlist, text, published) == expected, label


def test_a_short_form_of_a_name_named_in_full_is_the_same_participant(nlp, watchlist) -> None:  # type: ignore[no-untyped-def]
    # The headline's title case glues a verb to the surname; the body names him in full.
    found = meetings(
        nlp, watchlist,
        "Russian Deputy Prime Minister Yuri Borisov said on Tuesday that his talks in Damascus "
        "with Syrian President Bashar al-Assad had been constructive.",
        "2021-06-22", title="Borisov Calls Damascus Meeting With Assad Constructive",
    )
    assert found == {("occurred", "2021-06-22", BORISOV_ASSAD)}


def test_reported_talks_take_the_time_of_the_report(nlp, watchlist) -> None:  # type: ignore[no-untyped-def]
    # "said on Tuesday that he had discussed with X": the talks are dated by the saying.
    found = meetings(
        nlp, watchlist,
        "Russian Deputy Prime Minister Yury Borisov said on Tuesday that he had discussed with "
        "Syrian President Bashar al-Assad earlier in the day how to rebuild the airports.",
        "2019-12-18",
    )
    assert found == {("occurred", "2019-12-17", BORISOV_ASSAD)}


def test_an_undated_headline_meeting_is_the_day_of_publication(nlp, watchlist) -> None:  # type: ignore[no-untyped-def]
    found = meetings(
        nlp, watchlist,
        "The Russian minister arrived with a large military delegation. The visit focused on "
        "naval exercises in the Mediterranean.",
        "2022-02-15", title="Syrian President Bashar al-Assad receives Sergei Shoigu",
    )
    assert found == {("occurred", "2022-02-15", SHOIGU_ASSAD)}


def test_counterparts_coordinated_with_a_third_country(nlp, watchlist) -> None:  # type: ignore[no-untyped-def]
    found = meetings(
        nlp, watchlist,
        "Russian Foreign Minister Sergei Lavrov on Friday hosted his Iranian and Syrian "
        "counterparts in Moscow for three-way talks on the US strike.",
        "2017-04-14",
    )
    assert ("occurred", "2017-04-14", LAVROV_MUALLEM) in found


def test_a_headline_infinitive_announces_a_meeting(nlp, watchlist) -> None:  # type: ignore[no-untyped-def]
    found = meetings(
        nlp, watchlist, "Sergei Lavrov to hold talks with Walid Muallem in Moscow on Friday.",
        "2017-04-12",
    )
    assert {status for status, _day, _ids in found} == {"planned"}


def test_not_discussed_at_the_meeting_leaves_the_meeting_occurred(nlp, watchlist) -> None:  # type: ignore[no-untyped-def]
    found = meetings(
        nlp, watchlist,
        "The future of the Russian bases was not discussed at the meeting between Vladimir "
        "Putin and Ahmed al-Sharaa in the Kremlin on Wednesday, Peskov said.",
        "2025-10-16",
    )
    assert found == {("occurred", "2025-10-15",
                      frozenset({"vladimir-putin", "ahmed-al-sharaa"}))}


@pytest.mark.parametrize(
    ("text", "expected_side_ids"),
    [
        # "his delegation": the group of the person just named.
        (("The head of the Syrian government delegation, Bashar al-Jaafari, said on Tuesday "
         "that his delegation held a productive meeting with the Russian delegation."),
         {"SYR:group", "RUS:group"}),
        # "the delegation": the group named before.
        (("A Syrian delegation arrived in Moscow on Tuesday. The delegation held talks with "
         "Russian Defence Minister Andrei Belousov on military cooperation."),
         {"SYR:group", "andrei-belousov"}),
    ],
)
def test_a_group_named_by_its_article_or_a_possessive_stands_for_its_side(  # type: ignore[no-untyped-def]
    nlp, watchlist, text: str, expected_side_ids: set[str]
) -> None:
    found = meetings(nlp, watchlist, text, "2025-12-23")
    assert any(ids >= expected_side_ids and status == "occurred"
               for status, _day, ids in found), found


def test_a_plan_made_at_a_meeting_leaves_the_meeting_occurred(nlp, watchlist) -> None:  # type: ignore[no-untyped-def]
    # "proposed to resume X at a meeting with Y": the proposal is a plan, the meeting is not.
    found = meetings(
        nlp, watchlist,
        "Russian Deputy Prime Minister Alexander Novak proposed to resume the joint commission "
        "at a meeting with Syrian Foreign Minister Asaad al-Shaibani in Damascus on Tuesday.",
        "2025-09-09",
    )
    assert found == {("occurred", "2025-09-09",
                      frozenset({"alexander-novak", "asaad-al-shaibani"}))}


def test_a_possessive_time_dates_its_noun_not_the_meeting(nlp, watchlist) -> None:  # type: ignore[no-untyped-def]
    found = meetings(
        nlp, watchlist,
        "Sergei Lavrov, who held talks with Walid Muallem in Moscow on Friday, condemned last "
        "week's missile strike.",
        "2017-04-14",
    )
    assert found == {("occurred", "2017-04-14", LAVROV_MUALLEM)}


@pytest.mark.parametrize(
    ("text", "published", "expected_ids"),
    [
        # Offices named by description resolve to the holder at the date.
        ("Vladimir Putin received Syria's interim leader in the Kremlin on Wednesday.",
         "2025-10-15", {"vladimir-putin", "ahmed-al-sharaa"}),
        ("Sergei Lavrov held talks with the top Syrian diplomat in Moscow on Wednesday.",
         "2025-12-24", {"sergei-lavrov", "asaad-al-shaibani"}),
        (("State media reported on a meeting between Syria's foreign, defence ministers and "
         "Vladimir Putin in Moscow on Tuesday."),
         "2025-12-24", {"vladimir-putin", "asaad-al-shaibani", "murhaf-abu-qasra"}),
    ],
)
def test_offices_named_by_description(  # type: ignore[no-untyped-def]
    nlp, watchlist, text: str, published: str, expected_ids: set[str]
) -> None:
    found = meetings(nlp, watchlist, text, published)
    assert any(ids == expected_ids and status == "occurred" for status, _d, ids in found), found


def test_a_place_inside_the_topic_of_talks_is_not_where_they_were(nlp, watchlist) -> None:  # type: ignore[no-untyped-def]
    # "on the situation in Syria" says what was discussed: no visit of Putin to Syria.
    found = meetings(
        nlp, watchlist,
        "The call came shortly before Vladimir Putin's talks with the German chancellor on the "
        "situation in Syria.", "2016-10-19",
    )
    assert found == set()


def test_a_time_in_a_since_phrase_does_not_date_the_event(nlp, watchlist) -> None:  # type: ignore[no-untyped-def]
    # The date belongs to the fall of the regime, a bound of the visit, not the visit's day.
    found = meetings(
        nlp, watchlist,
        "Syrian Foreign Minister Asaad al-Shaibani is on his first official visit to Moscow "
        "since the fall of the former government on December 8, 2024.", "2025-12-23",
    )
    assert all(day != "2024-12-08" for _status, day, _who in found), found


def test_the_meeting_attended_by_others_is_the_meeting_already_reported(nlp, watchlist) -> None:  # type: ignore[no-untyped-def]
    # "The meeting was attended by" lists more people at the meeting the article reported,
    # and the next name's title in the list is not the one before it ("X, Russian Y").
    text = ("Syrian President Bashar al-Assad received Russian Deputy Prime Minister Yury Borisov "
            "in Damascus on Tuesday. The two reviewed the economic agreements signed last year. "
            "The meeting was attended by Foreign Minister Walid al-Muallem, Assistant Foreign "
            "Minister Ayman Soussan, Russian Deputy Foreign Minister Mikhail Bogdanov and the "
            "Russian ambassador.")
    found = meetings(nlp, watchlist, text, "2019-12-17")
    assert len(found) == 1, found
    [(status, day, who)] = found
    assert (status, day) == ("occurred", "2019-12-17")
    assert {"yury-borisov", "bashar-al-assad", "mikhail-bogdanov"} <= who
    assert not any(actor.startswith("inferred:RUS") for actor in who), who
