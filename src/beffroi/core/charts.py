"""Small charts drawn as inline SVG on the server: no JavaScript, nothing from a CDN.

Every piece of text that reaches the markup (series names, labels, titles) goes through
:func:`django.utils.html.format_html`, so a hostile platform name is shown, never run.
Series are told apart by colour *and* by a fill pattern (solid, stripes, dots…), and each
colour has a contrast of at least 3:1 on white (WCAG 1.4.11); stacked segments are separated
by a white line. Pages show the same numbers as a real table next to the chart.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

#: Fill colours, each at least 3:1 against white (the darkest first).
PALETTE: tuple[str, ...] = (
    "#1b4fbf",  # blue, 7.2:1
    "#b34700",  # orange, 5.5:1
    "#146c2e",  # green, 6.5:1
    "#7b2f9e",  # purple, 7.7:1
    "#a1182a",  # red, 7.8:1
    "#00707a",  # teal, 5.8:1
    "#4a5565",  # slate, 7.6:1
    "#7a5c00",  # ochre, 6.2:1
)

#: Pattern drawn in white over the colour, one per series (the first is plain).
PATTERNS: tuple[str, ...] = (
    "solid",
    "stripes",
    "dots",
    "horizontal",
    "crosshatch",
    "vertical",
    "back-stripes",
    "grid",
)

GRID_COLOUR = "#c9d0da"
AXIS_COLOUR = "#8592a3"  # 3.2:1 on white
TEXT_COLOUR = "#4a5565"  # 7.6:1 on white


@dataclass(frozen=True)
class Style:
    """How series number ``index`` is filled."""

    colour: str
    pattern: str


def series_style(index: int) -> Style:
    """Colour and pattern of the ``index``-th series; both repeat only after 8 and 8×8."""
    colour = PALETTE[index % len(PALETTE)]
    pattern = PATTERNS[(index + index // len(PALETTE)) % len(PATTERNS)]
    return Style(colour, pattern)


def nice_ticks(maximum: int, count: int = 4) -> list[int]:
    """Round, evenly spaced tick values from 0 to at least ``maximum`` (about ``count`` steps).

    >>> nice_ticks(0)
    [0, 1]
    >>> nice_ticks(7)
    [0, 2, 4, 6, 8]
    >>> nice_ticks(130)
    [0, 50, 100, 150]
    """
    if maximum <= 0:
        return [0, 1]
    raw = maximum / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = magnitude
    for factor in (1, 2, 5, 10):
        step = max(1, int(factor * magnitude))
        if step >= raw:
            break
    top = step * math.ceil(maximum / step)
    return list(range(0, top + 1, step))


def _number(value: float) -> str:
    """A coordinate for an attribute: one decimal at most, no "-0"."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text in {"", "-0"} else text


def _join(parts: Sequence[SafeString]) -> SafeString:
    return format_html_join("", "{}", ((part,) for part in parts))


def pattern_def(pattern_id: str, style: Style) -> SafeString:
    """An SVG ``<pattern>`` filling with ``style``'s colour and white pattern."""
    size = 6
    base = format_html('<rect width="{}" height="{}" fill="{}"/>', size, size, style.colour)
    line = '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ffffff" stroke-width="{}"/>'
    shapes: list[SafeString] = [base]
    transform = ""
    if style.pattern in {"stripes", "back-stripes", "crosshatch"}:
        transform = "rotate(45)" if style.pattern != "back-stripes" else "rotate(-45)"
        shapes.append(format_html(line, 3, 0, 3, size, 2))
        if style.pattern == "crosshatch":
            shapes.append(format_html(line, 0, 3, size, 3, 2))
    elif style.pattern == "dots":
        shapes.append(format_html('<circle cx="{}" cy="{}" r="{}" fill="#ffffff"/>', 3, 3, 1.4))
    elif style.pattern == "horizontal":
        shapes.append(format_html(line, 0, 3, size, 3, 1.6))
    elif style.pattern == "vertical":
        shapes.append(format_html(line, 3, 0, 3, size, 1.6))
    elif style.pattern == "grid":
        shapes.append(format_html(line, 0, 3, size, 3, 1))
        shapes.append(format_html(line, 3, 0, 3, size, 1))
    transform_attr = format_html(' patternTransform="{}"', transform) if transform else ""
    return format_html(
        '<pattern id="{}" patternUnits="userSpaceOnUse" width="{}" height="{}"{}>{}</pattern>',
        pattern_id,
        size,
        size,
        transform_attr,
        _join(shapes),
    )


def _check(series: Mapping[str, Sequence[int]], labels: Sequence[str]) -> None:
    for name, values in series.items():
        if len(values) != len(labels):
            raise ValueError(f"Series {name!r} has {len(values)} values for {len(labels)} labels.")
        if any(value < 0 for value in values):
            raise ValueError(f"Series {name!r} has a negative value.")


