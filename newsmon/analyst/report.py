"""`newsmon report`: one self-contained HTML page (inline CSS and SVG, no script, no network).

It reads only the analyst views (meetings, feed_health), so it renders from the live database
or from the Parquet snapshot alike: a timeline of meetings per month coloured by the most senior
participant, the latest events with their sources, and the health of every feed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from html import escape
from typing import Any

import duckdb

from newsmon.models import KIND_LABELS, KINDS

# Participant levels grouped for the chart: (key, legend label, colour). Okabe-Ito colours, which
# stay distinct for the common colour-vision deficiencies.
LEVEL_GROUPS: tuple[tuple[str, str, str], ...] = (
    ("head_of_state", "Head of state", "#0072B2"),
    ("head_of_government", "Head of government", "#56B4E9"),
    ("minister", "Minister", "#009E73"),
    ("deputy", "Deputy minister, envoy or ambassador", "#E69F00"),
    ("other", "Other officials", "#999999"),
)
# Actor kinds for the second chart and the filter (issue 16), in newsmon.models.KINDS order.
_KIND_COLOURS = {"state": "#0072B2", "parliament": "#56B4E9", "party": "#CC79A7",
                 "opposition": "#E69F00", "armed_group": "#D55E00", "civic": "#009E73",
                 "former": "#999999"}
KIND_GROUPS: tuple[tuple[str, str, str], ...] = tuple(
    (kind, KIND_LABELS[kind].capitalize(), _KIND_COLOURS[kind]) for kind in KINDS
)
_GROUP_OF_LEVEL = {
    "head_of_state": "head_of_state", "head_of_government": "head_of_government",
    "minister": "minister", "deputy_minister": "deputy", "envoy": "deputy", "ambassador": "deputy",
}
_STATUS_CLASS = {"ok": "ok", "quiet": "warn", "new": "info", "failing": "bad", "gone": "bad"}
MAX_SOURCES_SHOWN = 4


def level_group(level: str | None) -> str:
    """Return the chart group of a participant level (military, official, former: 'other')."""
    return _GROUP_OF_LEVEL.get(level or "", "other")


@dataclass(frozen=True)
class MonthCount:
    """Meetings of one month, per level group."""

    month: date  # first day of the month
    by_group: dict[str, int]

    @property
    def total(self) -> int:
        """Return the month's number of meetings."""
        return sum(self.by_group.values())


@dataclass(frozen=True)
class ReportData:
    """Everything the page shows, read from the views."""

    title: str
    since: date
    until: date
    generated_at: datetime
    months: list[MonthCount]
    year_only: int  # meetings dated only to the year: not charted by month
    events: list[dict[str, Any]]
    feeds: list[dict[str, Any]]
    source_note: str  # where the data came from (database path or snapshot time)
    months_by_kind: list[MonthCount] = field(default_factory=list)
    kinds: tuple[str, ...] = ()  # the kinds the report is limited to (empty: every kind)


