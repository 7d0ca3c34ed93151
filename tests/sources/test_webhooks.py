"""Meta's real-time deliveries: the subscription check, signed deliveries stored in the
sources that read the Page (or Instagram account), and bad signatures refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from beffroi.items.models import Item
from beffroi.sources.models import Source
from beffroi.sources.webhooks import APP_SECRET_ENV, VERIFY_TOKEN_ENV
from tests.fakes.graph_server import FakeGraph

pytestmark = pytest.mark.django_db

APP_SECRET = "meta-app-secret-31f0"


@pytest.fixture
def graph(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGraph]:
    monkeypatch.setenv(APP_SECRET_ENV, APP_SECRET)
    monkeypatch.setenv(VERIFY_TOKEN_ENV, "jeton-de-verification")
    with FakeGraph() as fake:
        yield fake


def page_source(org: Any, graph: FakeGraph, platform: str = "facebook") -> Source:
    key, value = (
        ("page_id", graph.page_id) if platform == "facebook" else ("ig_user_id", graph.ig_user_id)
    )
    source = Source(organization=org, name=platform, platform=platform, settings={key: value})
    source.set_credentials({"access_token": "page-token"})
    source.save()
    return source


def deliver(body: bytes, headers: dict[str, str]) -> Any:
    return Client().post(
        "/webhooks/meta/",
        body,
        content_type="application/json",
        headers={k: v for k, v in headers.items() if k.lower() != "content-type"},
    )


def test_the_subscription_check_answers_the_challenge_only_with_the_verify_token(
    graph: FakeGraph,
) -> None:
    params = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}
    ok = Client().get("/webhooks/meta/", {**params, "hub.verify_token": "jeton-de-verification"})
    assert ok.status_code == 200 and ok.content == b"1158201444"
    refused = Client().get("/webhooks/meta/", {**params, "hub.verify_token": "autre"})
    assert refused.status_code == 403


def test_a_signed_comment_is_stored_once_in_the_page_source(
    org: Any, other_org: Any, graph: FakeGraph
) -> None:
    source = page_source(org, graph)
    unrelated = Source(
        organization=other_org,
        name="Autre page",
        platform="facebook",
        settings={"page_id": "999"},
    )
    unrelated.save()
    post = f"{graph.page_id}_1"
    change = graph.comment_change(f"{post}_42", post, message="Quand rouvre la piscine ?")
    body, headers = graph.webhook_delivery(APP_SECRET, [change])
    answer = deliver(body, headers)
    assert answer.status_code == 200 and json.loads(answer.content) == {"stored": 1}
    [item] = Item.objects.filter(source=source)
    assert item.text == "Quand rouvre la piscine ?"
    assert item.kind == "comment" and item.url.startswith("https://")
    assert not Item.objects.filter(source=unrelated).exists()
    # Meta retries deliveries: the same one again stores nothing new.
    assert json.loads(deliver(body, headers).content) == {"stored": 0}


def test_an_instagram_comment_reaches_the_instagram_source(org: Any, graph: FakeGraph) -> None:
    source = page_source(org, graph, "instagram")
    change = graph.ig_comment_change("17890001", "17850001", text="Superbe photo")
    body, headers = graph.webhook_delivery(APP_SECRET, [change], object_type="instagram")
    assert json.loads(deliver(body, headers).content) == {"stored": 1}
    assert Item.objects.get(source=source).text == "Superbe photo"


def test_a_bad_or_missing_signature_is_refused_and_nothing_is_read(
    org: Any, graph: FakeGraph
) -> None:
    source = page_source(org, graph)
    post = f"{graph.page_id}_1"
    body, headers = graph.webhook_delivery("another-secret", [graph.comment_change("c", post)])
    assert deliver(body, headers).status_code == 403
    assert deliver(body, {}).status_code == 403
    forged = body.replace(b"Nouveau", b"Falsifi")
    _, good = graph.webhook_delivery(APP_SECRET, [graph.comment_change("c", post)])
    assert deliver(forged, good).status_code == 403
    assert not Item.objects.filter(source=source).exists()


def test_webhooks_without_the_app_secret_are_not_accepted(
    graph: FakeGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(APP_SECRET_ENV)
    body, headers = graph.webhook_delivery(APP_SECRET, [])
    assert deliver(body, headers).status_code == 503


def test_a_delivery_that_is_not_json_is_a_clear_400(graph: FakeGraph) -> None:
    import hashlib
    import hmac

    body = b"not json"
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert deliver(body, {"X-Hub-Signature-256": signature}).status_code == 400
