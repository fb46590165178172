"""Alert routing and update rules (pure): which channels an event goes to, and when to update.

The outbox itself (rows, statuses, ordering) lives in newsmon.alerts.outbox; docs/alerts.md
describes the delivery guarantees.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from newsmon.models import KIND_LABELS, KINDS

if TYPE_CHECKING:  # settings import pydantic; the policy itself is plain data
    from newsmon.analysis.watchlist import Watchlist
    from newsmon.settings import AlertSettings

CHANNELS = ("console", "slack", "webhook")


@dataclass(frozen=True)
class Route:
    """Send events of a watchlist (None: any) and of some types (None: any) to channels."""

    channels: tuple[str, ...]
    watchlist: str | None = None
    types: tuple[str, ...] | None = None
    kinds: tuple[str, ...] | None = None  # event kinds (models.KINDS); None: any

    def matches(self, watchlist: str, event_type: str, kind: str = "state") -> bool:
        """Return True when the route applies to an event of this watchlist, type and kind."""
        if self.watchlist is not None and self.watchlist != watchlist:
            return False
        if self.kinds and kind not in self.kinds:
            return False
        return not self.types or event_type in self.types


@dataclass(frozen=True)
class AlertPolicy:
    """Where alerts go and whether/how often updates follow them (alerts.* in the config)."""

    channels: tuple[str, ...] = ("console",)
    routes: tuple[Route, ...] = ()
    updates: bool = True
    max_updates_per_event_per_cycle: int = 1
    kinds: tuple[str, ...] = KINDS  # the event kinds that alert at all (alerts.kinds)
    # (side key, country name, demonym) per side of the watchlist: "Russia – Syrian opposition".
    side_names: tuple[tuple[str, str, str], ...] = ()

    @classmethod
    def from_settings(
        cls, alerts: AlertSettings, watchlist: Watchlist | None = None
    ) -> AlertPolicy:
        """Return the policy described by the alerts section of the settings."""
        return cls(
            channels=tuple(alerts.channels),
            routes=tuple(
                Route(tuple(r.channels), r.watchlist, tuple(r.types) if r.types else None,
                      tuple(r.kinds) if r.kinds else None)
                for r in alerts.routes
            ),
            updates=alerts.updates,
            max_updates_per_event_per_cycle=alerts.max_updates_per_event_per_cycle,
            kinds=tuple(alerts.kinds),
            side_names=watchlist.side_names() if watchlist else (),
        )

    def alerts_kind(self, kind: str) -> bool:
        """Return True when events of that kind alert (alerts.kinds)."""
        return kind in self.kinds

    def sides_label(self, countries: Iterable[tuple[str, str]]) -> str:
        """Return how an alert names the two sides of an event outside the state, from (side
        key, kind) per side in display order: "Russia – Syrian opposition"."""
        names = {key: (name, demonym) for key, name, demonym in self.side_names}
        parts = []
        for key, kind in countries:
            name, demonym = names.get(key, (key, key))
            parts.append(name if kind == "state" else f"{demonym} {KIND_LABELS[kind]}")
        return " – ".join(parts)

    def channels_for(
        self, watchlist: str, event_type: str, kind: str = "state"
    ) -> tuple[str, ...]:
        """Return the channels for an event: every matching route's, else alerts.channels."""
        matched = [route for route in self.routes if route.matches(watchlist, event_type, kind)]
        if not matched:
            # Backward compatible: with no routes (or none matching) alerts.channels decides.
            return self.channels
        return _unique(channel for route in matched for channel in route.channels)

    def all_channels(self) -> tuple[str, ...]:
        """Return every channel some alert may go to (alerts.channels first, then routes')."""
        return _unique([*self.channels, *(c for r in self.routes for c in r.channels)])


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    """Return the items without repeats, in first-seen order."""
    return tuple(dict.fromkeys(items))


def update_change(
    alerted_status: str | None, alerted_sources: int | None, status: str, sources: int
) -> str | None:
    """Return what changed since the last alert ("now occurred", "2 more sources"), or None.

    Only two changes are worth a message to analysts: a planned event that took place, and more
    outlets reporting the event. Sharper dates or places are shown in the next update anyway.
    """
    parts: list[str] = []
    if alerted_status == "planned" and status == "occurred":
        parts.append("now occurred")
    more = sources - (alerted_sources or 0)
    if alerted_sources is not None and more > 0:
        parts.append(f"{more} more source{'s' if more != 1 else ''}")
    return ", ".join(parts) or None


def idle_channel_warnings(enabled: Iterable[str], secrets: dict[str, str]) -> list[str]:
    """Return a warning for each channel whose secret is set but that no alert goes to, with
    the exact line that enables it (issue 18: a webhook set and silently ignored)."""
    enabled = _unique(enabled)
    warnings = []
    for channel, source in secrets.items():
        if channel in enabled:
            continue
        wanted = (*enabled, channel)
        warnings.append(
            f"{source} is set, but channel {channel} is not in alerts.channels, so no alert "
            f"goes to it. To use it, put `channels: [{', '.join(wanted)}]` under `alerts:` in "
            f"the config file (or set NEWSMON_ALERTS__CHANNELS='{json.dumps(list(wanted))}')."
        )
    return warnings