def _dicts(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    """Return the rows of a query as dicts by column name."""
    rel = con.execute(sql, params)
    columns = [d[0] for d in rel.description or []]
    return [dict(zip(columns, row, strict=True)) for row in rel.fetchall()]


def _month_range(first: date, last: date) -> list[date]:
    """Return the first day of every month from first's month to last's, inclusive."""
    months: list[date] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def report_data(
    con: duckdb.DuckDBPyConnection,
    since: date,
    now: datetime,
    *,
    title: str = "newsmon",
    source_note: str = "",
    limit: int = 50,
    kinds: tuple[str, ...] = (),
) -> ReportData:
    """Return the report's data: monthly meeting counts, latest events and feed health.

    kinds: only events of these kinds (the meetings view's `kind`); empty for every kind.
    """
    until = now.date()
    wanted = list(kinds or KINDS)
    counted = _dicts(
        con,
        """
        SELECT date_trunc('month', event_date)::DATE AS month, highest_level, kind,
               date_precision, count(*) AS n
        FROM meetings
        WHERE event_type = 'meeting' AND status = 'occurred'
          AND event_date >= date_trunc('month', $1::DATE) AND event_date <= $2
          AND list_contains($3, coalesce(kind, 'state'))
        GROUP BY ALL
        """,
        [since, until, wanted],
    )
    per_month: dict[date, dict[str, int]] = {}
    per_month_kind: dict[date, dict[str, int]] = {}
    year_only = 0
    for row in counted:
        # A year-only date is stored as 1 January: charting it in January would be a claim.
        if row["date_precision"] == "year":
            year_only += row["n"]
            continue
        for table, key in ((per_month, level_group(row["highest_level"])),
                           (per_month_kind, row["kind"] or "state")):
            groups = table.setdefault(row["month"], {})
            groups[key] = groups.get(key, 0) + row["n"]
    month_list = _month_range(since, until)
    months = [MonthCount(m, per_month.get(m, {})) for m in month_list]
    events = _dicts(
        con,
        """
        SELECT event_type, status, event_date_text, event_date, date_precision, place,
               participants, highest_level, coalesce(kind, 'state') AS kind, source_count,
               source_outlets, source_urls, first_source_title, first_reported_at, evidence,
               is_new, alerted
        FROM meetings
        WHERE (event_date >= $1 OR (event_date IS NULL AND first_seen_at >= $1))
          AND list_contains($3, coalesce(kind, 'state'))
        ORDER BY event_date DESC NULLS LAST, first_reported_at DESC, event_id
        LIMIT $2
        """,
        [since, limit, wanted],
    )
    feeds = _dicts(
        con,
        """
        SELECT feed_url, feed_name, feed_title, status, consecutive_failures, last_error_kind,
               last_http_status, last_error, last_success_at, last_new_item_at, items_seen,
               relevant_articles, events_reported, moved_to
        FROM feed_health
        ORDER BY CASE status WHEN 'gone' THEN 0 WHEN 'failing' THEN 1 WHEN 'quiet' THEN 2
                 WHEN 'new' THEN 3 ELSE 4 END, coalesce(feed_title, feed_name, feed_url)
        """,
        [],
    )
    return ReportData(title, since, until, now, months, year_only, events, feeds, source_note,
                      [MonthCount(m, per_month_kind.get(m, {})) for m in month_list],
                      tuple(kinds))


# --- rendering ---------------------------------------------------------------------------------

_CSS = """
:root { --ink:#1d2733; --muted:#5b6675; --line:#d9dee5; --bg:#f6f7f9; --card:#fff; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
       color:var(--ink); background:var(--bg); }
header { background:#14324f; color:#fff; padding:20px 32px 16px; }
header h1 { margin:0 0 4px; font-size:22px; font-weight:650; }
header p { margin:0; color:#c9d6e3; font-size:13px; }
main { max-width:1180px; margin:0 auto; padding:20px 32px 40px; }
section { background:var(--card); border:1px solid var(--line); border-radius:8px;
          padding:16px 20px; margin:0 0 20px; }
h2 { font-size:17px; margin:0 0 12px; }
.cards { display:flex; gap:12px; flex-wrap:wrap; margin:0 0 20px; }
.card { flex:1 1 150px; background:var(--card); border:1px solid var(--line); border-radius:8px;
        padding:10px 14px; }
.card b { display:block; font-size:24px; }
.card span { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.legend { display:flex; flex-wrap:wrap; gap:6px 18px; margin:8px 0 0; padding:0; list-style:none;
          font-size:13px; color:var(--muted); }
.legend i { display:inline-block; width:12px; height:12px; border-radius:2px; margin-right:6px;
            vertical-align:-1px; }
svg text { font:11px system-ui,"DejaVu Sans",sans-serif; fill:#5b6675; }
svg .axis { stroke:#9aa4b1; } svg .grid { stroke:#eceff3; }
table { width:100%; border-collapse:collapse; font-size:13.5px; }
th { text-align:left; font-weight:600; color:var(--muted); border-bottom:2px solid var(--line);
     padding:6px 8px; white-space:nowrap; }
td { border-bottom:1px solid var(--line); padding:7px 8px; vertical-align:top; }
td.num { text-align:right; font-variant-numeric:tabular-nums; }
#events td:last-child { width:30%; min-width:240px; }
.date { white-space:nowrap; font-variant-numeric:tabular-nums; }
.ev { color:var(--muted); font-size:12.5px; font-style:italic; margin-top:3px; }
.badge { display:inline-block; border-radius:10px; padding:0 8px; font-size:12px; margin:0 4px 2px 0;
         border:1px solid var(--line); background:#f2f4f7; white-space:nowrap; }
.badge.ok { background:#e3f4ec; border-color:#9fd8bd; color:#0c5a38; }
.badge.warn { background:#fff4de; border-color:#f1cf8b; color:#7a4d00; }
.badge.bad { background:#fde8e8; border-color:#f2a9a9; color:#8a1c1c; }
.badge.info { background:#e6f0fb; border-color:#a9c8ee; color:#174a7c; }
.lvl { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:6px; }
a { color:#0b5cad; text-decoration:none; } a:hover { text-decoration:underline; }
.badge.kind { background:#fdf0dc; border-color:#e6b563; color:#6b4200; }
.filter { display:flex; flex-wrap:wrap; gap:6px; margin:0 0 10px; font-size:13px; }
.filter input { position:absolute; opacity:0; }
.filter label { border:1px solid var(--line); border-radius:14px; padding:2px 10px; cursor:pointer; }
.filter input:checked + label { background:#14324f; border-color:#14324f; color:#fff; }
.filter input:focus-visible + label { outline:2px solid #0b5cad; outline-offset:1px; }
.first { font-weight:600; } .muted { color:var(--muted); } .small { font-size:12px; }
.err { color:#8a1c1c; font-size:12.5px; }
details { margin-top:8px; font-size:13px; } summary { cursor:pointer; color:var(--muted); }
footer { color:var(--muted); font-size:12px; text-align:center; padding:0 0 24px; }
"""


def _when(value: Any) -> str:
    """Return a timestamp as '2025-12-24 13:10' (UTC), or '–' when missing."""
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _link(url: Any, text: str, cls: str = "") -> str:
    """Return an <a> to an http(s) URL, or the escaped text alone for any other scheme."""
    label = escape(text)
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return label  # never a javascript: or data: link from a scraped page
    attr = f' class="{cls}"' if cls else ""
    return f'<a{attr} href="{escape(url, quote=True)}" rel="noreferrer noopener">{label}</a>'


def timeline_svg(
    months: list[MonthCount],
    groups: tuple[tuple[str, str, str], ...] = LEVEL_GROUPS,
    chart_id: str = "timeline",
    caption: str = "Meetings per month, coloured by the most senior participant",
) -> str:
    """Return an inline SVG stacked bar chart of meetings per month, coloured by group."""
    width, height = 1080, 280
    left, right, top, bottom = 44, 12, 14, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((m.total for m in months), default=0)
    # Integer ticks: 1, 2 or 5 times a power of ten, about four of them.
    raw_step = max(peak / 4, 1)
    power = 10 ** math.floor(math.log10(raw_step))
    step = next(p * power for p in (1, 2, 5, 10) if p * power >= raw_step)
    top_value = max(step, math.ceil(peak / step) * step)
    parts = [
        (f'<svg id="{chart_id}" role="img" viewBox="0 0 {width} {height}" width="100%" '
         f'aria-labelledby="{chart_id}-title" xmlns="http://www.w3.org/2000/svg">'),
        f'<title id="{chart_id}-title">{escape(caption)}</title>',
    ]
    for tick in range(0, int(top_value) + 1, int(step)):
        y = top + plot_h - plot_h * tick / top_value
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" '
                     f'y2="{y:.1f}"/>')
        parts.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    count = max(len(months), 1)
    slot = plot_w / count
    bar_w = max(min(slot * 0.7, 48), 2)
    label_every = max(1, math.ceil(count / 18))  # about 18 labels fit under the axis
    labelled_year = 0
    for i, month in enumerate(months):
        x = left + slot * i + (slot - bar_w) / 2
        y = top + plot_h
        for key, label, colour in groups:
            n = month.by_group.get(key, 0)
            if not n:
                continue
            h = plot_h * n / top_value
            y -= h
            parts.append(
                f'<rect class="bar" data-month="{month.month:%Y-%m}" data-group="{key}" '
                f'x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{month.month:%B %Y}: {n} meeting{'s' if n != 1 else ''}, "
                f"{escape(label.lower())}</title></rect>"
            )
        if i % label_every == 0:
            cx = left + slot * i + slot / 2
            parts.append(f'<text x="{cx:.1f}" y="{top + plot_h + 16}" text-anchor="middle">'
                         f"{month.month:%b}</text>")
            # The year under the first labelled month of each year.
            if month.month.year != labelled_year:
                labelled_year = month.month.year
                parts.append(f'<text x="{cx:.1f}" y="{top + plot_h + 31}" '
                             f'text-anchor="middle">{month.month:%Y}</text>')
    parts.append(f'<line class="axis" x1="{left}" x2="{width - right}" y1="{top + plot_h}" '
                 f'y2="{top + plot_h}"/>')
    parts.append("</svg>")
    return "".join(parts)


