"""Server-rendered SVG timeline of a place: one line per space, one column per month.

Occupied stretches are bars, vacant stretches a hatched red band, days outside a space's
validity are greyed. Colours are presentation attributes, so a page's CSS on the ``tl-*``
classes overrides them. Pure Python, no Django: the view builds the rows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

from cascade.places.vacancy import (
    Interval,
    intersect,
    merge_intervals,
    split_by_month,
    subtract_intervals,
)

LABEL_WIDTH = 220
HEADER_HEIGHT = 28
ROW_HEIGHT = 32
BAR_MARGIN = 5
RIGHT_PADDING = 8
CHAR_WIDTH = 6.5  # rough advance of an 11px sans-serif glyph, to truncate labels

MONTHS = {
    "fr": (
        "janv.",
        "févr.",
        "mars",
        "avr.",
        "mai",
        "juin",
        "juil.",
        "août",
        "sept.",
        "oct.",
        "nov.",
        "déc.",
    ),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}

WORDS = {
    "fr": {
        "aria": "Frise d’occupation du {start} au {end}",
        "occupied": "{label} — du {start} au {end}",
        "vacant": "Vacant du {start} au {end} ({days})",
        "invalid": "Hors période de validité du {start} au {end}",
        "today": "Aujourd’hui, {day}",
        "day": "jour",
        "days": "jours",
    },
    "en": {
        "aria": "Occupancy timeline from {start} to {end}",
        "occupied": "{label} — from {start} to {end}",
        "vacant": "Vacant from {start} to {end} ({days})",
        "invalid": "Outside validity from {start} to {end}",
        "today": "Today, {day}",
        "day": "day",
        "days": "days",
    },
}

COLOURS = {"occupied": "#3563c9", "vacant": "#fde2e2", "hatch": "#e05263", "invalid": "#e5e7eb"}
SAFE_SCHEMES = {"", "http", "https", "mailto"}

# Characters XML 1.0 forbids even escaped; a pasted label must not break the page.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class TimelineBar:
    """An occupied stretch ``[start, end)`` of a space."""

    start: date
    end: date
    label: str
    href: str | None = None
    kind: str = "occupied"


@dataclass(frozen=True)
class TimelineRow:
    """A space: its labels, its validity (``valid_until`` exclusive) and its bars."""

    label: str
    sublabel: str = ""
    valid_from: date | None = None
    valid_until: date | None = None
    bars: Sequence[TimelineBar] = field(default_factory=tuple)


def _text(value: str) -> str:
    return escape(_XML_INVALID.sub("", value))


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _attr(value: str | float) -> str:
    text = value if isinstance(value, str) else _number(value)
    return quoteattr(_XML_INVALID.sub("", text))


def _element(tag: str, attrs: dict[str, str | float], *children: str) -> str:
    rendered = "".join(f" {name}={_attr(value)}" for name, value in attrs.items())
    if not children:
        return f"<{tag}{rendered}/>"
    return f"<{tag}{rendered}>{''.join(children)}</{tag}>"


def _title(text: str) -> str:
    return f"<title>{_text(text)}</title>"


def _day(value: date) -> str:
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def _last_day(end: date) -> str:
    """The inclusive last day of a half-open period, as the interface shows it."""
    return _day(end - timedelta(days=1))


def _fit(text: str, width: float) -> str:
    """Truncate a label to the pixels available, with an ellipsis."""
    room = int(width // CHAR_WIDTH)
    if len(text) <= room:
        return text
    return text[: room - 1] + "…" if room > 1 else ""


def _safe_href(href: str | None) -> str | None:
    """Keep links to pages only: a ``javascript:`` URL in a bar would run on click."""
    if not href:
        return None
    return href if urlsplit(href.strip()).scheme.lower() in SAFE_SCHEMES else None


def _kind_class(kind: str) -> str:
    return "tl-" + (re.sub(r"[^a-z0-9-]", "", kind.lower()) or "occupied")


class _Scale:
    """Maps days of the window to x coordinates."""

    def __init__(self, start: date, end: date, day_px: float) -> None:
        self.start, self.end, self.day_px = start, end, day_px

    def x(self, day: date) -> float:
        day = min(max(day, self.start), self.end)
        return LABEL_WIDTH + (day - self.start).days * self.day_px

    def width(self, interval: Interval) -> float:
        return self.x(interval[1]) - self.x(interval[0])


def _header(scale: _Scale, height: float, months: Sequence[str]) -> tuple[list[str], list[str]]:
    """Month names on top, and the month grid drawn later over the row backgrounds."""
    parts, grid = [], []
    for index, (first, stop) in enumerate(split_by_month((scale.start, scale.end))):
        x, width = scale.x(first), scale.width((first, stop))
        label = f"{months[first.month - 1]} {first.year}"
        parts.append(
            _element(
                "rect",
                {
                    "class": "tl-month",
                    "x": x,
                    "y": 0,
                    "width": width,
                    "height": HEADER_HEIGHT,
                    "fill": "#f3f4f6" if index % 2 else "#ffffff",
                },
            )
        )
        grid.append(
            _element(
                "line",
                {
                    "class": "tl-grid",
                    "x1": x,
                    "y1": 0,
                    "x2": x,
                    "y2": height,
                    "stroke": "#d1d5db",
                    "stroke-width": 1,
                },
            )
        )
        # A partial month at an edge may be too narrow for its name; the grid still shows it.
        if len(label) * CHAR_WIDTH + 6 <= width:
            parts.append(
                _element("text", {"class": "tl-month-label", "x": x + 4, "y": 18}, _text(label))
            )
    return parts, grid


def _lanes(bars: Sequence[TimelineBar]) -> list[tuple[TimelineBar, int]]:
    """Give overlapping bars separate lanes so none hides another."""
    lane_ends: list[date] = []
    placed = []
    for bar in sorted(bars, key=lambda b: (b.start, b.end)):
        lane = next((i for i, end in enumerate(lane_ends) if end <= bar.start), len(lane_ends))
        if lane == len(lane_ends):
            lane_ends.append(bar.end)
        else:
            lane_ends[lane] = bar.end
        placed.append((bar, lane))
    return placed


def _band(css: str, scale: _Scale, interval: Interval, top: float, fill: str, tip: str) -> str:
    return _element(
        "rect",
        {
            "class": css,
            "x": scale.x(interval[0]),
            "y": top + BAR_MARGIN,
            "width": scale.width(interval),
            "height": ROW_HEIGHT - 2 * BAR_MARGIN,
            "fill": fill,
        },
        _title(tip),
    )


def _bar(
    bar: TimelineBar, lane: int, lanes: int, scale: _Scale, top: float, words: dict[str, str]
) -> str:
    inner = ROW_HEIGHT - 2 * BAR_MARGIN
    height = inner / lanes
    x, width = scale.x(bar.start), scale.width((bar.start, bar.end))
    y = top + BAR_MARGIN + lane * height
    tip = words["occupied"].format(label=bar.label, start=_day(bar.start), end=_last_day(bar.end))
    shapes = [
        _title(tip),
        _element(
            "rect",
            {
                "class": f"tl-bar {_kind_class(bar.kind)}",
                "x": x,
                "y": y,
                "width": width,
                "height": max(height - 1, 1),
                "rx": 2,
                "fill": COLOURS["occupied"],
            },
        ),
    ]
    shown = _fit(bar.label, width - 6)
    if shown and height >= 10:
        shapes.append(
            _element(
                "text",
                {
                    "class": "tl-bar-label",
                    "x": x + 3,
                    "y": y + height / 2 + 4,
                    "fill": "#ffffff",
                    "font-size": 10,
                    "pointer-events": "none",
                },
                _text(shown),
            )
        )
    group = _element("g", {"class": "tl-occupancy"}, *shapes)
    href = _safe_href(bar.href)
    return _element("a", {"href": href}, group) if href else group


def _row_background(index: int, width: float) -> str:
    return _element(
        "rect",
        {
            "class": "tl-row-bg",
            "x": 0,
            "y": HEADER_HEIGHT + index * ROW_HEIGHT,
            "width": width,
            "height": ROW_HEIGHT,
            "fill": "#f9fafb" if index % 2 else "#ffffff",
        },
    )


def _row(row: TimelineRow, index: int, scale: _Scale, words: dict[str, str]) -> str:
    top = HEADER_HEIGHT + index * ROW_HEIGHT
    window = (scale.start, scale.end)
    valid = intersect((row.valid_from or date.min, row.valid_until or date.max), window)
    bars = [b for b in row.bars if intersect((b.start, b.end), window)]
    busy = merge_intervals((b.start, b.end) for b in bars)
    invalid = subtract_intervals(window, [valid] if valid else [])
    vacant = subtract_intervals(valid, busy) if valid else []

    full_label = f"{row.label} — {row.sublabel}" if row.sublabel else row.label
    parts = [
        _element(
            "g",
            {"class": "tl-label"},
            _title(full_label),
            _element(
                "text",
                {"x": 8, "y": top + 14, "font-weight": "600"},
                _text(_fit(row.label, LABEL_WIDTH - 16)),
            ),
            _element(
                "text",
                {"x": 8, "y": top + 27, "font-size": 10, "fill": "#6b7280"},
                _text(_fit(row.sublabel, LABEL_WIDTH - 16)),
            ),
        ),
    ]
    for interval in invalid:
        tip = words["invalid"].format(start=_day(interval[0]), end=_last_day(interval[1]))
        parts.append(_band("tl-invalid", scale, interval, top, COLOURS["invalid"], tip))
    for interval in vacant:
        days = (interval[1] - interval[0]).days
        tip = words["vacant"].format(
            start=_day(interval[0]),
            end=_last_day(interval[1]),
            days=f"{days} {words['day'] if days == 1 else words['days']}",
        )
        parts.append(_band("tl-vacant", scale, interval, top, "url(#tl-hatch)", tip))
    placed = _lanes(bars)
    lanes = max((lane for _, lane in placed), default=0) + 1
    parts.extend(_bar(bar, lane, lanes, scale, top, words) for bar, lane in placed)
    return _element("g", {"class": "tl-row"}, *parts)


def _today_line(scale: _Scale, today: date, height: float, words: dict[str, str]) -> str:
    x = scale.x(today) + scale.day_px / 2
    return _element(
        "line",
        {
            "class": "tl-today",
            "x1": x,
            "y1": 0,
            "x2": x,
            "y2": height,
            "stroke": "#dc2626",
            "stroke-width": 2,
        },
        _title(words["today"].format(day=_day(today))),
    )


def render_timeline_svg(
    rows: Sequence[TimelineRow],
    start: date,
    end: date,
    today: date | None = None,
    lang: str = "fr",
    *,
    day_px: float = 3,
) -> str:
    """Render the occupancy timeline of ``rows`` over ``[start, end)`` as an SVG string."""
    if end <= start:
        raise ValueError("La fin de la frise doit être postérieure à son début.")
    code = lang.lower().split("-")[0].split("_")[0]
    code = code if code in WORDS else "fr"
    words, months = WORDS[code], MONTHS[code]
    scale = _Scale(start, end, day_px)
    height = HEADER_HEIGHT + len(rows) * ROW_HEIGHT
    width = scale.x(end) + RIGHT_PADDING
    aria = words["aria"].format(start=_day(start), end=_last_day(end))
    hatch = _element(
        "pattern",
        {
            "id": "tl-hatch",
            "width": 6,
            "height": 6,
            "patternUnits": "userSpaceOnUse",
            "patternTransform": "rotate(45)",
        },
        _element("rect", {"width": 6, "height": 6, "fill": COLOURS["vacant"]}),
        _element(
            "line",
            {"x1": 0, "y1": 0, "x2": 0, "y2": 6, "stroke": COLOURS["hatch"], "stroke-width": 2},
        ),
    )
    months_header, grid = _header(scale, height, months)
    body = [_element("defs", {}, hatch), *months_header]
    body.extend(_row_background(index, width) for index in range(len(rows)))
    body.extend(grid)
    body.extend(_row(row, index, scale, words) for index, row in enumerate(rows))
    if today is not None and start <= today < end:
        body.append(_today_line(scale, today, height, words))
    return _element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "class": "tl-timeline",
            "role": "img",
            "aria-label": aria,
            "width": width,
            "height": height,
            "viewBox": f"0 0 {_number(width)} {height}",
            "font-family": "system-ui, sans-serif",
            "font-size": 12,
        },
        *body,
    )
