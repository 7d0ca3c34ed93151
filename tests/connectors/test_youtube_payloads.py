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


CORPUS = Path(__file__).parent.parent / "corpus" / "youtube" / "python-youtube"


def test_a_domain_youtube_linked_in_a_comment_is_a_shared_link(
    connector: YouTubeConnector,
) -> None:
    # Recorded: "Google.com" written bare, which YouTube's HTML textDisplay links.
    answer = json.loads(
        (CORPUS / "comment_threads/comment_threads_by_video_paged_1.json").read_text()
    )
    bare, *_, hashtags = (t["snippet"]["topLevelComment"] for t in answer["items"])
    assert bare["snippet"]["textOriginal"] == "Google.com"
    assert connector.map_item(bare, ItemKind.COMMENT).urls == ("http://google.com/",)
    # YouTube's own hashtag searches are not links the comment shares.
    assert "#ChromeDevSummit" in hashtags["snippet"]["textOriginal"]
    assert connector.map_item(hashtags, ItemKind.COMMENT).urls == ()


def test_a_link_behind_youtubes_redirect_is_the_address_it_wraps(
    connector: YouTubeConnector,
) -> None:
    (thread,) = resources("comment_threads_list.json")
    comment = json.loads(json.dumps(thread["snippet"]["topLevelComment"]))
    comment["snippet"]["textOriginal"] = "voir mairie-beffroi.fr"
    comment["snippet"]["textDisplay"] = (
        'voir <a href="https://www.youtube.com/redirect?event=comments&amp;'
        'q=https%3A%2F%2Fmairie-beffroi.fr%2F">mairie-beffroi.fr</a>'
    )
    assert connector.map_item(comment, ItemKind.COMMENT).urls == ("https://mairie-beffroi.fr/",)


def test_a_comment_without_its_original_text_is_read_from_its_html(
    connector: YouTubeConnector,
) -> None:
    # YouTube guarantees textOriginal only to the comment's author: others get textDisplay.
    (thread,) = resources("comment_threads_list.json")
    comment = json.loads(json.dumps(thread["snippet"]["topLevelComment"]))
    del comment["snippet"]["textOriginal"]
    comment["snippet"]["textDisplay"] = (
        'Bus &amp; tram : <a href="https://www.tcl.fr/">tcl.fr</a><br>C&#39;est &lt;enfin&gt; clair'
    )
    item = connector.map_item(comment, ItemKind.COMMENT)
    assert item.text == "Bus & tram : tcl.fr\nC'est <enfin> clair"
    assert item.urls == ("https://www.tcl.fr/",)


@pytest.mark.parametrize(
    ("sent", "stored"),
    [("en", "en"), ("en-US", "en"), ("zh-Hans", "zh"), ("pt_BR", "pt"), ("fil", None), ("", None)],
)
def test_a_videos_language_is_its_iso_639_1_code(
    connector: YouTubeConnector, sent: str, stored: str | None
) -> None:
    answer = json.loads((CORPUS / "videos/videos_chart_paged_2.json").read_text())
    video = answer["items"][0]
    video["snippet"]["defaultLanguage"] = sent  # YouTube sends BCP 47 tags (zh-Hans, en-US)
    assert connector.map_item(video, ItemKind.POST).language == stored