def _legend(groups: tuple[tuple[str, str, str], ...] = LEVEL_GROUPS) -> str:
    """Return a chart legend as an HTML list."""
    items = "".join(
        f'<li><i style="background:{colour}"></i>{escape(label)}</li>'
        for _, label, colour in groups
    )
    return f'<ul class="legend">{items}</ul>'


def _month_table(
    months: list[MonthCount], groups: tuple[tuple[str, str, str], ...] = LEVEL_GROUPS
) -> str:
    """Return a chart's numbers as a collapsible table (for screen readers and copying)."""
    head = "".join(f"<th>{escape(label)}</th>" for _, label, _ in groups)
    rows = "".join(
        f"<tr><td class='date'>{m.month:%Y-%m}</td>"
        + "".join(f"<td class='num'>{m.by_group.get(k, 0)}</td>" for k, _, _ in groups)
        + f"<td class='num'>{m.total}</td></tr>"
        for m in months if m.total
    )
    return (f"<details><summary>Monthly numbers</summary><table><thead><tr><th>Month</th>{head}"
            f"<th>Total</th></tr></thead><tbody>{rows}</tbody></table></details>")


def _sources_cell(event: dict[str, Any]) -> str:
    """Return the sources of an event: the first report in bold, then the others, linked."""
    outlets = list(event.get("source_outlets") or [])
    urls = list(event.get("source_urls") or [])
    if not outlets:
        return '<span class="muted">–</span>'
    first = _link(urls[0] if urls else None, outlets[0], "first")
    reported = _when(event.get("first_reported_at"))
    parts = [f"{first}<div class='small muted'>first report, {reported}</div>"]
    title = event.get("first_source_title")
    if title:
        parts.append(f"<div class='small'>{escape(str(title))}</div>")
    # Each further outlet once, linked to its first report of the event, with its count.
    later: dict[str, tuple[str | None, int]] = {}
    for outlet, url in zip(outlets[1:], urls[1:], strict=False):
        first_url, n = later.get(outlet, (url, 0))
        later[outlet] = (first_url, n + 1)
    others = [_link(u, f"{o} ×{n}" if n > 1 else o) for o, (u, n) in later.items()]
    if others:
        shown = others[:MAX_SOURCES_SHOWN]
        more = len(others) - len(shown)
        parts.append("<div class='small'>also: " + ", ".join(shown)
                     + (f" and {more} more" if more else "") + "</div>")
    return "".join(parts)