def bar_chart(
    series: Mapping[str, Sequence[int]],
    labels: Sequence[str],
    *,
    title: str,
    description: str = "",
    id_prefix: str = "chart",
    label_every: int = 1,
    value_label: str = "",
    width: int = 760,
    height: int = 260,
) -> SafeString:
    """A stacked bar chart as inline SVG markup, safe to put in a template.

    ``series`` maps a name to one value per label (in the same order as ``labels``); the
    series are stacked in the mapping's order, the first at the bottom. One x label in
    ``label_every`` is written, counted back from the last one (so the latest is always
    shown). ``title`` and ``description`` become the image's accessible name and
    description; ``value_label`` (the unit, e.g. "items") is written above the value axis;
    ``id_prefix`` must be unique in the page. ``width`` and ``height`` are the drawing's size
    in pixels (it shrinks with its container). Each segment carries a ``<title>``
    ("label — name: value") shown on hover.
    """
    _check(series, labels)
    count = len(labels)
    left, right, bottom = 44, 8, 30
    top = 26 if value_label else 12  # room for the unit above the value axis
    plot_w = width - left - right
    plot_h = height - top - bottom
    totals = [sum(values[i] for values in series.values()) for i in range(count)]
    ticks = nice_ticks(max(totals, default=0))
    scale_top = ticks[-1]

    def y_of(value: float) -> float:
        return top + plot_h - (value / scale_top) * plot_h

    title_id = f"{id_prefix}-title"
    desc_id = f"{id_prefix}-desc"
    parts: list[SafeString] = [format_html('<title id="{}">{}</title>', title_id, title)]
    if description:
        parts.append(format_html('<desc id="{}">{}</desc>', desc_id, description))

    styles = {name: series_style(index) for index, name in enumerate(series)}
    pattern_ids = {name: f"{id_prefix}-fill-{index}" for index, name in enumerate(series)}
    parts.append(
        format_html(
            "<defs>{}</defs>",
            _join([pattern_def(pattern_ids[name], styles[name]) for name in series]),
        )
    )

    # Horizontal grid lines and their values.
    grid: list[SafeString] = []
    for tick in ticks:
        y = _number(y_of(tick))
        grid.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1"/>',
                left,
                y,
                left + plot_w,
                y,
                AXIS_COLOUR if tick == 0 else GRID_COLOUR,
            )
        )
        grid.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end" dominant-baseline="middle">{}</text>',
                left - 6,
                y,
                tick,
            )
        )
    if value_label:
        grid.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="start" class="chart-unit">{}</text>',
                0,
                12,
                value_label,
            )
        )
    parts.append(format_html('<g class="chart-grid" fill="{}">{}</g>', TEXT_COLOUR, _join(grid)))

    # The stacked bars.
    slot = plot_w / count if count else plot_w
    bar_w = max(1.0, slot * 0.72)
    bars: list[SafeString] = []
    for i, label in enumerate(labels):
        x = left + i * slot + (slot - bar_w) / 2
        base = 0
        for name, values in series.items():
            value = values[i]
            if value <= 0:
                continue
            y_top = y_of(base + value)
            bars.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="url(#{})" '
                    'stroke="#ffffff" stroke-width="1"><title>{} — {}: {}</title></rect>',
                    _number(x),
                    _number(y_top),
                    _number(bar_w),
                    _number(y_of(base) - y_top),
                    pattern_ids[name],
                    label,
                    name,
                    value,
                )
            )
            base += value
    parts.append(format_html('<g class="chart-bars">{}</g>', _join(bars)))

    # X labels, counted back from the last one.
    step = max(1, label_every)
    x_labels: list[SafeString] = []
    for i, label in enumerate(labels):
        if (count - 1 - i) % step:
            continue
        x_labels.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle">{}</text>',
                _number(left + i * slot + slot / 2),
                height - 10,
                label,
            )
        )
    parts.append(
        format_html('<g class="chart-labels" fill="{}">{}</g>', TEXT_COLOUR, _join(x_labels))
    )

    labelled_by = f"{title_id} {desc_id}" if description else title_id
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        'aria-labelledby="{}" viewBox="0 0 {} {}" width="{}" height="{}" '
        'preserveAspectRatio="xMinYMin meet" font-size="12">{}</svg>',
        labelled_by,
        width,
        height,
        width,
        height,
        _join(parts),
    )


def legend(
    series: Mapping[str, Sequence[int]], *, id_prefix: str = "legend", totals: bool = True
) -> SafeString:
    """The chart's key as an HTML list: a swatch (same colour and pattern), the name, the total.

    ``id_prefix`` must differ from the chart's so that the swatches' patterns have ids of their
    own. The swatches are decorative; the names and totals are text.
    """
    entries: list[SafeString] = []
    for index, (name, values) in enumerate(series.items()):
        pattern_id = f"{id_prefix}-fill-{index}"
        swatch = format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" class="chart-swatch" aria-hidden="true" focusable="false" width="16" '
            'height="16" viewBox="0 0 16 16"><defs>{}</defs>'
            '<rect x="0.5" y="0.5" width="15" height="15" fill="url(#{})" stroke="{}"/></svg>',
            pattern_def(pattern_id, series_style(index)),
            pattern_id,
            AXIS_COLOUR,
        )
        total = format_html(' <span class="chart-total">{}</span>', sum(values)) if totals else ""
        entries.append(format_html("<li>{} <span>{}</span>{}</li>", swatch, name, total))
    return format_html('<ul class="chart-legend">{}</ul>', _join(entries))


def meter_bar(value: int, maximum: int, *, width: int = 120, height: int = 10) -> SafeString:
    """A small decorative horizontal bar (``value`` out of ``maximum``), hidden from screen readers.

    The number itself must be written next to it as text.
    """
    share = 0.0 if maximum <= 0 else max(0.0, min(1.0, value / maximum))
    filled = _number(width * share)
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="meter-bar" aria-hidden="true" focusable="false" width="{}" height="{}" '
        'viewBox="0 0 {} {}"><rect width="{}" height="{}" fill="#e6eefc" stroke="{}"/>'
        '<rect width="{}" height="{}" fill="{}"/></svg>',
        width,
        height,
        width,
        height,
        width,
        height,
        AXIS_COLOUR,
        filled,
        height,
        PALETTE[0],
    )
