"""Issue 16: every actor of the relationship, with its kind, in sentences we wrote ourselves.

One case per kind (state, parliament, party, opposition, armed group, civic), an inferred
person, a group delegation and a person whose kind changes with the date; and the meetings
about Syria that are no Syria–Russia meeting.
"""

from __future__ import annotations

from datetime import date

import pytest

from newsmon.analysis.pipeline import AnalysisInput, AnalysisRules, analyze
from newsmon.models import EventMention, event_kind


def meeting_events(nlp, watchlist, text: str, published: str) -> list[EventMention]:  # type: ignore[no-untyped-def]
    """Return the occurred meetings and visits analyze finds in one text."""
    item = AnalysisInput("t", text, "", date.fromisoformat(published))
    [analysis] = analyze(nlp, watchlist, [item], AnalysisRules())
    return [e for e in analysis.events
            if e.type in ("meeting", "visit") and e.status == "occurred"]


def kinds_of(event: EventMention) -> dict[str, set[str]]:
    """Return side -> the kinds of its participants."""
    out: dict[str, set[str]] = {}
    for p in event.participants:
        out.setdefault(p.side, set()).add(p.kind)
    return out


@pytest.mark.parametrize(
    ("kind", "text", "published", "syrian"),
    [
        ("state",
         ("Russian Foreign Minister Sergei Lavrov met Syrian Foreign Minister Asaad al-Shaibani "
         "in Moscow on Thursday."), "2025-07-31", "asaad-al-shaibani"),
        ("parliament",
         ("Russian Deputy Foreign Minister Mikhail Bogdanov received a delegation of the "
         "Syrian People's Council in Moscow on Monday."), "2019-03-04", None),
        ("party",
         ("Deputy Foreign Minister Mikhail Bogdanov met on Tuesday with the leadership of the "
         "Syrian Social Nationalist Party, led by its chairman."), "2019-06-11", None),
        ("opposition",
         ("Deputy Foreign Minister Mikhail Bogdanov held talks in Moscow on Friday with Qadri "
         "Jamil, head of the Moscow platform of the Syrian opposition."), "2018-07-13",
         "qadri-jamil"),
        ("armed_group",
         ("Russian Deputy Defence Minister Yunus-Bek Yevkurov met Mazloum Abdi, commander of "
         "the Syrian Democratic Forces, in Qamishli on Sunday."), "2025-01-12", "mazloum-abdi"),
        ("civic",
         ("Russian Deputy Foreign Minister Mikhail Bogdanov received a Syrian public and "
         "political delegation in Moscow on Wednesday."), "2017-09-20", None),
    ],
)
def test_a_meeting_with_each_kind_of_actor(  # type: ignore[no-untyped-def]
    nlp, watchlist, kind, text, published, syrian
) -> None:
    [event] = meeting_events(nlp, watchlist, text, published)
    # Relevance counts these actors like officials of the state.
    [analysis] = analyze(nlp, watchlist, [AnalysisInput("t", text, "", date.fromisoformat(
        published))], AnalysisRules())
    assert analysis.relevant, analysis.reason
    assert kinds_of(event)["SYR"] == {kind}, event.participants
    assert "state" in kinds_of(event)["RUS"]
    assert event_kind(p.kind for p in event.participants) == kind
    assert event.date == date.fromisoformat(published)
    if syrian:
        assert syrian in {p.actor_id for p in event.participants}


def test_an_unlisted_person_is_inferred_with_side_and_kind(nlp, watchlist) -> None:  # type: ignore[no-untyped-def]
    # Nobody of this name is in the watchlist: the description makes him a participant.
    text = ("Russian Deputy Foreign Minister Mikhail Bogdanov met Kamal Darwish, a leader of "
            "the Syrian opposition, in Moscow on Tuesday.")
    [event] = meeting_events(nlp, watchlist, text, "2018-02-13")
    [syrian] = [p for p in event.participants if p.side == "SYR"]
    assert syrian.inferred and syrian.kind == "opposition"
    assert syrian.name == "Kamal Darwish"
    assert "opposition" in (syrian.role or "")