def _event_row(event: dict[str, Any]) -> str:
    """Return one <tr> of the latest-events table."""
    colour = {k: c for k, _, c in LEVEL_GROUPS}[level_group(event.get("highest_level"))]
    badges = [f"<span class='badge'>{escape(str(event['event_type']))}</span>"]
    status = str(event["status"])
    badges.append(f"<span class='badge {'ok' if status == 'occurred' else 'warn'}'>"
                  f"{escape(status)}</span>")
    kind = str(event.get("kind") or "state")
    if kind != "state":
        badges.append(f"<span class='badge kind'>{escape(KIND_LABELS.get(kind, kind))}</span>")
    if event.get("is_new"):
        badges.append("<span class='badge info'>new</span>")
    if event.get("alerted"):
        badges.append("<span class='badge'>alerted</span>")
    evidence = event.get("evidence")
    evidence_html = f"<div class='ev'>“{escape(str(evidence))}”</div>" if evidence else ""
    return (
        f"<tr class='event' data-kind='{escape(kind, quote=True)}'>"
        f"<td class='date'>{escape(str(event.get('event_date_text') or 'undated'))}</td>"
        f"<td>{''.join(badges)}</td>"
        f"<td><span class='lvl' style='background:{colour}'></span>"
        f"{escape(str(event.get('participants') or '–'))}{evidence_html}</td>"
        f"<td>{escape(str(event.get('place') or '–'))}</td>"
        f"<td class='num'>{event.get('source_count') or 0}</td>"
        f"<td>{_sources_cell(event)}</td></tr>"
    )


