"""The account's own recent posts, read to find a publication whose answer was lost: X,
a Facebook Page and an Instagram account, against their loopback fakes.

Each connector lists the posts created since a time, newest first, pages only as far as it
needs and never past :data:`~beffroi.connectors.base.OWN_POSTS_LIMIT`, and turns the
platform's refusals into the connector errors. The X tests also prove the whole compare: a
post X stored with its link as a ``t.co`` address and its ``&`` escaped is recognised by
:func:`~beffroi.connectors.reconcile.find_published` against the text that was sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from beffroi.connectors.base import (
    OWN_POSTS_LIMIT,
    AuthError,
    ItemKind,
    MalformedPayload,
    Media,
    OwnPost,
    RateLimited,
    TransientError,
    UnsupportedAction,
)
from beffroi.connectors.facebook import FacebookConnector
from beffroi.connectors.http import RATE_GATE
from beffroi.connectors.instagram import InstagramConnector
from beffroi.connectors.reconcile import find_published
from beffroi.connectors.tiktok import TikTokConnector
from beffroi.connectors.x import XConnector
from tests.fakes.graph_server import (
    VERSION,
    FakeGraph,
    app_usage,
    buc_usage,
    graph_error,
)
from tests.fakes.loopback import Reply
from tests.fakes.x_server import FakeX, forbidden, iso


@pytest.fixture(autouse=True)
def _open_gate() -> Iterator[None]:
    RATE_GATE.clear()
    yield
    RATE_GATE.clear()


def _newest_first(posts: list[OwnPost]) -> bool:
    times = [post.created_at for post in posts]
    return times == sorted(times, reverse=True)


# --- X ----------------------------------------------------------------------------------------


@pytest.fixture
def x() -> Iterator[FakeX]:
    with FakeX() as fake:
        yield fake


def _x(server: FakeX, page_size: int = 5) -> XConnector:
    return XConnector(
        {"user_id": server.me["id"], "username": "mairie", "base_url": server.base_url},
        {"access_token": server.token},
        page_size=page_size,
        timeout=5,
        retries=1,
        backoff=0.0,
    )


def _timeline(server: FakeX) -> str:
    return f"/2/users/{server.me['id']}/tweets"


def test_x_lists_the_posts_since_newest_first_without_older_ones_or_retweets(x: FakeX) -> None:
    citizen = x.add_user("citoyen", "Un citoyen")
    old = x.add_tweet("Vieille annonce", days_ago=1)
    since = datetime.now(UTC) - timedelta(minutes=1)
    theirs = x.add_tweet("Le marché est-il ouvert ?", author=citizen)
    first = x.add_tweet("Le marché est ouvert")
    retweet = x.add_tweet("", retweet_of=theirs["id"])
    reply = x.add_tweet("Oui, jusqu'à 13 h", in_reply_to=theirs["id"])
    posts = _x(x).own_posts_since(since)
    assert [p.platform_id for p in posts] == [reply["id"], first["id"]]
    assert old["id"] not in {p.platform_id for p in posts}
    assert retweet["id"] not in {p.platform_id for p in posts}
    assert _newest_first(posts)
    newest = posts[0]
    assert newest.text == reply["text"]
    assert newest.url == f"https://x.com/mairie/status/{reply['id']}"
    assert newest.created_at.tzinfo is not None and newest.created_at >= since
    # The item is the post as a sync maps it (its comments gather under it in the inbox).
    assert newest.item is not None and newest.item.platform_id == reply["id"]
    assert newest.item.kind is ItemKind.REPLY and posts[1].item is not None
    assert posts[1].item.kind is ItemKind.POST and posts[1].item.author.handle == "mairie"
    (request,) = x.requests_to("GET", _timeline(x))
    assert request.param("exclude") == "retweets"
    assert request.param("start_time") == since.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert {"created_at", "note_tweet", "entities"} <= set(request.param("tweet.fields").split(","))


def test_x_leaves_out_a_post_of_the_same_second_made_before_since(x: FakeX) -> None:
    # start_time has a one-second grain: X gives the whole second, the connector keeps only
    # what was created at or after ``since``.
    second = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)
    before = x.add_tweet("Juste avant")
    after = x.add_tweet("Juste après")
    x.tweets[before["id"]]["created_at"] = iso(second + timedelta(milliseconds=200))
    x.tweets[after["id"]]["created_at"] = iso(second + timedelta(milliseconds=800))
    posts = _x(x).own_posts_since(second + timedelta(milliseconds=500))
    assert [p.platform_id for p in posts] == [after["id"]]


def test_x_follows_pages_and_stops_once_older_posts_come(x: FakeX) -> None:
    for n in range(3):
        x.add_tweet(f"Ancienne {n}", days_ago=2)
    since = datetime.now(UTC) - timedelta(minutes=1)
    recent = [x.add_tweet(f"Annonce {n}") for n in range(12)]
    posts = _x(x, page_size=5).own_posts_since(since)
    assert [p.platform_id for p in posts] == [t["id"] for t in reversed(recent)]
    requests = x.requests_to("GET", _timeline(x))
    assert len(requests) == 3  # 5, 5, 2: the last page has no next_token
    assert [r.param("pagination_token") is None for r in requests] == [True, False, False]


def test_x_never_lists_more_than_the_limit(x: FakeX) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    made = [x.add_tweet(f"Annonce {n}") for n in range(OWN_POSTS_LIMIT + 15)]
    posts = _x(x, page_size=40).own_posts_since(since)
    assert len(posts) == OWN_POSTS_LIMIT
    assert [p.platform_id for p in posts] == [t["id"] for t in reversed(made)][:OWN_POSTS_LIMIT]
    requests = x.requests_to("GET", _timeline(x))
    # 40 + 40 + 20: the last page asks only for what is still wanted.
    assert [r.param("max_results") for r in requests] == ["40", "40", "20"]


def test_x_gives_a_long_posts_whole_text(x: FakeX) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    whole = "Travaux rue de la Paix : " + "la chaussée sera refaite par tronçons. " * 12
    long_post = x.add_tweet(whole.strip())
    assert x.tweets[long_post["id"]]["text"].endswith("…")  # X's cut copy
    (post,) = _x(x).own_posts_since(since)
    assert post.text == whole.strip()
    assert post.item is not None and post.item.text == whole.strip()


def test_x_a_post_with_its_link_rewritten_is_found_with_the_text_sent(x: FakeX) -> None:
    x.rewrite_texts()
    connector = _x(x)
    since = datetime.now(UTC)
    sent = (
        "Conseil municipal ce soir à 19 h : budget & travaux "
        "https://ville.example/odj?utm_source=beffroi"
    )
    x.add_tweet("Un autre message https://ville.example/autre")
    published = connector.publish(sent)
    posts = connector.own_posts_since(since)
    stored = next(p for p in posts if p.platform_id == published.platform_id)
    # What X holds is not what was sent: the link is a t.co address and & an entity.
    assert "https://t.co/" in stored.text and "ville.example" not in stored.text
    assert "&amp;" in stored.text
    found = find_published(sent, posts, since)
    assert found is not None and found.platform_id == published.platform_id
    assert (
        find_published("Conseil municipal demain https://ville.example/odj", posts, since) is None
    )


def test_x_errors_become_connector_errors(x: FakeX) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    x.add_tweet("Annonce")
    x.revoke_token()
    with pytest.raises(AuthError, match="revoked or has expired"):
        _x(x).own_posts_since(since)
    x.heal()

    x.rate_limit(reset_in=600, path=_timeline(x))
    with pytest.raises(RateLimited) as limited:
        _x(x).own_posts_since(since)
    assert limited.value.retry_after is not None and 590 <= limited.value.retry_after <= 601
    x.heal()
    RATE_GATE.clear()

    x.not_enrolled()
    with pytest.raises(AuthError, match="access level"):
        _x(x).own_posts_since(since)
    x.heal()

    x.script(_timeline(x), forbidden("Forbidden"), times=5)
    with pytest.raises(AuthError, match=r"tweet\.read"):
        _x(x).own_posts_since(since)
    x.heal()

    x.script(_timeline(x), Reply(503, x.unavailable_body), times=5)
    with pytest.raises(TransientError):
        _x(x).own_posts_since(since)
    x.heal()

    x.malformed(_timeline(x))
    with pytest.raises(MalformedPayload):
        _x(x).own_posts_since(since)


# --- Facebook and Instagram -------------------------------------------------------------------

V = f"/{VERSION}"


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph() as fake:
        yield fake


def _facebook(server: FakeGraph, page_size: int = 2) -> FacebookConnector:
    return FacebookConnector(
        {"page_id": server.page_id, "base_url": server.base_url},
        {"access_token": server.page_token},
        page_size=page_size,
        timeout=5,
        retries=0,
        backoff=0.0,
    )


def _instagram(server: FakeGraph, page_size: int = 2) -> InstagramConnector:
    return InstagramConnector(
        {"ig_user_id": server.ig_user_id, "base_url": server.base_url},
        {"access_token": server.page_token},
        page_size=page_size,
        timeout=5,
        retries=0,
        backoff=0.0,
        poll_interval=0.0,
    )


def test_facebook_lists_the_pages_posts_since_newest_first(graph: FakeGraph) -> None:
    long_ago = datetime.now(UTC) - timedelta(hours=3)
    old = graph.add_post("Fermeture de la mairie samedi", at=long_ago)
    since = datetime.now(UTC) - timedelta(minutes=1)
    made = [graph.add_post(f"Annonce {n}") for n in range(5)]
    posts = _facebook(graph).own_posts_since(since)
    assert [p.platform_id for p in posts] == list(reversed(made))
    assert old not in {p.platform_id for p in posts}
    assert _newest_first(posts)
    newest = posts[0]
    assert newest.text == "Annonce 4"
    assert newest.url == graph.posts[made[-1]]["permalink_url"]
    assert newest.item is not None and newest.item.kind is ItemKind.POST
    assert newest.item.platform_id == made[-1]
    requests = graph.requests_to("GET", f"{V}/{graph.page_id}/published_posts")
    assert len(requests) == 3  # 2, 2, 1 with page_size 2
    first = requests[0]
    assert first.param("since") == str(int(since.replace(microsecond=0).timestamp()))
    assert first.param("limit") == "2"
    assert {"id", "message", "created_time", "permalink_url"} <= set(
        first.param("fields").split(",")
    )


def test_facebook_a_post_with_no_message_has_an_empty_text(graph: FakeGraph) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    graph.add_post("", story="Mairie de Beffroi a mis à jour sa photo de couverture.")
    (post,) = _facebook(graph).own_posts_since(since)
    assert post.text == ""  # a story is Facebook's sentence, not a publication's text


def test_facebook_keeps_a_post_of_the_second_since_falls_in(graph: FakeGraph) -> None:
    second = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)
    same = graph.add_post("La même seconde", at=second)
    graph.add_post("La seconde d'avant", at=second - timedelta(seconds=1))
    posts = _facebook(graph).own_posts_since(second + timedelta(milliseconds=600))
    assert [p.platform_id for p in posts] == [same]


def test_facebook_stops_at_the_limit_without_reading_further(graph: FakeGraph) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    made = [graph.add_post(f"Annonce {n}") for n in range(OWN_POSTS_LIMIT + 30)]
    posts = _facebook(graph, page_size=25).own_posts_since(since)
    assert [p.platform_id for p in posts] == list(reversed(made))[:OWN_POSTS_LIMIT]
    assert len(graph.requests_to("GET", f"{V}/{graph.page_id}/published_posts")) == 4


def test_facebook_a_publication_is_found_among_the_posts(graph: FakeGraph) -> None:
    connector = _facebook(graph)
    since = datetime.now(UTC)
    graph.add_post("Autre annonce https://ville.example/autre")
    sent = "Marché de Noël : ouverture vendredi https://ville.example/noel?utm_source=beffroi"
    published = connector.publish(sent)
    found = find_published(sent, connector.own_posts_since(since), since)
    assert found is not None and found.platform_id == published.platform_id


def test_facebook_errors_become_connector_errors(graph: FakeGraph) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    path = f"{V}/{graph.page_id}/published_posts"
    cases: list[tuple[Reply, type[Exception], str]] = [
        (
            graph_error(190, "Error validating access token: Session has expired.", subcode=463),
            AuthError,
            "Reconnect",
        ),
        (
            graph_error(
                32, "(#32) Page request limit reached", headers=buc_usage(graph.page_id, 100, 12)
            ),
            RateLimited,
            "rate limit",
        ),
        (
            graph_error(10, "(#10) This endpoint requires the 'pages_read_engagement' permission."),
            AuthError,
            "pages_read_engagement",
        ),
        (Reply(500, graph.unavailable_body), TransientError, "temporary"),
    ]
    for reply, expected, words in cases:
        graph.script(path, reply, times=3)
        with pytest.raises(expected, match=words) as raised:
            _facebook(graph).own_posts_since(since)
        if isinstance(raised.value, RateLimited):
            assert raised.value.retry_after == 12 * 60
        assert graph.page_token not in str(raised.value)
        graph.heal()
        RATE_GATE.clear()


def test_instagram_lists_the_accounts_media_since_newest_first(graph: FakeGraph) -> None:
    old = graph.add_media("La fête de l'an dernier", at=datetime.now(UTC) - timedelta(days=2))
    since = datetime.now(UTC) - timedelta(minutes=1)
    made = [graph.add_media(f"Photo {n} #beffroi") for n in range(3)]
    posts = _instagram(graph).own_posts_since(since)
    assert [p.platform_id for p in posts] == list(reversed(made))
    assert old not in {p.platform_id for p in posts}
    assert _newest_first(posts)
    assert posts[0].text == "Photo 2 #beffroi"
    assert posts[0].url == graph.media[made[-1]]["permalink"]
    assert posts[0].item is not None and posts[0].item.author.platform_id == graph.ig_user_id
    requests = graph.requests_to("GET", f"{V}/{graph.ig_user_id}/media")
    assert len(requests) == 2  # 2, 1
    assert requests[0].param("since") == str(int(since.replace(microsecond=0).timestamp()))
    assert {"id", "caption", "timestamp", "permalink"} <= set(
        requests[0].param("fields").split(",")
    )


def test_instagram_stops_paging_at_the_first_older_media(graph: FakeGraph) -> None:
    # Should Graph not apply ``since`` to this edge, the newest-first order still bounds the
    # read: the answer's first media older than ``since`` ends it.
    for n in range(6):
        graph.add_media(f"Ancienne {n}", at=datetime.now(UTC) - timedelta(days=3, minutes=n))
    since = datetime.now(UTC) - timedelta(minutes=1)
    recent = graph.add_media("Nouvelle")
    media = graph.media
    answer: dict[str, Any] = {
        "data": [
            {"id": m["id"], "caption": m["caption"], "timestamp": m["timestamp"]}
            for m in sorted(media.values(), key=lambda m: m["timestamp"], reverse=True)[:2]
        ],
        "paging": {"cursors": {"after": "QVFI"}, "next": f"{graph.base_url}/next"},
    }
    graph.script(f"{V}/{graph.ig_user_id}/media", Reply(200, answer), times=1)
    posts = _instagram(graph).own_posts_since(since)
    assert [p.platform_id for p in posts] == [recent]
    assert len(graph.requests_to("GET", f"{V}/{graph.ig_user_id}/media")) == 1


def test_instagram_a_publication_is_found_by_its_caption(graph: FakeGraph) -> None:
    connector = _instagram(graph)
    since = datetime.now(UTC)
    graph.add_media("Autre photo")
    sent = "Le marché de Noël ouvre vendredi ! #beffroi"
    image = Media("image", "https://media.beffroi.example/noel.jpg", "Les chalets")
    published = connector.publish(sent, (image,))
    found = find_published(sent, connector.own_posts_since(since), since)
    assert found is not None and found.platform_id == published.platform_id


def test_instagram_errors_become_connector_errors(graph: FakeGraph) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    path = f"{V}/{graph.ig_user_id}/media"
    cases: list[tuple[Reply, type[Exception]]] = [
        (graph_error(190, "Invalid OAuth access token - Cannot parse access token"), AuthError),
        (
            graph_error(4, "(#4) Application request limit reached", headers=app_usage(100)),
            RateLimited,
        ),
        (graph_error(10, "(#10) Requires instagram_basic permission"), AuthError),
    ]
    for reply, expected in cases:
        graph.script(path, reply, times=3)
        with pytest.raises(expected):
            _instagram(graph).own_posts_since(since)
        graph.heal()
        RATE_GATE.clear()


# --- the others -------------------------------------------------------------------------------


def test_a_connector_that_cannot_list_says_so() -> None:
    assert not TikTokConnector.lists_own_posts
    tiktok = TikTokConnector({}, {"access_token": "act.example"})
    with pytest.raises(UnsupportedAction, match="a person checks"):
        tiktok.own_posts_since(datetime.now(UTC))
