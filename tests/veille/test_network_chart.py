"""The campaign network picture: the lines the GraphML export has, labels, and its tables."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from beffroi.veille.charts import network_chart, network_edges

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))  # noqa: S314 (markup made by the tests)


def test_a_copy_campaign_draws_a_line_for_every_pair_as_its_graphml_has() -> None:
    accounts = [f"habitant_de_saint_aubin_{n}" for n in range(16)]
    network = network_chart(accounts, [], title="Accounts", description="16 accounts")
    svg = parse(network.svg)
    # 16 accounts that posted the same text: 16 × 15 / 2 pairs, each a line on the picture.
    assert len(svg.findall(f".//{SVG}line")) == 120 == len(network.pairs)
    assert len(svg.findall(f".//{SVG}circle")) == 16
    labels = [text.text for text in svg.findall(f".//{SVG}text")]
    # Long handles are shortened on the picture (the tables hold them whole).
    assert sorted(labels) == sorted(f"@{a[:19]}…" for a in accounts)
    # Labels stay inside the picture (at most 7 px a character at 12 px).
    size = float(svg.get("viewBox", "").split()[2])
    for text in svg.findall(f".//{SVG}text"):
        x, width = float(text.get("x", "")), 7 * len(text.text or "")
        left = {"start": x, "end": x - width, "middle": x - width / 2}[text.get("text-anchor", "")]
        assert 0 <= left and left + width <= size, text.text
    # Every account acted with the 15 others: the table says so.
    assert {(degree, strength) for _, degree, strength in network.accounts} == {(15, 15)}


def test_line_width_follows_the_weight_and_the_tables_hold_the_numbers() -> None:
    network = network_chart(
        ["a", "b", "c", "d"],
        [["a", "b", 5], ["b", "c", 1], ["c", "d", 1], ["x", "a", 3]],
        title="t",
        description="d",
    )
    lines = parse(network.svg).findall(f".//{SVG}line")
    widths = {line.find(f"{SVG}title").text: float(line.get("stroke-width")) for line in lines}  # type: ignore[union-attr]
    assert widths["@a – @b: 5"] > widths["@b – @c: 1"] == widths["@c – @d: 1"]
    # An edge to an account outside the campaign is not drawn.
    assert network.pairs == [("a", "b", 5), ("b", "c", 1), ("c", "d", 1)]
    assert network.accounts[0] == ("b", 2, 6)


def test_labels_are_escaped_and_long_handles_shortened() -> None:
    hostile = "<script>alert(1)</script>" * 3
    network = network_chart([hostile, "b"], [[hostile, "b", 1]], title="<t>", description="d")
    markup = str(network.svg)
    assert "<script>" not in markup
    assert "@&lt;script&gt;alert(1)&lt;/s…" in markup


def test_network_edges_without_stored_edges_joins_every_pair() -> None:
    assert network_edges(["a", "b", "c"], []) == [("a", "b", 1), ("a", "c", 1), ("b", "c", 1)]
    assert network_edges(["a", "b"], [["b", "a", 2.0]]) == [("a", "b", 2)]
