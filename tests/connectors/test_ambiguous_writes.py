"""Writes that create something are never sent twice by themselves.

A request that creates (a ``POST``) whose answer was lost after it was sent, or that the
platform failed while answering (500, 502, 504), may have created it: :class:`OutcomeUnknown`
after exactly one request. What says that nothing was done (a connection that failed, a 503)
and every read keep being retried in the call. Mastodon honours an ``Idempotency-Key``: the
same key posts one status.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from beffroi.connectors.base import ItemKind, ItemRef, OutcomeUnknown, TransientError
from beffroi.connectors.http import ApiClient, RateGate, retrying
from beffroi.connectors.mastodon import MastodonConnector
from tests.fakes.loopback import LoopbackServer, RecordedRequest, Reply
from tests.fakes.mastodon_server import FakeMastodon

#: Seconds the client waits for an answer; the slow server answers later than that.
TIMEOUT = 0.3


class _Platform(LoopbackServer):
    """Creates a post for every POST (then answers as switched), answers reads at once."""

    def __init__(self) -> None:
        super().__init__()
        self.created = 0
        self.slow = False

    def handle(self, request: RecordedRequest) -> Reply:
        if request.method == "POST":
            self.created += 1
        if self.slow:
            time.sleep(TIMEOUT * 3)
        return Reply(200, {"id": str(self.created)})


@pytest.fixture
def platform() -> Iterator[_Platform]:
    with _Platform() as server:
        yield server


def _client(server: LoopbackServer) -> ApiClient:
    return ApiClient(
        server.base_url,
        label="P",
        key="p:token",
        timeout=TIMEOUT,
        retries=2,
        backoff=0,
        gate=RateGate(),
    )


def test_a_post_whose_answer_timed_out_is_unknown_after_one_request(platform: _Platform) -> None:
    platform.slow = True
    with _client(platform) as client, pytest.raises(OutcomeUnknown, match="may have done it"):
        client.post("/posts", json={"text": "Bonjour"})
    assert len(platform.requests_to("POST", "/posts")) == 1
    assert platform.created == 1


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_post_the_platform_failed_while_answering_is_unknown_after_one_request(
    platform: _Platform, status: int
) -> None:
    platform.script("/posts", Reply(status, {"error": "upstream"}), times=5)
    with _client(platform) as client, pytest.raises(OutcomeUnknown, match=f"HTTP {status}"):
        client.post("/posts", json={"text": "Bonjour"})
    assert len(platform.requests_to("POST", "/posts")) == 1


def test_a_post_whose_connection_dropped_after_it_was_handled_is_unknown(
    platform: _Platform,
) -> None:
    platform.truncate("/posts")  # handled (created), then half the answer and the line cut
    with _client(platform) as client, pytest.raises(OutcomeUnknown):
        client.post("/posts", json={"text": "Bonjour"})
    assert len(platform.requests_to("POST", "/posts")) == 1
    assert platform.created == 1


def test_a_post_answered_503_is_retried_in_the_call_as_before(platform: _Platform) -> None:
    platform.script("/posts", Reply(503, {"error": "Service Unavailable"}), times=1)
    with _client(platform) as client:
        assert client.post("/posts", json={"text": "Bonjour"}) == {"id": "1"}
    assert len(platform.requests_to("POST", "/posts")) == 2


def test_a_post_always_answered_503_ends_as_a_plain_transient_error(platform: _Platform) -> None:
    platform.script("/posts", Reply(503, {"error": "Service Unavailable"}), times=5)
    with _client(platform) as client, pytest.raises(TransientError) as raised:
        client.post("/posts", json={"text": "Bonjour"})
    assert not isinstance(raised.value, OutcomeUnknown)
    assert len(platform.requests_to("POST", "/posts")) == 3


def test_a_read_that_timed_out_is_retried_in_the_call_as_before(platform: _Platform) -> None:
    platform.slow = True
    with _client(platform) as client, pytest.raises(TransientError) as raised:
        client.get("/posts")
    assert not isinstance(raised.value, OutcomeUnknown)
    assert len(platform.requests_to("GET", "/posts")) == 3


def test_a_post_that_only_reads_says_so_and_is_retried(platform: _Platform) -> None:
    platform.script("/query", Reply(502, {"error": "upstream"}), times=1)
    with _client(platform) as client:
        assert client.post("/query", json={"q": "x"}, create=False) == {"id": "1"}
    assert len(platform.requests_to("POST", "/query")) == 2


def test_a_put_that_creates_says_so_and_is_not_retried(platform: _Platform) -> None:
    platform.script("/posts/7", Reply(502, {"error": "upstream"}), times=5)
    with _client(platform) as client, pytest.raises(OutcomeUnknown):
        client.request("PUT", "/posts/7", json={"text": "Bonjour"}, create=True)
    assert len(platform.requests_to("PUT", "/posts/7")) == 1


def test_a_post_that_could_not_connect_was_not_sent_and_is_not_unknown() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ApiClient(
        f"http://127.0.0.1:{port}", label="P", key="p:t", retries=1, backoff=0, gate=RateGate()
    )
    with client, pytest.raises(TransientError) as raised:
        client.post("/posts", json={"text": "Bonjour"})
    assert not isinstance(raised.value, OutcomeUnknown)


class _SdkError(Exception):
    """What an SDK raises, carrying the HTTP answer as tweepy and atproto do."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.response = httpx.Response(status)


