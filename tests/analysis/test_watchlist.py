"""Watchlists: validation with clear errors, dated roles, offices, a second watchlist by YAML."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsmon.analysis.watchlist import load_watchlist
from newsmon.settings import ConfigError
from tests.conftest import ROOT


def _resolve(watchlist, name: str, when: date) -> tuple[str, str | None, str | None, str]:  # type: ignore[no-untyped-def]
    """Return (side, office, level, person id) an alias resolves to at that date."""
    from newsmon.analysis.actors import pick_person

    found = watchlist.persons_named(name)
    person = pick_person([p for _, p in found], when)
    side = next(s for s, p in found if p.id == person.id)
    role = person.role_at(when)
    return side, (role.office if role else None), (role.level if role else None), person.id


@pytest.mark.parametrize(
    ("alias", "when", "side", "level", "person"),
    [
        ("Lavrov", date(2005, 6, 1), "RUS", "minister", "sergei-lavrov"),
        ("Assad", date(2023, 3, 15), "SYR", "head_of_state", "bashar-al-assad"),
        ("Assad", date(2025, 6, 1), "SYR", None, "bashar-al-assad"),  # no office any more
        ("Assad", date(1995, 1, 1), "SYR", "head_of_state", "hafez-al-assad"),
        ("al-Sharaa", date(2025, 6, 1), "SYR", "head_of_state", "ahmed-al-sharaa"),
        ("Shaibani", date(2025, 12, 24), "SYR", "minister", "asaad-al-shaibani"),
    ],
)
def test_people_resolve_to_the_office_held_at_the_date(  # type: ignore[no-untyped-def]
    watchlist, alias: str, when: date, side: str, level: str | None, person: str
) -> None:
    got_side, _office, got_level, got_person = _resolve(watchlist, alias, when)
    assert (got_side, got_level, got_person) == (side, level, person)


def test_lavrov_was_not_foreign_minister_in_1999(watchlist) -> None:  # type: ignore[no-untyped-def]
    _side, office, _level, _person = _resolve(watchlist, "Lavrov", date(1999, 6, 1))
    assert office != "foreign minister"
    assert watchlist.office_holder("RUS", "foreign minister", date(1999, 6, 1)).id != (
        "sergei-lavrov")


def test_office_holder_by_synonym(watchlist) -> None:  # type: ignore[no-untyped-def]
    holder = watchlist.office_holder("SYR", "Minister of Defence", date(2025, 12, 23))
    assert holder is not None and holder.id == "murhaf-abu-qasra"


def test_unknown_watchlist_names_the_file_and_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown watchlist 'nope'.*available: syria-russia"):
        load_watchlist(ROOT / "config" / "watchlists", "nope")


def test_invalid_watchlist_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "name: bad\ntitle: Bad\nsides:\n  - key: SYR\n    names: [Syria]\n"
        "    persons: [{id: x, name: X, roles: [{office: o, level: boss}]}]\n"
        "  - key: RUS\n    names: [Russia]\n"
    )
    with pytest.raises(ConfigError, match=r"bad.yaml is invalid: .*level 'boss'"):
        load_watchlist(tmp_path, "bad")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("persons: [{id: x, name: X, roles: [{office: o, level: leader, kind: rebel}]}]",
         r"sides\.0\.persons\.0\.roles\.0: .*kind 'rebel' is not one of state, parliament"),
        ("groups: [{name: G, kind: militia}]",
         r"sides\.0\.groups\.0: .*kind 'militia' is not one of"),
        ("groups: [{name: G, kinds: [{kind: gang, from: 2020-01-01}]}]",
         r"sides\.0\.groups\.0\.kinds\.0: .*kind 'gang'"),
    ],
)
def test_a_bad_kind_names_its_key_and_the_kinds(tmp_path: Path, entry: str, message: str) -> None:
    (tmp_path / "bad.yaml").write_text(
        f"name: bad\ntitle: Bad\nsides:\n  - key: SYR\n    names: [Syria]\n    {entry}\n"
        "  - key: RUS\n    names: [Russia]\n"
    )
    with pytest.raises(ConfigError, match=message):
        load_watchlist(tmp_path, "bad")


def test_a_person_changes_kind_with_the_date(watchlist) -> None:  # type: ignore[no-untyped-def]
    _, jamil = watchlist.persons["qadri-jamil"]
    state, opposition = jamil.role_at(date(2013, 1, 1)), jamil.role_at(date(2018, 1, 1))
    assert state is not None and state.kind == "state"
    assert opposition is not None and opposition.kind == "opposition"


def test_second_watchlist_works_by_adding_a_yaml_file(tmp_path: Path) -> None:
    from newsmon.cli.main import app

    watchlists = tmp_path / "config" / "watchlists"
    shutil.copytree(ROOT / "config" / "watchlists", watchlists)
    shutil.copy(ROOT / "tests" / "data" / "watchlists" / "russia-turkey.yaml", watchlists)
    config = tmp_path / "config" / "newsmon.yaml"
    config.write_text("watchlist: syria-russia\n")
    text = (
        "Russian Foreign Minister Sergey Lavrov held talks with Turkish Foreign Minister Hakan "
        "Fidan in Moscow on Tuesday, discussing relations between Russia and Turkey."
    )
    line = json.dumps({"id": "t1", "text": text, "published": "2025-12-24"})
    result = CliRunner().invoke(
        app, ["analyze", "-", "--config", str(config), "--watchlist", "russia-turkey"],
        input=line + "\n",
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output.strip().splitlines()[-1])
    assert out["relevant"] is True
    assert {a["country"] for a in out["actors"]} == {"RUS", "TUR"}
    [event] = out["events"]
    assert event["type"] == "meeting" and event["date"] == "2025-12-23"
    # The same text under the default watchlist is not about Syria–Russia relations.
    default = CliRunner().invoke(app, ["analyze", "-", "--config", str(config)], input=line)
    assert json.loads(default.output.strip().splitlines()[-1])["relevant"] is False
