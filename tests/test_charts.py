"""The inline SVG charts: pure functions, escaped text, accessible markup."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

import pytest

from beffroi.core.charts import (
    PALETTE,
    PATTERNS,
    bar_chart,
    legend,
    meter_bar,
    nice_ticks,
    series_style,
)

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script>'


def parse(markup: str) -> ET.Element:
    """The markup as XML: it must be well formed to be valid inline SVG."""
    return ET.fromstring(str(markup))  # noqa: S314 (markup made by the tests)


def test_nice_ticks() -> None:
    assert nice_ticks(0) == [0, 1]
    assert nice_ticks(1) == [0, 1]
    assert nice_ticks(3) == [0, 1, 2, 3]
    assert nice_ticks(7) == [0, 2, 4, 6, 8]
    assert nice_ticks(130) == [0, 50, 100, 150]
    assert nice_ticks(1000) == [0, 500, 1000]
    for maximum in range(1, 500, 7):
        ticks = nice_ticks(maximum)
        assert ticks[0] == 0 and ticks[-1] >= maximum
        steps = {b - a for a, b in itertools.pairwise(ticks)}
        assert len(steps) == 1 and len(ticks) <= 7


def test_bar_chart_is_accessible_svg() -> None:
    markup = bar_chart(
        {"facebook": [1, 0, 4], "mastodon": [2, 3, 0]},
        ["1 mai", "2 mai", "3 mai"],
        title="Items per day",
        description="9 items.",
        id_prefix="c1",
    )
    root = parse(markup)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find(f"{SVG}title").text == "Items per day"
    assert root.find(f"{SVG}title").get("id") == "c1-title"
    assert root.find(f"{SVG}desc").text == "9 items."
    # One segment per non-zero value, each with its own tooltip.
    titles = [
        rect.find(f"{SVG}title").text
        for rect in root.iter(f"{SVG}rect")
        if rect.find(f"{SVG}title") is not None
    ]
    assert titles == [
        "1 mai — facebook: 1",
        "1 mai — mastodon: 2",
        "2 mai — mastodon: 3",
        "3 mai — facebook: 4",
    ]
    # Every x label is written (label_every=1) and the value axis ends at or above 4.
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"1 mai", "2 mai", "3 mai"} <= set(texts)
    assert "4" in texts


def test_bars_are_stacked_in_proportion() -> None:
    root = parse(bar_chart({"a": [2], "b": [6]}, ["d"], title="t", height=230))
    rects = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    heights = [float(r.get("height")) for r in rects]
    assert heights[1] == pytest.approx(3 * heights[0], rel=0.02)
    # "a" sits under "b": its top is b's bottom.
    assert float(rects[1].get("y")) + heights[1] == pytest.approx(float(rects[0].get("y")), abs=0.2)


def test_hostile_names_and_labels_are_escaped() -> None:
    markup = str(
        bar_chart(
            {HOSTILE: [1, 2]},
            ['<img src=x onerror="alert(1)">', "ok"],
            title="</title><script>alert(2)</script>",
            description='"><script>',
            id_prefix="x",
        )
    )
    assert "<script" not in markup
    assert "<img" not in markup
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in markup
    root = parse(markup)  # still well formed
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert "</title><script>alert(2)</script>" in titles
    assert any(HOSTILE in (t or "") for t in titles)
    legend_markup = str(legend({HOSTILE: [1, 2]}))
    assert "<script" not in legend_markup
    assert "&lt;script&gt;" in legend_markup


def test_empty_and_zero_series_render() -> None:
    root = parse(bar_chart({}, ["a", "b"], title="Nothing"))
    assert not [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    root = parse(bar_chart({"a": [0, 0]}, ["a", "b"], title="Zeros"))
    assert root.get("aria-labelledby") == "chart-title"
    parse(bar_chart({}, [], title="No labels"))


def test_inconsistent_series_are_refused() -> None:
    with pytest.raises(ValueError, match="2 values for 3 labels"):
        bar_chart({"a": [1, 2]}, ["x", "y", "z"], title="t")
    with pytest.raises(ValueError, match="negative"):
        bar_chart({"a": [1, -2]}, ["x", "y"], title="t")


def test_label_every_keeps_the_last_label() -> None:
    labels = [f"d{i}" for i in range(30)]
    root = parse(bar_chart({"a": [1] * 30}, labels, title="t", label_every=5))
    written = [t.text for t in root.find(f"{SVG}g[@class='chart-labels']")]
    assert written[-1] == "d29"
    assert written == [f"d{i}" for i in range(4, 30, 5)]


def test_series_are_told_apart_without_colour() -> None:
    styles = [series_style(i) for i in range(len(PALETTE))]
    assert len({s.colour for s in styles}) == len(PALETTE)
    assert len({s.pattern for s in styles}) == len(PATTERNS)
    root = parse(bar_chart({f"s{i}": [1] for i in range(8)}, ["d"], title="t", id_prefix="p"))
    patterns = list(root.iter(f"{SVG}pattern"))
    assert [p.get("id") for p in patterns] == [f"p-fill-{i}" for i in range(8)]
    # Every pattern but the first draws white shapes over its colour.
    assert all(len(list(p)) >= 2 for p in patterns[1:])


def test_legend_lists_names_and_totals() -> None:
    markup = str(legend({"facebook": [1, 2], "mastodon": [0, 5]}, id_prefix="k"))
    assert re.search(r"<span>facebook</span> <span class=\"chart-total\">3</span>", markup)
    assert re.search(r"<span>mastodon</span> <span class=\"chart-total\">5</span>", markup)
    assert markup.count('aria-hidden="true"') == 2
    assert 'id="k-fill-0"' in markup and 'id="k-fill-1"' in markup


def test_meter_bar() -> None:
    root = parse(meter_bar(5, 10, width=100))
    assert root.get("aria-hidden") == "true"
    assert [r.get("width") for r in root.iter(f"{SVG}rect")] == ["100", "50"]
    assert [r.get("width") for r in parse(meter_bar(3, 0)).iter(f"{SVG}rect")][1] == "0"
    assert [r.get("width") for r in parse(meter_bar(30, 10, width=80)).iter(f"{SVG}rect")][
        1
    ] == "80"