def _feed_row(feed: dict[str, Any]) -> str:
    """Return one <tr> of the feed health table."""
    status = str(feed["status"])
    name = feed.get("feed_title") or feed.get("feed_name") or feed["feed_url"]
    problems: list[str] = []
    if feed.get("last_error_kind"):
        kind = str(feed["last_error_kind"])
        if feed.get("last_http_status"):
            kind += f" {feed['last_http_status']}"
        failures = feed.get("consecutive_failures") or 0
        if failures > 1:
            kind += f" ({failures} polls in a row)"
        problems.append(kind)
    if feed.get("moved_to"):
        problems.append(f"moved to {feed['moved_to']} (update the config)")
    return (
        "<tr class='feed'>"
        f"<td>{_link(feed['feed_url'], str(name))}<div class='small muted'>"
        f"{escape(str(feed['feed_url']))}</div></td>"
        f"<td><span class='badge {_STATUS_CLASS.get(status, '')}'>{escape(status)}</span></td>"
        f"<td class='date'>{_when(feed.get('last_success_at'))}</td>"
        f"<td class='date'>{_when(feed.get('last_new_item_at'))}</td>"
        f"<td class='num'>{feed.get('items_seen') or 0}</td>"
        f"<td class='num'>{feed.get('relevant_articles') or 0}</td>"
        f"<td class='num'>{feed.get('events_reported') or 0}</td>"
        f"<td class='err'>{escape('; '.join(problems))}</td></tr>"
    )


def _kind_filter(events: list[dict[str, Any]]) -> tuple[str, str]:
    """Return (CSS rules, HTML radio buttons) that filter the events table by kind without a
    script (the page's policy forbids one); empty when the events are of one kind only."""
    present = [k for k in KINDS if any((e.get("kind") or "state") == k for e in events)]
    if len(present) < 2:
        return "", ""
    labels = {key: label for key, label, _ in KIND_GROUPS}
    buttons = [('<input type="radio" name="kind" id="kind-all" checked>'
                '<label for="kind-all">All kinds</label>')]
    rules = []
    for kind in present:
        buttons.append(f'<input type="radio" name="kind" id="kind-{kind}">'
                       f'<label for="kind-{kind}">{escape(labels[kind])}</label>')
        rules.append(f'#events:has(#kind-{kind}:checked) tr.event:not([data-kind="{kind}"]) '
                     "{ display:none; }")
    html = ('<div class="filter" role="radiogroup" aria-label="Show events of one kind">'
            + "".join(buttons) + "</div>")
    return "\n".join(rules), html


