"""Hashtag listening in the Mastodon connector (the ``hashtags`` setting), for the veille."""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from beffroi.connectors.base import (
    ConfigurationError,
    FetchBatch,
    FetchKind,
    ItemKind,
    RateLimited,
)
from beffroi.connectors.mastodon import MastodonConnector, parse_hashtags
from tests.connectors.test_mastodon import assert_clean, by_id, connect, drain
from tests.fakes.mastodon_server import FakeMastodon

TAG_PATH = "/api/v1/timelines/tag/"


@pytest.fixture
def server() -> Iterator[FakeMastodon]:
    with FakeMastodon() as fake:
        yield fake


# --- options ---------------------------------------------------------------------------------


def test_hashtags_option_is_declared_and_optional() -> None:
    option = MastodonConnector.options["hashtags"]
    assert not option.required and not option.secret
    assert option.label == "Hashtags to listen to"
    assert "separated by spaces or commas" in option.help
    assert FetchKind.SEARCH in MastodonConnector.fetches


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", ()),
        ("   ", ()),
        ("ville", ("ville",)),
        ("#Ville, MARCHÉ ville,,  #marché\tRue_Piétonne", ("ville", "marché", "rue_piétonne")),
        ("Straße 2024jo", ("strasse", "2024jo")),
    ],
)
def test_hashtags_are_normalised(value: str, expected: tuple[str, ...]) -> None:
    assert parse_hashtags(value) == expected
    settings = {"base_url": "https://mastodon.example", "hashtags": value}
    MastodonConnector.validate_options(settings, {"access_token": "x"})
    assert MastodonConnector(settings, {"access_token": "x"}).hashtags == expected


@pytest.mark.parametrize("value", ["ville-propre", "2024", "#", "a/b", "ville!", "#ville #?"])
def test_validate_options_refuses_an_invalid_hashtag(value: str) -> None:
    settings = {"base_url": "https://mastodon.example", "hashtags": value}
    with pytest.raises(ConfigurationError, match="hashtag"):
        MastodonConnector.validate_options(settings, {"access_token": "x"})
    with pytest.raises(ConfigurationError, match="hashtag"):
        MastodonConnector(settings, {"access_token": "x"})


# --- the fake server answers as Mastodon -----------------------------------------------------


def test_fake_tag_timeline_is_public_case_insensitive_newest_first_and_paginated(
    server: FakeMastodon,
) -> None:
    alice = server.add_account("alice", domain="other.example")
    ids = [
        server.add_status(f"Marché {n} #Ville", account=alice, days_ago=3 - n)["id"]
        for n in range(4)
    ]
    server.add_status("Privé #ville", account=alice, visibility="private")
    server.add_status("Autre #campagne", account=alice)
    gone = server.add_status("Effacé #ville", account=alice)
    server.delete_status(gone)

    def get(url: str) -> tuple[list[dict[str, object]], str]:
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {server.token}"})
        with urllib.request.urlopen(request) as answer:
            return json.loads(answer.read()), answer.headers.get("Link") or ""

    page, link = get(f"{server.base_url}{TAG_PATH}VILLE?limit=3")
    assert [s["id"] for s in page] == ids[::-1][:3]
    assert page[0]["tags"] == [{"name": "ville", "url": "https://mastodon.example/tags/ville"}]
    assert f"max_id={ids[1]}" in link and 'rel="next"' in link
    assert f"min_id={ids[3]}" in link and 'rel="prev"' in link
    older, _ = get(f"{server.base_url}{TAG_PATH}ville?limit=3&max_id={ids[1]}")
    assert [s["id"] for s in older] == [ids[0]]
    newer, _ = get(f"{server.base_url}{TAG_PATH}ville?min_id={ids[0]}&limit=2")
    assert [s["id"] for s in newer] == [ids[2], ids[1]]
    since, _ = get(f"{server.base_url}{TAG_PATH}ville?since_id={ids[0]}&limit=2")
    assert [s["id"] for s in since] == [ids[3], ids[2]]
    nothing, link = get(f"{server.base_url}{TAG_PATH}inconnu")
    assert nothing == [] and link == ""


# --- fetch -----------------------------------------------------------------------------------


