"""Fixtures for the web interface tests: small inbox data written here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.web.factories import make_author, make_item


@pytest.fixture(autouse=True)
def _clear_cache(request: pytest.FixtureRequest) -> Any:
    # The login throttle lives in the cache, a table of the database: every test that uses
    # the database starts with a clean one. What a test writes there is rolled back with
    # it, except in the tests that commit (transaction=True): cleared after those.
    marker = request.node.get_closest_marker("django_db")
    fixtures = set(request.fixturenames)
    if marker is None and not fixtures & {"db", "transactional_db"}:
        yield
        return
    from django.core.cache import cache

    cache.clear()
    yield
    if "transactional_db" in fixtures or (marker is not None and marker.kwargs.get("transaction")):
        cache.clear()


@dataclass
class InboxData:
    org: Any
    source: Any
    other_source: Any
    root: Any
    reply: Any
    nested: Any
    message: Any
    english: Any
    alice: Any
    bob: Any


@pytest.fixture
def inbox_data(org: Any, source: Any) -> InboxData:
    """A thread (post, reply, reply to the reply), a private message and an English post."""
    from beffroi.sources.models import Source

    other_source = Source.objects.create(
        organization=org, name="Second import", platform="file", kind="import"
    )
    alice = make_author(org, "alice", display_name="Alice Martin", url="https://example.org/@alice")
    bob = make_author(org, "bob", display_name="Bob")
    base: datetime = timezone.now() - timedelta(hours=5)
    root = make_item(
        source,
        alice,
        "p1",
        kind="post",
        text="La piscine municipale ouvre samedi.",
        thread_id="p1",
        created_at=base,
        raw={"id": "p1", "secret_sauce": "verbatim-payload-marker"},
        urls=["https://ville.example/piscine", "javascript:alert(1)"],
        metrics={"likes": 12, "replies": 2},
    )
    reply = make_item(
        source,
        bob,
        "c1",
        text="Quels sont les horaires de la piscine ?",
        thread_id="p1",
        parent=root,
        parent_platform_id="p1",
        created_at=base + timedelta(minutes=10),
    )
    nested = make_item(
        source,
        alice,
        "c2",
        kind="reply",
        text="De 9h à 19h, tous les jours.",
        thread_id="p1",
        parent=reply,
        parent_platform_id="c1",
        created_at=base + timedelta(minutes=20),
    )
    message = make_item(
        other_source,
        bob,
        "m1",
        kind="message",
        text="Bonjour, ma rue n'est pas déneigée.",
        created_at=base + timedelta(minutes=30),
    )
    english = make_item(
        source,
        bob,
        "e1",
        kind="post",
        text="The festival starts tonight.",
        language="en",
        created_at=base + timedelta(minutes=40),
    )
    return InboxData(
        org=org,
        source=source,
        other_source=other_source,
        root=root,
        reply=reply,
        nested=nested,
        message=message,
        english=english,
        alice=alice,
        bob=bob,
    )


@pytest.fixture
def member_client(
    make_user: Callable[..., Any], verified_client: Callable[[Any], Any], org: Any
) -> Callable[..., Any]:
    """``member_client("admin")``: a client logged in (two-factor passed) as a member."""
    counter = {"n": 0}

    def login(role: str, organization: Any = None) -> Any:
        counter["n"] += 1
        user = make_user(f"{role}{counter['n']}", org=organization or org, role=role)
        client = verified_client(user)
        client.user = user
        return client

    return login


def audit_actions(org: Any = None) -> list[str]:
    from beffroi.audit.models import AuditEvent

    events = (
        AuditEvent.objects.all() if org is None else AuditEvent.objects.filter(organization=org)
    )
    return list(events.order_by("id").values_list("action", flat=True))
