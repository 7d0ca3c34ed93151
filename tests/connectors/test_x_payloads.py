"""The X connector's mapping of a page shaped as X's API v2 really sends it (retweets of long
posts, videos, photo links, X's own language codes): tests/fixtures/real/x/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from beffroi.connectors.base import ItemKind, NormalizedItem
from beffroi.connectors.x import XConnector

FIXTURES = Path(__file__).parent.parent / "fixtures" / "real" / "x"


@pytest.fixture
def items() -> dict[str, NormalizedItem]:
    page: dict[str, Any] = json.loads((FIXTURES / "mentions_page.json").read_text("utf-8"))
    connector = XConnector(
        {"user_id": "1598000000000000001", "username": "mairiedelyon"},
        {"access_token": "x-user-token"},
    )
    mapped = connector._page_items(page, "reading mentions", lambda _: ItemKind.MENTION, set())
    return {item.platform_id: item for item in mapped}


def test_a_retweet_carries_the_originals_full_text_not_xs_truncated_copy(
    items: dict[str, NormalizedItem],
) -> None:
    retweet = items["1719330186385928527"]
    assert retweet.text.startswith("RT @GendarmerieNat: ⚠️ Appel à témoins")
    # The original is a long post: its whole text is in note_tweet.
    assert retweet.text.endswith("Avis complet : https://t.co/Lm4Nb6Vc8X")
    assert "…" not in retweet.text
    assert retweet.urls == ("https://www.gendarmerie.interieur.gouv.fr/appels-a-temoins/lea-lyon",)
    assert retweet.author.handle == "camille_lyon69"
    assert retweet.raw["includes"]["tweets"][0]["id"] == "1719298765432109876"


def test_a_retweet_does_not_take_the_originals_counts(items: dict[str, NormalizedItem]) -> None:
    assert items["1719330186385928527"].metrics == {}
    assert items["1719331122334455667"].metrics["like_count"] == 7


def test_a_video_is_its_best_mp4_not_its_thumbnail(items: dict[str, NormalizedItem]) -> None:
    (video,) = items["1719331122334455667"].media
    assert video.kind == "video"
    assert video.url.endswith("/1280x720/Gh2Jk4Lm6Nb8Vc0X.mp4?tag=12")
    (photo,) = items["1719333344556677889"].media
    assert photo.url == "https://pbs.twimg.com/media/F9tK2xYWcAA3bQz.jpg"


def test_links_to_the_posts_own_media_are_not_shared_links(
    items: dict[str, NormalizedItem],
) -> None:
    assert items["1719331122334455667"].urls == (
        "https://www.leprogres.fr/faits-divers/2023/10/31/inondations-a-lyon",
    )
    assert items["1719333344556677889"].urls == ()


def test_xs_own_language_codes(items: dict[str, NormalizedItem]) -> None:
    assert items["1719330186385928527"].language == "fr"
    assert items["1719331122334455667"].language == "id"  # X's "in"
    for no_language in ("1719332233445566778", "1719333344556677889", "1719334455667788990"):
        assert items[no_language].language is None  # qst, zxx, und: Beffroi detects it
