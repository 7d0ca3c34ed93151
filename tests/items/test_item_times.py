"""Times that are true: a three-week-old comment imported a minute ago shows both times,
each named (published on the platform / arrived in Beffroi), and waits since its arrival;
an author's first post is the platform's time of their earliest item, not the import date."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation

from beffroi.items.models import Item
from beffroi.moderation.models import Case
from tests.web.factories import make_author, make_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def old_comment(org: Any, source: Any) -> Item:
    author = make_author(org, "ancien")
    item: Item = make_item(
        source, author, "c1", text="Un vieux commentaire", created_at=timezone.now()
    )
    # Published three weeks ago, imported just now (ingested_at is set on creation).
    Item.objects.filter(pk=item.pk).update(created_at=timezone.now() - timedelta(days=21))
    item.refresh_from_db()
    return item


def _page(client: Any, name: str, org: Any, **kwargs: Any) -> str:
    response = client.get(
        reverse(name, kwargs={"org_slug": org.slug, **kwargs}), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    return str(response.content.decode())


def test_queue_case_item_and_author_pages_name_both_times(
    org: Any,
    old_comment: Item,
    make_user: Callable[..., Any],
    verified_client: Callable[[Any], Any],
) -> None:
    case = Case.objects.create(organization=org, item=old_comment, reason="test")
    client = verified_client(make_user("modo", org=org, role="admin"))
    published = f'datetime="{timezone.localtime(old_comment.created_at).isoformat()}"'
    assert old_comment.ingested_at is not None
    arrived = f'datetime="{timezone.localtime(old_comment.ingested_at).isoformat()}"'
    with translation.override("en"):
        queue = _page(client, "moderation:queue", org)
        case_page = _page(client, "moderation:case", org, pk=case.pk)
        item_page = _page(client, "items:item", org, pk=old_comment.pk)
        author_page = _page(client, "items:author", org, pk=old_comment.author_id)
    # The queue: the wait counts from the arrival, the platform's time is said apart.
    assert "published 3\xa0weeks ago" in queue and published in queue
    assert "waiting 0\xa0minutes" in queue and arrived in queue
    # The case page: the wait since the arrival, and both dates, each named.
    assert "Waiting for 0\xa0minutes since it arrived" in case_page
    assert "Published on the platform:" in case_page and published in case_page
    assert "Arrived in Beffroi:" in case_page and arrived in case_page
    # The item page: both dates, no wait (an item is not a case).
    assert "Published on the platform:" in item_page and "Arrived in Beffroi:" in item_page
    assert "Waiting for" not in item_page
    # The author: first post on the platform three weeks ago, first seen in Beffroi today.
    first_post = timezone.localtime(old_comment.created_at)
    assert "First post seen" in author_page
    assert f'datetime="{first_post.isoformat()}"' in author_page
    assert "First seen in Beffroi" in author_page and "First post seen" in item_page


def test_an_appeal_waits_since_it_was_opened_not_since_the_item_arrived(
    org: Any, old_comment: Item
) -> None:
    Item.objects.filter(pk=old_comment.pk).update(ingested_at=timezone.now() - timedelta(days=10))
    old_comment.refresh_from_db()
    appeal = Case(item=old_comment, kind=Case.Kind.APPEAL, created_at=timezone.now())
    review = Case(item=old_comment, kind=Case.Kind.REVIEW, created_at=timezone.now())
    template = Template("{% load item_times %}{% item_times item case=case compact=True %}")
    with translation.override("en"):
        on_appeal = template.render(Context({"item": old_comment, "case": appeal}))
        on_review = template.render(Context({"item": old_comment, "case": review}))
    assert "waiting 0\xa0minutes" in on_appeal and "Waiting since the case was opened" in on_appeal
    assert "waiting 1\xa0week, 3\xa0days" in on_review
    assert "Waiting since it arrived in Beffroi" in on_review