def test_a_group_delegation_is_one_participant_of_its_kind(nlp, watchlist) -> None:  # type: ignore[no-untyped-def]
    text = ("Foreign Minister Sergei Lavrov met representatives of the Syrian opposition in "
            "Moscow on Friday. The delegation later met Deputy Foreign Minister Mikhail "
            "Bogdanov.")
    events = meeting_events(nlp, watchlist, text, "2017-01-27")
    groups = {p.actor_id for e in events for p in e.participants if p.side == "SYR"}
    # Both sentences name the same group: "the delegation" points back to it.
    assert groups == {"SYR:group:opposition"}
    assert {p.kind for e in events for p in e.participants if p.side == "SYR"} == {"opposition"}


def test_officials_from_both_countries_are_one_group_each(nlp, watchlist) -> None:  # type: ignore[no-untyped-def]
    text = "Officials from Russia and Syria met in Damascus on Monday to discuss grain deliveries."
    [event] = meeting_events(nlp, watchlist, text, "2025-02-03")
    assert {(p.actor_id, p.kind) for p in event.participants} == {
        ("RUS:group", "state"), ("SYR:group", "state")}


@pytest.mark.parametrize(
    ("published", "kind"),
    [("2012-08-01", "state"), ("2018-05-21", "opposition")],
)
def test_a_persons_kind_follows_the_date(nlp, watchlist, published, kind) -> None:  # type: ignore[no-untyped-def]
    # Qadri Jamil was a deputy prime minister of the government, later an opposition leader.
    text = "Sergei Lavrov held talks with Qadri Jamil in Moscow on Monday."
    [event] = meeting_events(nlp, watchlist, text, published)
    [jamil] = [p for p in event.participants if p.actor_id == "qadri-jamil"]
    assert jamil.kind == kind


def test_a_bodys_kind_follows_the_date(watchlist) -> None:  # type: ignore[no-untyped-def]
    # The kind of a listed body is dated too: HTS was an armed group, then joined the state.
    hts = next(b for b in watchlist.side("SYR").groups if "Hayat Tahrir al-Sham" in b.name)
    assert hts.kind_at(date(2019, 1, 1)) == "armed_group"
    assert hts.kind_at(date(2025, 6, 1)) != "armed_group"


@pytest.mark.parametrize(
    "text",
    [
        ("Deputy Foreign Minister Gennady Gatilov met the UN special envoy for Syria, Staffan de "
        "Mistura, in Geneva on Monday."),
        ("Russian Foreign Minister Sergei Lavrov met Turkish Foreign Minister Hakan Fidan in "
        "Moscow on Monday to discuss Syria."),
        ("Sergei Lavrov and Hakan Fidan discussed the Syrian opposition and the Kurdish "
        "militias at their meeting in Antalya on Friday."),
    ],
)
def test_meetings_about_syria_are_no_syria_russia_meeting(nlp, watchlist, text) -> None:  # type: ignore[no-untyped-def]
    events = meeting_events(nlp, watchlist, text, "2024-03-04")
    assert [e for e in events if {p.side for p in e.participants} >= {"SYR", "RUS"}] == []


def test_a_body_name_cut_off_at_the_end_of_a_post_is_still_the_body(nlp, watchlist) -> None:  # type: ignore[no-untyped-def]
    # Ministry posts and feed items are cut at a fixed length, often inside a name.
    text = ("press release on deputy foreign minister mikhail bogdanov's meeting with a syrian "
            "delegation of the kurdish nation")
    [event] = meeting_events(nlp, watchlist, text, "2019-02-12")
    assert {(p.actor_id, p.kind) for p in event.participants if p.side == "SYR"} == {
        ("SYR:group:kurdish-national-council", "opposition")}
    # Two whole words that are a phrase of their own are no cut name: "the Syrian
    # opposition" is not the start of "Syrian Opposition Coalition".
    text = ("press release on deputy foreign minister mikhail bogdanov's meeting with "
            "representatives of the syrian opposition")
    [event] = meeting_events(nlp, watchlist, text, "2019-02-12")
    assert {p.actor_id for p in event.participants if p.side == "SYR"} == {
        "SYR:group:opposition"}
