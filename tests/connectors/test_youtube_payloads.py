"""The YouTube connector's mapping of responses shaped as the Data API v3 really sends them
(search results HTML-escaped, links in descriptions and comments): tests/fixtures/real/youtube/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from beffroi.connectors.base import ItemKind, NormalizedItem
from beffroi.connectors.youtube import YouTubeConnector

FIXTURES = Path(__file__).parent.parent / "fixtures" / "real" / "youtube"


def resources(name: str) -> list[dict[str, Any]]:
    response: dict[str, Any] = json.loads((FIXTURES / name).read_text("utf-8"))
    return list(response["items"])


@pytest.fixture
def connector() -> YouTubeConnector:
    return YouTubeConnector(
        {"channel_id": "UCk3Pz8Wm1Nq7Rt5Yv2Xb4Lc"}, {"access_token": "ya29.test-token"}
    )


def test_search_results_are_unescaped_once(connector: YouTubeConnector) -> None:
    croissant, html_lesson = (
        connector.map_item(raw, ItemKind.POST) for raw in resources("search_list.json")
    )
    assert croissant.text == (
        "World's best croissant? Lyon's \"Boulangerie du Palais\" & more\n\n"
        "On a testé les 5 boulangeries les mieux notées de Lyon. Qui fait le meilleur "
        "croissant ? 'Meilleur ouvrier de France' ..."
    )
    assert croissant.author.display_name == "Tom & Léa en cuisine"
    # "&amp;amp;" is YouTube's escape of a written "&amp;": unescaped once, not twice.
    assert html_lesson.text == "HTML : écrire &amp; dans une page\n\nPourquoi &amp; et pas & ?"
    # The raw payload stays as YouTube sent it.
    assert croissant.raw["snippet"]["title"].startswith("World&#39;s")


def test_playlist_items_are_not_unescaped(connector: YouTubeConnector) -> None:
    (video,) = (connector.map_item(r, ItemKind.POST) for r in resources("playlist_items_list.json"))
    assert video.text.startswith("Conseil municipal du 14 mars : Q&A\n\nReplay")


def test_links_in_a_video_description_are_shared_links(connector: YouTubeConnector) -> None:
    (video,) = (connector.map_item(r, ItemKind.POST) for r in resources("playlist_items_list.json"))
    assert video.urls == (
        "https://www.youtube.com/watch?v=Hq3tV8pLm2A",
        "https://www.mairie-beffroi.fr/conseil/2024-03-14.pdf",
        "https://www.mairie-beffroi.fr/deliberations?annee=2024&mois=03",
        "https://www.instagram.com/mairiebeffroi/",
        "https://piaille.fr/@beffroi",
    )


def test_links_in_a_comment_are_shared_links(connector: YouTubeConnector) -> None:
    (thread,) = resources("comment_threads_list.json")
    comment = connector.map_item(thread["snippet"]["topLevelComment"], ItemKind.COMMENT)
    assert comment.kind is ItemKind.COMMENT
    assert comment.urls == (
        "https://www.contribuables-beffroi.org/budget-2024",
        "https://youtu.be/Hq3tV8pLm2A?t=761",
    )


def test_a_description_without_links_shares_the_video_alone(
    connector: YouTubeConnector,
) -> None:
    item: NormalizedItem = connector.map_item(resources("search_list.json")[1], ItemKind.POST)
    assert item.urls == ("https://www.youtube.com/watch?v=Zt6Yw1Qe9Rb",)