def _sdk_call(raised: Exception) -> tuple[list[int], object]:
    calls: list[int] = []

    def call() -> str:
        calls.append(1)
        raise raised

    return calls, call


@pytest.mark.parametrize(
    "raised",
    [_SdkError(500), _SdkError(504), httpx.ReadTimeout("slow"), RuntimeError("hidden")],
    ids=["500", "504", "read-timeout", "cannot-tell"],
)
def test_an_sdk_create_that_may_have_posted_is_unknown_after_one_call(raised: Exception) -> None:
    calls, call = _sdk_call(raised)
    with pytest.raises(OutcomeUnknown):
        retrying(
            call,  # type: ignore[arg-type]
            key="sdk:t",
            label="SDK",
            translate=lambda exc: TransientError(str(exc)),
            backoff=0,
            gate=RateGate(),
            create=True,
        )
    assert len(calls) == 1


@pytest.mark.parametrize(
    "raised",
    [_SdkError(503), httpx.ConnectError("refused")],
    ids=["503", "connect-error"],
)
def test_an_sdk_create_that_was_not_done_is_retried_in_the_call(raised: Exception) -> None:
    calls, call = _sdk_call(raised)
    with pytest.raises(TransientError) as error:
        retrying(
            call,  # type: ignore[arg-type]
            key="sdk:t",
            label="SDK",
            translate=lambda exc: TransientError(str(exc)),
            retries=2,
            backoff=0,
            gate=RateGate(),
            create=True,
        )
    assert not isinstance(error.value, OutcomeUnknown)
    assert len(calls) == 3


# --- Mastodon: Idempotency-Key ---------------------------------------------------------------


@pytest.fixture
def mastodon() -> Iterator[FakeMastodon]:
    with FakeMastodon() as fake:
        yield fake


def _mastodon(server: FakeMastodon) -> MastodonConnector:
    return MastodonConnector(
        {"base_url": server.base_url}, {"access_token": server.token}, timeout=5
    )


def _replies_to(server: FakeMastodon, parent: str) -> list[str]:
    return [
        s["id"]
        for s in server.statuses.values()
        if s.get("in_reply_to_id") == parent and not s.get("deleted")
    ]


@pytest.mark.parametrize("private", [False, True], ids=["public", "private"])
def test_mastodon_posts_a_reply_sent_twice_with_the_same_key_once(
    mastodon: FakeMastodon, private: bool
) -> None:
    citizen = mastodon.add_account("alice", domain="other.example")
    comment = str(mastodon.add_status("La rue est-elle fermée ?", account=citizen)["id"])
    item = ItemRef(comment, ItemKind.COMMENT, author_id=str(citizen["id"]))
    connector = _mastodon(mastodon)
    send = connector.private_reply if private else connector.reply
    first = send(item, "Oui, jusqu'à lundi.", idempotency_key="reply-key-1")
    again = send(item, "Oui, jusqu'à lundi.", idempotency_key="reply-key-1")
    assert again.platform_id == first.platform_id
    assert _replies_to(mastodon, comment) == [first.platform_id]
    posts = mastodon.requests_to("POST", "/api/v1/statuses")
    assert [p.headers.get("Idempotency-Key") for p in posts] == ["reply-key-1"] * 2
    # Another reply (another key) with the same words is another status.
    other = send(item, "Oui, jusqu'à lundi.", idempotency_key="reply-key-2")
    assert other.platform_id != first.platform_id
    assert sorted(_replies_to(mastodon, comment)) == sorted([first.platform_id, other.platform_id])
