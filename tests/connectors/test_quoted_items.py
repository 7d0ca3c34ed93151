"""The post an item quotes or reposts, carried as its reader sees it (issue 13): X, Mastodon,
Bluesky and Zeeschuimer's X captures, on payloads shaped as each platform sends them
(tests/fixtures/real/quotes/); Bluesky's moderation labels beside them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from beffroi.connectors.base import ItemKind, NormalizedItem, QuotedItem, Relation
from beffroi.connectors.bluesky import BlueskyConnector
from beffroi.connectors.fileimport.zeeschuimer import map_zeeschuimer
from beffroi.connectors.mastodon import MastodonConnector
from beffroi.connectors.x import XConnector

FIXTURES = Path(__file__).parent.parent / "fixtures" / "real" / "quotes"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def by_id(items: list[NormalizedItem]) -> dict[str, NormalizedItem]:
    return {item.platform_id: item for item in items}


def x_items() -> dict[str, NormalizedItem]:
    connector = XConnector({"user_id": "1", "username": "mairie"}, {"access_token": "t"})
    page = load("x_quote_page.json")
    return by_id(connector._page_items(page, "reading", lambda _: ItemKind.MENTION, set()))


def test_x_a_quote_carries_the_quoted_posts_text_author_and_address() -> None:
    item = x_items()["1720000000000000002"]
    assert item.quoted == QuotedItem(
        Relation.QUOTE,
        "1719999999999999991",
        # X escapes &, < and > in post text: unescaped as in the item's own text.
        "ALERTE : l'eau du robinet est contaminée dans tout Lyon, ne buvez plus > partagez !",
        "rumeurs_lyon",
        "https://x.com/rumeurs_lyon/status/1719999999999999991",
    )
    # The quoted post's address X puts in the text is the quote, not a link shared.
    assert item.urls == ("https://www.lyon.fr/actualite/eau",)
    # The quote's own counts are its own.
    assert item.metrics["like_count"] == 9


def test_x_a_quote_of_a_post_x_did_not_include_keeps_its_address() -> None:
    item = x_items()["1720000000000000003"]
    assert item.quoted == QuotedItem(
        Relation.QUOTE,
        "1719999999999999000",
        "",
        "",
        "https://x.com/i/web/status/1719999999999999000",
    )
    assert item.urls == ()


def test_x_a_retweet_carries_the_original_as_a_repost() -> None:
    page = json.loads((FIXTURES.parent / "x" / "mentions_page.json").read_text(encoding="utf-8"))
    connector = XConnector({"user_id": "1", "username": "mairie"}, {"access_token": "t"})
    items = by_id(connector._page_items(page, "reading", lambda _: ItemKind.MENTION, set()))
    quoted = items["1719330186385928527"].quoted
    assert quoted is not None and quoted.relation is Relation.REPOST
    assert quoted.platform_id == "1719298765432109876"
    assert quoted.author == "GendarmerieNat"
    assert quoted.text.startswith("⚠️ Appel à témoins") and "…" not in quoted.text
    assert items["1719331122334455667"].quoted is None


def mastodon_items() -> list[NormalizedItem]:
    connector = MastodonConnector({"base_url": "https://piaille.fr"}, {"access_token": "t"})
    return [connector.map_item(s, ItemKind.POST) for s in load("mastodon_quote_and_reblog.json")]


def test_mastodon_a_quote_carries_the_quoted_status_and_drops_the_re_fallback() -> None:
    quote, _, _ = mastodon_items()
    # Mastodon's "RE: <link>" paragraph is for clients that cannot show quotes.
    assert quote.text == "C'est faux : la mairie a démenti ce matin."
    assert quote.urls == ()
    assert quote.quoted == QuotedItem(
        Relation.QUOTE,
        "115299999999999999",
        "La mairie ferme la piscine pour toujours, c'est officiel !",
        "rumeurs@mastodon.social",
        "https://mastodon.social/@rumeurs/115299999999999999",
    )


def test_mastodon_a_reblog_shows_what_its_reader_sees() -> None:
    _, reblog, _ = mastodon_items()
    assert reblog.platform_id == "115300000000000002"
    assert reblog.author.handle == "sam"
    assert reblog.text.startswith("Travaux rue des Écoles")
    assert reblog.urls == ("https://www.lyon.fr/travaux",)
    assert [m.url for m in reblog.media] == ["https://files.villedelyon.social/media/travaux.jpg"]
    assert reblog.language == "fr"
    assert reblog.url == "https://villedelyon.social/@mairie/115299999999999998"
    assert reblog.metrics == {"replies_count": 0, "reblogs_count": 0, "favourites_count": 0}
    assert reblog.quoted is not None and reblog.quoted.relation is Relation.REPOST
    assert reblog.quoted.author == "mairie@villedelyon.social"


def test_mastodon_a_deleted_quote_carries_nothing() -> None:
    *_, deleted = mastodon_items()
    assert deleted.text == "Et celle-là ?"
    assert deleted.quoted is None


def bluesky_items() -> list[NormalizedItem]:
    connector = BlueskyConnector({"handle": "mairie.bsky.social"}, {"app_password": "x"})
    return [
        connector.map_item(p, ItemKind.POST)
        for p in load("bluesky_quotes_and_labels.json")["posts"]
    ]


def test_bluesky_a_quote_carries_the_quoted_posts_text_and_address() -> None:
    quote, _, _ = bluesky_items()
    assert quote.quoted == QuotedItem(
        Relation.QUOTE,
        "at://did:plc:bbbbbbbbbbbbbbbbbbbbbbb2/app.bsky.feed.post/3lc2orig000001",
        "La piscine municipale ferme pour toujours !",
        "rumeurs.bsky.social",
        "https://bsky.app/profile/rumeurs.bsky.social/post/3lc2orig000001",
    )
    assert quote.labels == ()


def test_bluesky_a_blocked_quote_with_media_keeps_its_address_and_the_media() -> None:
    _, blocked, _ = bluesky_items()
    assert blocked.quoted is not None and blocked.quoted.text == ""
    assert blocked.quoted.url == (
        "https://bsky.app/profile/did:plc:ccccccccccccccccccccccc4/post/3lc2blocked001"
    )
    assert [m.kind for m in blocked.media] == ["image"]


def test_bluesky_labels_are_the_posts_and_its_self_labels_negations_applied() -> None:
    _, labelled, _ = bluesky_items()
    # "rude" was withdrawn by a negation; the author's account label stays in raw.
    assert labelled.labels == ("spam", "graphic-media")


def test_bluesky_an_embedded_feed_is_not_a_quoted_post() -> None:
    *_, feed = bluesky_items()
    assert feed.quoted is None


def test_zeeschuimer_x_quotes_carry_the_quoted_post_or_its_address() -> None:
    lines = [
        json.loads(line)
        for line in (FIXTURES / "zeeschuimer_x_quotes.ndjson").read_text("utf-8").splitlines()
    ]
    quote, of_deleted = (map_zeeschuimer(line) for line in lines)
    assert quote.quoted == QuotedItem(
        Relation.QUOTE,
        "1864990000000000009",
        "L&eau du robinet est contaminée, ne buvez plus !",
        "rumeurs_lyon",
        "https://x.com/rumeurs_lyon/status/1864990000000000009",
    )
    assert quote.urls == ()
    assert of_deleted.quoted == QuotedItem(
        Relation.QUOTE,
        "1864990000000000100",
        "",
        "",
        "https://x.com/compte_supprime/status/1864990000000000100",
    )
    assert of_deleted.urls == ()
