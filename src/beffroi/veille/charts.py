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

from beffroi.core.charts import PALETTE, TEXT_COLOUR, bar_chart, legend

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


#: Longest account name written on the network picture (the table has the whole name).
LABEL_CHARACTERS = 20


@dataclass
class Network:
    """A campaign's network as a picture and as the same numbers in tables: per account, how
    many accounts it acted with and how many co-actions; per pair, their co-actions."""

    svg: SafeString
    accounts: list[tuple[str, int, int]]
    pairs: list[tuple[str, str, int]]


def network_edges(
    nodes: Sequence[str], edges: Sequence[Sequence[Any]], *, limit: int = 200
) -> list[tuple[str, str, int]]:
    """The pairs of accounts that acted together and how often (``[a, b, weight]`` edges);
    a copy campaign stores none, so every pair of its first ``limit`` accounts posted the
    same text once. The GraphML export and the picture both draw these, so they agree."""
    known = set(nodes)
    pairs: dict[tuple[str, str], int] = {}
    for edge in edges:
        if len(edge) >= 2 and edge[0] in known and edge[1] in known and edge[0] != edge[1]:
            a, b = sorted((str(edge[0]), str(edge[1])))
            weight = int(float(edge[2])) if len(edge) > 2 else 1
            pairs[(a, b)] = max(1, weight)
    if not pairs:
        ordered = list(dict.fromkeys(nodes))[:limit]
        for n, a in enumerate(ordered):
            for b in ordered[n + 1 :]:
                first, second = sorted((a, b))
                pairs[(first, second)] = 1
    return sorted(((a, b, w) for (a, b), w in pairs.items()), key=lambda e: (-e[2], e[0], e[1]))


def _short(handle: str) -> str:
    return handle if len(handle) <= LABEL_CHARACTERS else handle[: LABEL_CHARACTERS - 1] + "…"


def network_chart(
    nodes: Sequence[str],
    edges: Sequence[Sequence[Any]],
    *,
    title: str,
    description: str,
    size: int = 600,
) -> Network:
    """Accounts as labelled dots joined by lines as thick as their co-actions, with the
    numbers as tables (a picture alone tells a screen reader nothing).

    A dense network (a copy campaign: every account with every other) stands on a circle,
    where each line can be told apart; a sparse one is laid out by networkx's spring layout
    with a fixed seed (the same picture every time). Labels sit outside their dot, away from
    the centre, on a white halo so that lines never hide them.
    """
    import networkx as nx

    pairs = network_edges(nodes, edges)
    graph = nx.Graph()
    graph.add_nodes_from(dict.fromkeys(nodes))
    for a, b, weight in pairs:
        graph.add_edge(a, b, weight=float(weight))
    count = graph.number_of_nodes()
    possible = count * (count - 1) / 2
    if graph.number_of_edges() and graph.number_of_edges() < 0.5 * possible:
        positions = nx.spring_layout(graph, seed=7)
        # Spring layouts leave the unit square unevenly filled: stretch them to the frame.
        reach = max((max(abs(float(x)), abs(float(y))) for x, y in positions.values()), default=1)
        positions = {
            n: (float(x) / (reach or 1), float(y) / (reach or 1)) for n, (x, y) in positions.items()
        }
    else:
        positions = {
            node: (
                math.cos(2 * math.pi * n / max(1, count) - math.pi / 2),
                math.sin(2 * math.pi * n / max(1, count) - math.pi / 2),
            )
            for n, node in enumerate(graph.nodes)
        }
    # Room for a label of LABEL_CHARACTERS at 12 px beside the outermost dots.
    margin = 160
    scale = (size - 2 * margin) / 2
    centre = size / 2

    def at(node: str) -> tuple[float, float]:
        x, y = positions[node]
        return round(centre + x * scale, 1), round(centre + y * scale, 1)

    heaviest = max((weight for *_, weight in pairs), default=1)
    # Many lines on top of each other would make one dark mass: the denser, the lighter.
    opacity = 0.75 if len(pairs) <= 30 else 0.45
    lines = [
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-opacity="{}" '
            'stroke-width="{}"><title>@{} – @{}: {}</title></line>',
            *at(a),
            *at(b),
            PALETTE[0],
            opacity,
            round(1 + 5 * (weight - 1) / max(1, heaviest - 1), 1) if heaviest > 1 else 1.5,
            a,
            b,
            weight,
        )
        for a, b, weight in pairs
    ]
    dots = []
    for node in graph.nodes:
        x, y = at(node)
        dx, dy = x - centre, y - centre
        length = math.hypot(dx, dy) or 1.0
        lx, ly = x + 12 * dx / length, y + 12 * dy / length + 4
        anchor = "middle" if abs(dx) < 0.2 * scale else ("start" if dx > 0 else "end")
        dots.append(
            format_html(
                '<g><circle cx="{}" cy="{}" r="6" fill="{}" stroke="#fff" stroke-width="1.5"/>'
                '<text x="{}" y="{}" font-size="12" fill="{}" text-anchor="{}" '
                'paint-order="stroke" stroke="#fff" stroke-width="4" stroke-linejoin="round">'
                "@{}</text></g>",
                x,
                y,
                PALETTE[0],
                round(lx, 1),
                round(ly, 1),
                TEXT_COLOUR,
                anchor,
                _short(node),
            )
        )
    svg = format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="net-title net-desc" '
        'viewBox="0 0 {} {}" width="100%" class="network"><title id="net-title">{}</title>'
        '<desc id="net-desc">{}</desc>{}{}</svg>',
        size,
        size,
        title,
        description,
        SafeString("".join(lines)),
        SafeString("".join(dots)),
    )
    links: dict[str, list[int]] = {node: [0, 0] for node in graph.nodes}
    for a, b, weight in pairs:
        for node in (a, b):
            links[node][0] += 1
            links[node][1] += weight
    accounts = sorted(
        ((node, degree, strength) for node, (degree, strength) in links.items()),
        key=lambda row: (-row[2], row[0]),
    )
    return Network(svg, accounts, pairs)


def network_svg(
    nodes: Sequence[str],
    edges: Sequence[Sequence[Any]],
    *,
    title: str,
    description: str,
    size: int = 600,
) -> SafeString:
    """The picture of :func:`network_chart` alone."""
    return network_chart(nodes, edges, title=title, description=description, size=size).svg
