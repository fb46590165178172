"""Watchlists: the two sides of a relationship, their places, institutions and dated officials."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from newsmon.analysis.vocab import canonical_office
from newsmon.models import KINDS
from newsmon.settings import ConfigError

LEVELS = (
    "head_of_state",
    "head_of_government",
    "minister",
    "deputy_minister",
    "envoy",
    "ambassador",
    "military",
    "official",
    "leader",  # heads a body outside the state: a party, an opposition movement, a group
    "member",
    "former",
)
# Rank used to pick the principal participant of an event and to order alert participants.
LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS)}


def _check_kind(kind: str) -> str:
    """Return the kind, or raise ValueError naming the allowed kinds."""
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    return kind


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Role(_Frozen):
    office: str
    level: str
    start: date | None = Field(None, alias="from")
    end: date | None = Field(None, alias="to")
    kind: str = "state"

    @model_validator(mode="after")
    def _check(self) -> Role:
        if self.level not in LEVELS:
            raise ValueError(f"level {self.level!r} is not one of {', '.join(LEVELS)}")
        _check_kind(self.kind)
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"role {self.office!r} ends ({self.end}) before it starts")
        return self

    def holds_at(self, when: date) -> bool:
        """Return True when the role was held on that date (open ends count as unbounded)."""
        return (self.start is None or self.start <= when) and (self.end is None or when <= self.end)


class Person(_Frozen):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    aliases: tuple[str, ...] = ()
    roles: tuple[Role, ...] = ()

    def role_at(self, when: date | None) -> Role | None:
        """Return the highest-ranked role held at that date (the latest role when no date)."""
        # "former" entries describe a status, not an office: Assad in 2025 holds no office. An
        # entry of kind "former" is curated on purpose: a former official who still acts (an
        # Assad-era figure in exile) and whose meetings matter.
        offices = [role for role in self.roles if role.level != "former" or role.kind == "former"]
        if when is None:
            return offices[-1] if offices else None
        held = [role for role in offices if role.holds_at(when)]
        return min(held, key=lambda role: LEVEL_RANK[role.level], default=None)


class KindPeriod(_Frozen):
    kind: str
    start: date | None = Field(None, alias="from")
    end: date | None = Field(None, alias="to")

    @model_validator(mode="after")
    def _check(self) -> KindPeriod:
        _check_kind(self.kind)
        return self

    def holds_at(self, when: date) -> bool:
        """Return True when the period covers that date (open ends count as unbounded)."""
        return (self.start is None or self.start <= when) and (self.end is None or when <= self.end)


class Institution(_Frozen):
    name: str
    aliases: tuple[str, ...] = ()
    kind: str = "state"
    # Dated kinds of a body whose kind changed ("HTS": armed group, then the government).
    kinds: tuple[KindPeriod, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> Institution:
        _check_kind(self.kind)
        return self

    def kind_at(self, when: date | None) -> str:
        """Return the body's kind at that date (its latest dated kind when no date)."""
        if not self.kinds:
            return self.kind
        if when is None:
            return self.kinds[-1].kind
        return next((p.kind for p in self.kinds if p.holds_at(when)), self.kind)


class Side(_Frozen):
    key: str = Field(pattern=r"^[A-Z]{3}$")
    alpha2: str | None = Field(None, pattern=r"^[A-Z]{2}$")
    official_domains: tuple[str, ...] = ()
    names: tuple[str, ...]
    demonyms: tuple[str, ...] = ()
    capitals: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    institutions: tuple[Institution, ...] = ()
    # Bodies outside the state: parties, opposition movements, armed and civic groups.
    groups: tuple[Institution, ...] = ()
    media: tuple[Institution, ...] = ()
    topics: tuple[str, ...] = ()
    persons: tuple[Person, ...] = ()


