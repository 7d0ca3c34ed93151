"""The veille's charts: counts per day of several series, and a campaign's network."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString

from beffroi.core.charts import AXIS_COLOUR, PALETTE, TEXT_COLOUR, bar_chart, legend

#: Series beyond this many are summed as "others" so that the chart stays readable.
MAX_SERIES = 8


@dataclass
class DailyChart:
    """A stacked bar chart and the same numbers as a table."""

    svg: SafeString
    legend: SafeString
    names: list[str]
    rows: list[tuple[date, list[int], int]]
    totals: list[int]
    total: int


def days_back(days: int, today: date | None = None) -> list[date]:
    today = today or timezone.localdate()
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


def daily_chart(
    moments: Mapping[str, Iterable[datetime]],
    days: list[date],
    *,
    title: str,
    description: str,
    id_prefix: str,
    others_label: str,
    value_label: str,
) -> DailyChart:
    """Counts per local day of each named series of moments (the busiest first)."""
    index = {day: n for n, day in enumerate(days)}
    counts: dict[str, list[int]] = {}
    for name, values in moments.items():
        row = [0] * len(days)
        for moment in values:
            position = index.get(timezone.localtime(moment).date())
            if position is not None:
                row[position] += 1
        counts[name] = row
    ordered = sorted(counts.items(), key=lambda pair: -sum(pair[1]))
    series: dict[str, list[int]] = dict(ordered[: MAX_SERIES - 1])
    rest = ordered[MAX_SERIES - 1 :]
    if len(rest) == 1:
        series[rest[0][0]] = rest[0][1]
    elif rest:
        series[others_label] = [sum(values) for values in zip(*(r[1] for r in rest), strict=True)]
    series = {name: values for name, values in series.items() if sum(values)}
    labels = [date_format(day, "j N") for day in days]
    names = list(series)
    rows = [
        (day, [series[name][n] for name in names], sum(series[name][n] for name in names))
        for n, day in enumerate(days)
    ]
    totals = [sum(values) for values in series.values()]
    svg = (
        bar_chart(
            series,
            labels,
            title=title,
            description=description,
            id_prefix=id_prefix,
            label_every=max(1, len(days) // 8),
            value_label=value_label,
            width=960,
            height=260,
        )
        if series
        else SafeString("")
    )
    return DailyChart(
        svg, legend(series, id_prefix=f"{id_prefix}-legend"), names, rows, totals, sum(totals)
    )


def network_svg(
    nodes: Sequence[str],
    edges: Sequence[Sequence[Any]],
    *,
    title: str,
    description: str,
    size: int = 520,
) -> SafeString:
    """Accounts as labelled dots, joined by lines as thick as their co-actions.

    Laid out by networkx's spring layout with a fixed seed (the same picture every time);
    without edges (a copy-paste campaign) the accounts stand on a circle.
    """
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(nodes)
    for edge in edges:
        if len(edge) >= 2 and edge[0] in graph and edge[1] in graph:
            graph.add_edge(edge[0], edge[1], weight=float(edge[2]) if len(edge) > 2 else 1.0)
    if graph.number_of_edges():
        positions = nx.spring_layout(graph, seed=7)
    else:
        count = max(1, len(nodes))
        positions = {
            node: (math.cos(2 * math.pi * n / count), math.sin(2 * math.pi * n / count))
            for n, node in enumerate(nodes)
        }
    margin = 90
    scale = (size - 2 * margin) / 2

    def at(node: str) -> tuple[float, float]:
        x, y = positions[node]
        return round(size / 2 + float(x) * scale, 1), round(size / 2 + float(y) * scale, 1)

    heaviest = max((data.get("weight", 1.0) for *_, data in graph.edges(data=True)), default=1.0)
    lines = [
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="{}"/>',
            *at(a),
            *at(b),
            AXIS_COLOUR,
            round(1 + 4 * data.get("weight", 1.0) / heaviest, 1),
        )
        for a, b, data in graph.edges(data=True)
    ]
    dots = [
        format_html(
            '<g><circle cx="{}" cy="{}" r="7" fill="{}"/><text x="{}" y="{}" font-size="11" '
            'fill="{}" text-anchor="middle">@{}</text></g>',
            *at(node),
            PALETTE[0],
            at(node)[0],
            at(node)[1] - 11,
            TEXT_COLOUR,
            node,
        )
        for node in graph.nodes
    ]
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="net-title net-desc" '
        'viewBox="0 0 {} {}" width="{}" height="{}" class="network"><title id="net-title">{}</title>'
        '<desc id="net-desc">{}</desc>{}{}</svg>',
        size,
        size,
        size,
        size,
        title,
        description,
        SafeString("".join(lines)),
        SafeString("".join(dots)),
    )
