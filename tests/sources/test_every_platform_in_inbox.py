"""Items from every platform look the same in the inbox: synced from each platform's loopback
fake into a source, listed in the inbox, each with its page and a link back to the original."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

import pytest

from beffroi.connectors.http import RATE_GATE
from beffroi.items.models import Item
from beffroi.sources.models import Source
from beffroi.sources.sync import sync_source
from tests.connectors.harnesses import HARNESSES

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("platform", sorted(HARNESSES))
def test_items_of_every_platform_are_normalized_with_a_link_back(
    platform: str, org: Any, make_user: Any, verified_client: Any
) -> None:
    RATE_GATE.clear()
    with ExitStack() as stack:
        harness = HARNESSES[platform](stack)
        expected = harness.seed(6)
        connector = harness.connect()
        source = Source(
            organization=org, name=platform, platform=platform, settings=connector.settings
        )
        source.set_credentials(dict(connector.credentials))
        source.save()
        sync_source(source)
    items = list(Item.objects.filter(source=source).select_related("author"))
    assert expected <= {i.platform_id for i in items}
    client = verified_client(make_user("lecteur", org=org, role="viewer"))
    inbox = client.get(f"/o/{org.slug}/inbox/", {"source": source.pk})
    assert inbox.status_code == 200
    listed = inbox.content.decode()
    for item in items:
        assert item.platform == platform
        assert item.kind in {k.value for k in Item.Kind}
        assert item.author.handle and item.created_at.tzinfo is not None
        assert item.url.startswith("https://"), (platform, item.url)
        assert f"/items/{item.pk}/" in listed
        page = client.get(f"/o/{org.slug}/items/{item.pk}/").content.decode()
        assert f'href="{item.url.replace("&", "&amp;")}"' in page, (platform, item.url)
    RATE_GATE.clear()
