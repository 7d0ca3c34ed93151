"""Fixtures for the API tests: tokens, a JSON client and small data written here."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

FAKE_PLATFORM = "fakesocial"


class ApiClient:
    """Calls the API with an optional bearer key and decodes the JSON answer."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def call(
        self, method: str, path: str, key: str | None = None, body: Any = None, **query: Any
    ) -> Any:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        url = path if path.startswith("/") else f"/api/v1/{path}"
        if query:
            from urllib.parse import urlencode

            url = f"{url}?{urlencode(query)}"
        data = json.dumps(body) if body is not None else ""
        return self.client.generic(
            method.upper(), url, data=data, content_type="application/json", headers=headers
        )

    def get(self, path: str, key: str | None = None, **query: Any) -> Any:
        return self.call("GET", path, key, **query)

    def post(self, path: str, key: str | None = None, body: Any = None) -> Any:
        return self.call("POST", path, key, body if body is not None else {})

    def patch(self, path: str, key: str | None = None, body: Any = None) -> Any:
        return self.call("PATCH", path, key, body if body is not None else {})

    def delete(self, path: str, key: str | None = None) -> Any:
        return self.call("DELETE", path, key)


@pytest.fixture
def api(db: Any) -> ApiClient:
    # CSRF checks on: token-authenticated calls must not need a CSRF token.
    return ApiClient(Client(enforce_csrf_checks=True))


@pytest.fixture
def key_for(db: Any) -> Callable[..., str]:
    """``key_for(user)`` issues a live token and returns its clear key."""
    from beffroi.accounts.models import ApiToken

    def issue(user: Any, *, expires_at: datetime | None = None, revoked: bool = False) -> str:
        token, key = ApiToken.issue(user, "test", expires_at=expires_at)
        if revoked:
            token.revoked = True
            token.save(update_fields=["revoked"])
        return key

    return issue


@pytest.fixture
def member_key(make_user: Callable[..., Any], key_for: Callable[..., str]) -> Callable[..., str]:
    """``member_key(org, "viewer")`` creates a member with that role and returns a key."""
    counter = {"n": 0}

    def make(org: Any, role: str, username: str | None = None) -> str:
        counter["n"] += 1
        user = make_user(username or f"{role}-{org.slug}-{counter['n']}", org=org, role=role)
        return key_for(user)

    return make


@pytest.fixture
def fake_platform(monkeypatch: pytest.MonkeyPatch) -> str:
    """Register the test connector under ``fakesocial``."""
    from beffroi.connectors import registry

    monkeypatch.setitem(registry.BUILTIN, FAKE_PLATFORM, "tests.api.fake_connector:FakeConnector")
    return FAKE_PLATFORM


@pytest.fixture
def make_item(db: Any) -> Callable[..., Any]:
    """``make_item(source, text=..., minutes_ago=..., **fields)`` stores an item and its author."""
    from beffroi.items.models import Author, Item

    counter = {"n": 0}

    def make(source: Any, *, minutes_ago: float = 0, author: Any = None, **fields: Any) -> Any:
        counter["n"] += 1
        n = counter["n"]
        if author is None:
            author, _ = Author.objects.get_or_create(
                organization=source.organization,
                platform=fields.get("platform", "mastodon"),
                platform_id="author-1",
                defaults={"handle": "alice@example.org", "display_name": "Alice"},
            )
        values: dict[str, Any] = {
            "platform": "mastodon",
            "platform_id": f"status-{n}",
            "kind": "comment",
            "text": f"Message {n}",
            "language": "fr",
            "created_at": timezone.now() - timedelta(minutes=minutes_ago),
        }
        values.update(fields)
        return Item.objects.create(
            organization=source.organization, source=source, author=author, **values
        )

    return make