def test_first_sync_brings_hashtag_posts_of_other_accounts(server: FakeMastodon) -> None:
    alice = server.add_account("alice", domain="other.example", display_name="Alice")
    bob = server.add_account("bob", display_name="Bob")
    old = server.add_status("Ancien #Ville", account=bob, days_ago=40)["id"]
    tagged = [
        server.add_status(
            f"Travaux rue {n} #Ville https://example.org/t{n}", account=alice, days_ago=5 - n
        )["id"]
        for n in range(5)
    ]
    with_media = server.add_status(
        "Photo du marché #ville",
        account=bob,
        media=[{"type": "image", "description": "Les étals"}],
        reblogs=2,
        favourites=7,
        language="fr",
    )["id"]
    server.add_status("Rien à voir #campagne", account=bob)

    items, cursor = drain(connect(server, history_days="30", hashtags="#Ville"), {})
    found = by_id(items)
    assert Counter(i.platform_id for i in items).most_common(1)[0][1] == 1
    assert set(found) == {*tagged, with_media}
    assert old not in found

    first = found[tagged[0]]
    assert first.kind == ItemKind.POST
    assert first.thread_id == tagged[0]
    assert first.parent_id is None
    assert first.text == "Travaux rue 0 #Ville https://example.org/t0"
    assert first.urls == ("https://example.org/t0",)
    assert first.author.handle == "alice@other.example"
    assert first.author.display_name == "Alice"
    assert first.author.url == "https://other.example/@alice"
    assert first.url == f"https://other.example/@alice/{tagged[0]}"
    assert first.created_at < datetime.now(UTC)
    assert [(t["name"], t["url"]) for t in first.raw["tags"]] == [
        ("ville", "https://mastodon.example/tags/ville")
    ]
    photo = found[with_media]
    assert photo.media[0].kind == "image" and photo.media[0].description == "Les étals"
    assert photo.metrics == {"replies_count": 0, "reblogs_count": 2, "favourites_count": 7}
    assert photo.language == "fr"

    assert cursor["tag_ville_since_id"] == max([*tagged, with_media], key=int)
    requests = server.requests_to("GET", TAG_PATH)
    assert {r.path for r in requests} == {f"{TAG_PATH}ville"}
    assert any("max_id" in r.query for r in requests)  # walked back with rel="next"
    assert not any("min_id" in r.query or "since_id" in r.query for r in requests)


def test_batches_of_a_tag_are_oldest_first_and_its_cursor_only_advances(
    server: FakeMastodon,
) -> None:
    alice = server.add_account("alice")
    for n in range(7):
        server.add_status(f"Message {n} #ville", account=alice, days_ago=7 - n)
    batches: list[FetchBatch] = list(connect(server, page_size=3, hashtags="ville").fetch({}))
    marks = [
        int(b.cursor["tag_ville_since_id"]) for b in batches if "tag_ville_since_id" in b.cursor
    ]
    assert marks == sorted(marks) and len(set(marks)) == len(marks) >= 3
    ids = [int(i.platform_id) for b in batches for i in b.items if i.text.startswith("Message")]
    assert ids == sorted(ids)


def test_incremental_sync_brings_only_new_tagged_posts(server: FakeMastodon) -> None:
    alice = server.add_account("alice", domain="other.example")
    before = [server.add_status(f"Avant {n} #ville", account=alice)["id"] for n in range(4)]
    connector = connect(server, hashtags="ville")
    _, cursor = drain(connector, {})
    assert cursor["tag_ville_since_id"] == max(before, key=int)

    server.requests.clear()
    items, cursor2 = drain(connector, cursor)
    assert items == []
    assert cursor2["tag_ville_since_id"] == cursor["tag_ville_since_id"]
    (asked,) = server.requests_to("GET", TAG_PATH)
    assert asked.query["min_id"] == [cursor["tag_ville_since_id"]]

    after = [server.add_status(f"Après {n} #Ville", account=alice)["id"] for n in range(5)]
    items, cursor3 = drain(connector, cursor2)
    assert [i.platform_id for i in items] == after  # oldest first, across min_id pages
    assert cursor3["tag_ville_since_id"] == max(after, key=int)


def test_each_tag_has_its_own_cursor_and_a_new_tag_gets_its_history(
    server: FakeMastodon,
) -> None:
    alice = server.add_account("alice")
    ville = server.add_status("Un #ville", account=alice, days_ago=2)["id"]
    marche = server.add_status("Un #marche", account=alice, days_ago=2)["id"]
    _, cursor = drain(connect(server, hashtags="ville"), {})
    assert "tag_ville_since_id" in cursor and "tag_marche_since_id" not in cursor

    server.requests.clear()
    items, cursor2 = drain(connect(server, hashtags="ville marche"), cursor)
    assert [i.platform_id for i in items] == [marche]
    assert cursor2["tag_ville_since_id"] == ville
    assert cursor2["tag_marche_since_id"] == marche
    by_path = {r.path: r.query for r in server.requests_to("GET", TAG_PATH)}
    assert by_path[f"{TAG_PATH}ville"]["min_id"] == [ville]
    assert "min_id" not in by_path[f"{TAG_PATH}marche"]  # first sync of that tag