class Watchlist(_Frozen):
    name: str
    title: str
    sides: tuple[Side, Side]
    relation_terms: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _unique_ids(self) -> Watchlist:
        seen: set[str] = set()
        for side in self.sides:
            for person in side.persons:
                if person.id in seen:
                    raise ValueError(f"person id {person.id!r} is listed twice")
                seen.add(person.id)
        if self.sides[0].key == self.sides[1].key:
            raise ValueError("the two sides must have different country keys")
        return self

    @cached_property
    def flags(self) -> dict[str, str]:
        """Return flag emoji -> side key (regional-indicator pairs built from alpha-2 codes)."""
        return {
            "".join(chr(0x1F1E6 + ord(letter) - ord("A")) for letter in side.alpha2): side.key
            for side in self.sides if side.alpha2
        }

    def publisher_side(self, url: str | None) -> str | None:
        """Return the side whose official domain serves the URL, if any."""
        if not url:
            return None
        host = urlsplit(url).hostname or ""
        for side in self.sides:
            if any(host == d or host.endswith("." + d) for d in side.official_domains):
                return side.key
        return None

    def side_names(self) -> tuple[tuple[str, str, str], ...]:
        """Return (key, country name, demonym) per side, as alerts and reports name sides."""
        return tuple(
            (side.key, side.names[0], side.demonyms[0] if side.demonyms else side.names[0])
            for side in self.sides
        )

    def side(self, key: str) -> Side:
        """Return the side with that country key."""
        return next(side for side in self.sides if side.key == key)

    def other(self, key: str) -> str:
        """Return the key of the other side."""
        return self.sides[1].key if self.sides[0].key == key else self.sides[0].key

    @cached_property
    def persons(self) -> dict[str, tuple[str, Person]]:
        """Return person id -> (side key, person)."""
        return {person.id: (side.key, person) for side in self.sides for person in side.persons}

    @cached_property
    def terms(self) -> tuple[WatchTerm, ...]:
        """Return every surface form the watchlist knows, with its kind, side and actor id."""
        out: list[WatchTerm] = []
        for side in self.sides:
            for text in side.names:
                out.append(WatchTerm(text, "country", side.key, side.key))
            for text in side.demonyms:
                out.append(WatchTerm(text, "demonym", side.key, side.key))
            for text in side.capitals:
                out.append(WatchTerm(text, "capital", side.key, side.key))
            for text in side.places:
                out.append(WatchTerm(text, "place", side.key, f"{side.key}:place:{text}"))
            for inst in (*side.institutions, *side.groups):
                for text in (inst.name, *inst.aliases):
                    out.append(WatchTerm(text, "institution", side.key, f"{side.key}:{inst.name}"))
            for text in side.topics:
                out.append(WatchTerm(text, "topic", side.key, f"{side.key}:topic:{text}"))
            for outlet in side.media:
                for text in (outlet.name, *outlet.aliases):
                    out.append(WatchTerm(text, "media", side.key, f"{side.key}:{outlet.name}"))
            for person in side.persons:
                for text in (person.name, *person.aliases):
                    out.append(WatchTerm(text, "person", side.key, person.id))
        return tuple(out)

    @cached_property
    def bodies(self) -> dict[str, Institution]:
        """Return institution or group actor id ("SYR:High Negotiations Committee") -> body."""
        return {f"{side.key}:{body.name}": body
                for side in self.sides for body in (*side.institutions, *side.groups)}

    @cached_property
    def _persons_by_name(self) -> dict[str, list[tuple[str, Person]]]:
        """Return folded name or alias -> (side, person) of everyone it names."""
        index: dict[str, list[tuple[str, Person]]] = {}
        for side_key, person in self.persons.values():
            for alias in dict.fromkeys(_fold(a) for a in (person.name, *person.aliases)):
                index.setdefault(alias, []).append((side_key, person))
        return index

    def persons_named(self, text: str) -> list[tuple[str, Person]]:
        """Return (side, person) for every person whose name or alias equals text (any case)."""
        # An index, not a scan: every entity of every article asks (issue 16 doubled the list).
        return list(self._persons_by_name.get(_fold(text), ()))

    @cached_property
    def _roles_by_office(self) -> dict[tuple[str, str], list[tuple[Person, Role]]]:
        """Return (side, canonical office) -> (person, role) of every office role."""
        index: dict[tuple[str, str], list[tuple[Person, Role]]] = {}
        for side in self.sides:
            for person in side.persons:
                for role in person.roles:
                    if role.level != "former":
                        key = (side.key, canonical_office(role.office))
                        index.setdefault(key, []).append((person, role))
        return index

    def body_head(self, side_key: str, body: Institution, when: date | None) -> Person | None:
        """Return the one person of that side who leads the body at the date, if exactly one
        does: "the leader of the Syria's Tomorrow Movement" in 2017 is Ahmad Jarba."""
        if when is None:
            return None
        names = [_fold(name) for name in (body.name, *body.aliases)]
        heads = {
            person.id: person
            for person in self.side(side_key).persons
            for role in person.roles
            if role.level == "leader" and role.holds_at(when)
            and any(name in _fold(role.office) for name in names)
        }
        return next(iter(heads.values())) if len(heads) == 1 else None

    def office_holder(self, side_key: str, office: str, when: date | None) -> Person | None:
        """Return the person of that side holding an office at a date, if exactly one does."""
        if when is None:
            return None
        holders = [person for person, role in
                   self._roles_by_office.get((side_key, canonical_office(office)), ())
                   if role.holds_at(when)]
        unique = {person.id: person for person in holders}
        return next(iter(unique.values())) if len(unique) == 1 else None


@dataclass(frozen=True)
class WatchTerm:
    """One surface form of a watchlist entry."""

    text: str
    kind: str  # country, demonym, capital, place, institution, media, topic, person
    side: str
    actor_id: str


def _fold(text: str) -> str:
    """Return text case-folded with hyphens, apostrophes and spacing unified for comparison."""
    text = text.casefold().replace("\u2019", "'").replace("\u2010", "-").replace("\u2011", "-")
    return re.sub(r"[\s\-]+", " ", text).strip()


def available_watchlists(directory: Path) -> list[str]:
    """Return the names of the watchlist files in a directory."""
    return sorted(path.stem for path in directory.glob("*.yaml"))


def load_watchlist(directory: Path, name: str) -> Watchlist:
    """Return the validated watchlist NAME read from DIRECTORY/NAME.yaml."""
    path = directory / f"{name}.yaml"
    if not path.exists():
        known = ", ".join(available_watchlists(directory)) or "none"
        raise ConfigError(
            f"unknown watchlist {name!r}: no file {path}; available: {known}. "
            f"Add {path} or pass one of the available names."
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"watchlist {path} is not valid YAML: {exc}") from exc
    try:
        watchlist = Watchlist.model_validate(data)
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"watchlist {path} is invalid: {details}") from exc
    if watchlist.name != name:
        raise ConfigError(f"watchlist {path}: 'name' is {watchlist.name!r}, expected {name!r}")
    return watchlist
