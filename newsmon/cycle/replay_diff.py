"""The alert diff of a replay (pure): events that would now be new, changed or gone.

A replay re-analyses archived articles and stores the result the way a cycle does, inside one
transaction; the diff compares the events before and after that transaction. A replay only
adds (events, evidence, participants, sharper dates): it never deletes an event that already
exists, because it may have been alerted and read. An event is reported "gone" when every
article that reported it was replayed and none reports it any more: a candidate for review,
left in place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from newsmon.store.replaying import EventSnapshot


@dataclass
class ReplayDiff:
    """What a replay changes in the events and the alerts it queues."""

    new: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    gone: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Return the diff as JSON-ready lists."""
        return {"new": self.new, "changed": self.changed, "gone": self.gone}


def _changes(old: EventSnapshot, new: EventSnapshot) -> list[str]:
    """Return the human-readable differences between two snapshots of one event."""
    out = []
    for name in ("type", "status", "date", "date_precision", "place"):
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            out.append(f"{name}: {before} -> {after}")
    added = sorted(set(new.participants) - set(old.participants))
    if added:
        out.append("participants added: " + ", ".join(added))
    more = len(new.evidence - old.evidence)
    if more:
        out.append(f"reported by {more} more replayed article(s)")
    return out


def event_diff(
    before: Mapping[str, EventSnapshot],
    after: Mapping[str, EventSnapshot],
    replayed: Iterable[str],
    links: Iterable[tuple[str, str, bool]],
    queued: Mapping[str, list[str]],
) -> ReplayDiff:
    """Return the diff between the events before and after a replay.

    replayed: ids of the articles replayed; links: (article, event, created) per replayed event
    report; queued: event id -> ids of the alerts the replay queued for it.
    """
    scope = set(replayed)
    found: dict[str, set[str]] = {}
    for article_id, event_id, _created in links:
        found.setdefault(event_id, set()).add(article_id)
    diff = ReplayDiff()
    for event_id, snap in after.items():
        alerts = sorted(queued.get(event_id, []))
        if event_id not in before:
            diff.new.append({**snap.describe(), "alerts": alerts,
                             "would_alert": any(":new:" in a or ":planned:" in a
                                                for a in alerts)})
            continue
        old = before[event_id]
        changes = _changes(old, snap)
        lost = (old.evidence & scope) - found.get(event_id, set())
        if lost and old.evidence - lost:
            changes.append(f"no longer found in {len(lost)} replayed article(s)")
        if changes:
            diff.changed.append({**snap.describe(), "changes": changes, "alerts": alerts})
    for event_id, old in before.items():
        if old.evidence and old.evidence <= scope and not found.get(event_id):
            diff.gone.append({**old.describe(), "note": "no replayed article reports it any "
                              "more; kept (never deleted by a replay)"})
    order = (lambda e: (e["date"] or "9999", e["event_id"]))
    for rows in (diff.new, diff.changed, diff.gone):
        rows.sort(key=order)
    return diff
