"""The organization's counts across the domains, shown by ``beffroi stats`` and the API."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from beffroi.conversations.models import Conversation
from beffroi.counterspeech.models import Entry
from beffroi.items.models import Author, Item
from beffroi.moderation.models import Case, Decision
from beffroi.organizations.models import Organization
from beffroi.publishing.models import Post
from beffroi.sources.models import Source


def organization_stats(org: Organization) -> dict[str, Any]:
    items = Item.objects.for_org(org)
    cases = Case.objects.for_org(org)
    conversations = Conversation.objects.for_org(org)
    requests = conversations.filter(is_request=True)
    return {
        "organization": org.slug,
        "items": items.count(),
        "sources": Source.objects.for_org(org).count(),
        "authors": Author.objects.for_org(org).count(),
        "decisions": Decision.objects.for_org(org).count(),
        "cases": cases.count(),
        "open_cases": cases.exclude(state=Case.State.CLOSED).count(),
        "items_by_kind": dict(items.values_list("kind").annotate(n=Count("id")).order_by("kind")),
        "items_by_platform": dict(
            items.values_list("platform").annotate(n=Count("id")).order_by("platform")
        ),
        "items_by_language": dict(
            items.values_list("language").annotate(n=Count("id")).order_by("language")
        ),
        "conversations_by_state": dict(
            conversations.values_list("state").annotate(n=Count("id")).order_by("state")
        ),
        # Every state, those with no post at 0.
        "posts_by_state": dict.fromkeys(Post.State.values, 0)
        | dict(
            Post.objects.for_org(org).values_list("state").annotate(n=Count("id")).order_by("state")
        ),
        # The organization's own library, every state (those with no entry at 0).
        "counter_speech_entries": dict.fromkeys(Entry.State.values, 0)
        | dict(
            Entry.objects.for_org(org)
            .values_list("state")
            .annotate(n=Count("id"))
            .order_by("state")
        ),
        "requests": {
            "total": requests.count(),
            "by_service": dict(
                requests.values_list("request_service")
                .annotate(n=Count("id"))
                .order_by("request_service")
            ),
            "not_judged": conversations.filter(is_request=None).count(),
        },
    }