def render_report(data: ReportData) -> str:
    """Return the report as one self-contained HTML document."""
    meetings = sum(m.total for m in data.months) + data.year_only
    new = sum(1 for e in data.events if e.get("is_new"))
    healthy = sum(1 for f in data.feeds if f["status"] == "ok")
    failing = sum(1 for f in data.feeds if f["status"] in ("failing", "gone"))
    cards = (
        f"<div class='card'><b>{meetings}</b><span>meetings held</span></div>"
        f"<div class='card'><b>{len(data.events)}</b><span>events listed</span></div>"
        f"<div class='card'><b>{new}</b><span>new when reported</span></div>"
        f"<div class='card'><b>{healthy}/{len(data.feeds)}</b><span>feeds healthy</span></div>"
        f"<div class='card'><b>{failing}</b><span>feeds failing or gone</span></div>"
    )
    year_note = (
        f"<p class='small muted'>{data.year_only} meeting(s) dated only to the year are counted "
        "above but not charted.</p>" if data.year_only else ""
    )
    events = "".join(_event_row(e) for e in data.events) or (
        "<tr><td colspan='6' class='muted'>No event in this period.</td></tr>"
    )
    feeds = "".join(_feed_row(f) for f in data.feeds) or (
        "<tr><td colspan='8' class='muted'>No feed polled yet.</td></tr>"
    )
    period = f"{data.since:%d %b %Y} – {data.until:%d %b %Y}"
    filter_css, filter_html = _kind_filter(data.events)
    limited = (" · only " + ", ".join(KIND_LABELS[k] for k in data.kinds)) if data.kinds else ""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{escape(data.title)} — newsmon report, {escape(period)}</title>
<style>{_CSS}{filter_css}</style>
</head>
<body>
<header>
<h1>{escape(data.title)}</h1>
<p>newsmon report · {escape(period)}{escape(limited)} · generated {data.generated_at:%Y-%m-%d %H:%M} UTC
{(' · ' + escape(data.source_note)) if data.source_note else ''}</p>
</header>
<main>
<div class="cards">{cards}</div>
<section id="chart">
<h2>Meetings per month</h2>
{timeline_svg(data.months)}
{_legend()}
{year_note}
{_month_table(data.months)}
<p class="small muted">In-person meetings that took place (event type meeting, status occurred),
by event date, coloured by the most senior participant. Calls, visits without talks and planned
meetings are listed below but not charted.</p>
</section>
<section id="kinds">
<h2>Meetings per month by kind</h2>
{timeline_svg(data.months_by_kind, KIND_GROUPS, "kind-timeline",
              "Meetings per month, coloured by the kind of actor")}
{_legend(KIND_GROUPS)}
{_month_table(data.months_by_kind, KIND_GROUPS)}
<p class="small muted">The same meetings by kind: a meeting with any participant outside the
state (parliament, party, opposition, armed group, civil society, former officials) counts as
that kind (docs/watchlists.md).</p>
</section>
<section id="events">
<h2>Latest events</h2>
{filter_html}
<table>
<thead><tr><th>Date</th><th>Event</th><th>Participants and evidence</th><th>Place</th>
<th>Reports</th><th>Sources</th></tr></thead>
<tbody>{events}</tbody>
</table>
</section>
<section id="feeds">
<h2>Feed health</h2>
<table>
<thead><tr><th>Feed</th><th>Status</th><th>Last success (UTC)</th><th>Last new item (UTC)</th>
<th>Items</th><th>Relevant</th><th>Events</th><th>Problem</th></tr></thead>
<tbody>{feeds}</tbody>
</table>
</section>
</main>
<footer>Dates are event dates; times are UTC. Generated by newsmon from the analyst views
(docs/schema.md).</footer>
</body>
</html>
"""