def test_a_post_with_two_listened_tags_is_one_item(server: FakeMastodon) -> None:
    alice = server.add_account("alice")
    both = server.add_status("Fête #ville #marche", account=alice)["id"]
    only = server.add_status("Seul #marche", account=alice)["id"]
    connector = connect(server, hashtags="ville, marche")
    items, cursor = drain(connector, {})
    assert Counter(i.platform_id for i in items) == {both: 1, only: 1}
    assert cursor["tag_ville_since_id"] == both
    assert cursor["tag_marche_since_id"] == max(both, only, key=int)

    later = server.add_status("Encore #Ville #MARCHE", account=alice)["id"]
    items, _ = drain(connector, cursor)
    assert [i.platform_id for i in items] == [later]


def test_own_posts_and_mentions_are_not_duplicated(server: FakeMastodon) -> None:
    alice = server.add_account("alice")
    own = server.add_status("Marché ce matin #ville")["id"]
    mention = server.add_status("@mairie bravo #ville", account=alice)["id"]
    other = server.add_status("Vu au marché #ville", account=alice)["id"]
    connector = connect(server, hashtags="ville")
    items, cursor = drain(connector, {})
    counts = Counter(i.platform_id for i in items)
    assert counts == {own: 1, mention: 1, other: 1}
    found = by_id(items)
    assert found[own].kind == ItemKind.POST and found[own].author.handle == "mairie"
    assert found[mention].kind == ItemKind.MENTION
    assert found[other].kind == ItemKind.POST
    assert cursor["tag_ville_since_id"] == max(own, mention, other, key=int)

    own_later = server.add_status("Et ce soir #ville")["id"]
    items, _ = drain(connector, cursor)
    assert Counter(i.platform_id for i in items) == {own_later: 1}


def test_rate_limit_during_the_hashtag_stream_is_reported(server: FakeMastodon) -> None:
    alice = server.add_account("alice")
    mine = server.add_status("Bonjour")["id"]
    tagged = server.add_status("Tag #ville", account=alice)["id"]
    connector = connect(server, hashtags="ville")
    server.rate_limit(1, reset_in=42, path_prefix=TAG_PATH)
    batches: list[FetchBatch] = []
    with pytest.raises(RateLimited) as caught:
        for batch in connector.fetch({}):
            batches.append(batch)
    assert caught.value.retry_after is not None
    assert 38 <= caught.value.retry_after <= 44
    assert "rate limit" in str(caught.value) and "#ville" in str(caught.value)
    assert_clean(caught.value, server)
    # The earlier streams' batches stay valid; the tag's cursor was not set.
    cursor = json.loads(json.dumps(batches[-1].cursor))
    assert mine in {i.platform_id for b in batches for i in b.items}
    assert "statuses_since_id" in cursor and "tag_ville_since_id" not in cursor

    items, resumed = drain(connector, cursor)
    assert [i.platform_id for i in items] == [tagged]
    assert resumed["tag_ville_since_id"] == tagged


@pytest.mark.parametrize("settings", [{}, {"hashtags": ""}, {"hashtags": " , "}])
def test_no_hashtags_means_no_request_to_tag_timelines(
    server: FakeMastodon, settings: dict[str, str]
) -> None:
    alice = server.add_account("alice")
    post = server.add_status("Post #ville")["id"]
    server.add_status("Pas pour nous #ville", account=alice)
    items, cursor = drain(connect(server, **settings), {})
    assert [i.platform_id for i in items] == [post]
    assert not any(key.startswith("tag_") for key in cursor)
    assert server.requests_to("GET", "/api/v1/timelines") == []
    assert server.requests_to("GET", "/api/v2/instance") == []


def test_accented_tag_is_asked_percent_encoded_and_keyed_casefolded(server: FakeMastodon) -> None:
    alice = server.add_account("alice")
    status = server.add_status("Le #Marché de Noël", account=alice)["id"]
    items, cursor = drain(connect(server, hashtags="#MARCHÉ"), {})
    assert [i.platform_id for i in items] == [status]
    assert cursor["tag_marché_since_id"] == status
    assert [r.path for r in server.requests_to("GET", TAG_PATH)] == [f"{TAG_PATH}march%C3%A9"]


def test_the_veilles_watched_hashtags_are_added_to_the_administrators() -> None:
    settings = {
        "base_url": "https://mastodon.example",
        "hashtags": "Ville, marché",
        "watch_hashtags": "eausaintaubin ville",
    }
    connector = MastodonConnector(settings, {"access_token": "x"})
    assert connector.hashtags == ("ville", "marché", "eausaintaubin")
