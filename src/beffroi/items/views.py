"""The inbox, the item page and the author page. Every query is scoped to the organization."""

from __future__ import annotations

import json
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from beffroi.core.exports import stream_csv
from beffroi.items.display import INBOX_COLUMNS, media_rows, metric_rows, url_rows
from beffroi.items.filtersets import ItemFilter
from beffroi.items.models import Author, Item
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability

PAGE_SIZE = 50
#: A thread longer than this is cut (the current item is always shown).
THREAD_LIMIT = 500
MAX_DEPTH_SHOWN = 6


def _organization_items(request: OrgRequest) -> Any:
    return request.org.scoped(Item).select_related("author", "source")


EXPORT_COLUMNS = [
    "created_at",
    "platform",
    "source",
    "kind",
    "author",
    "author_name",
    "language",
    "state",
    "text",
    "url",
    "platform_id",
    "thread_id",
    "parent_id",
    "metrics",
]


def _export_rows(items: Any) -> Any:
    for item in items.iterator(chunk_size=1000):
        yield [
            item.created_at,
            item.platform,
            item.source.name,
            item.kind,
            item.author.handle,
            item.author.display_name,
            item.language,
            item.state,
            item.text,
            item.url,
            item.platform_id,
            item.thread_id,
            item.parent_platform_id,
            item.metrics,
        ]


@org_view(Capability.VIEW)
def inbox(request: OrgRequest) -> HttpResponse | StreamingHttpResponse:
    queryset = _organization_items(request).order_by("-created_at", "-id")
    filterset = ItemFilter(request.GET or None, queryset=queryset, request=request)
    items = filterset.qs if filterset.is_bound else queryset
    if request.GET.get("format") == "csv":
        slug = request.org.organization.slug
        return stream_csv(EXPORT_COLUMNS, _export_rows(items), f"items-{slug}", request=request)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "nav": "inbox",
        "filter": filterset,
        "page_obj": page,
        "columns": INBOX_COLUMNS,
        "filtered": filterset.is_bound and any(v for k, v in request.GET.items() if k != "page"),
        "htmx_target": "#results",
    }
    htmx = getattr(request, "htmx", None)
    partial = bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]
    template = "items/_results.html" if partial else "items/inbox.html"
    response = render(request, template, context)
    # The same URL answers a fragment or a page: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response


def thread_of(item: Item) -> tuple[list[tuple[Item, int]], bool]:
    """The item's conversation in its organization, in reading order, with each item's depth.

    The thread is the root post (platform id = thread id) and every item carrying the same
    thread id; depth follows the parent links inside it. Returns the rows and whether the
    thread was cut at :data:`THREAD_LIMIT`.
    """
    members = list(
        Item.objects.for_org(item.organization)
        .filter(item.thread_members())
        .select_related("author")
        .order_by("created_at", "id")[: THREAD_LIMIT + 1]
    )
    truncated = len(members) > THREAD_LIMIT
    members = members[:THREAD_LIMIT]
    if item.pk not in {m.pk for m in members}:
        members.append(item)
    by_id = {m.pk: m for m in members}
    children: dict[int | None, list[Item]] = {}
    for member in members:
        parent = member.parent_id if member.parent_id in by_id else None
        children.setdefault(parent, []).append(member)
    rows: list[tuple[Item, int]] = []
    seen: set[int] = set()

    def walk(node: Item, depth: int) -> None:
        if node.pk in seen:
            return
        seen.add(node.pk)
        rows.append((node, depth))
        for child in children.get(node.pk, []):
            walk(child, depth + 1)

    for root in children.get(None, []):
        walk(root, 0)
    for member in members:  # cycles in bad data: show what was not reached
        if member.pk not in seen:
            walk(member, 0)
    return rows, truncated


@org_view(Capability.VIEW)
def item_detail(request: OrgRequest, pk: int) -> HttpResponse:
    item = request.org.get(_organization_items(request), pk=pk)
    rows, truncated = thread_of(item)
    thread = [
        {"item": member, "depth": min(depth, MAX_DEPTH_SHOWN), "level": depth + 1}
        for member, depth in rows
    ]
    context = {
        "nav": "inbox",
        "item": item,
        "author": item.author,
        "author_items": request.org.scoped(Item).filter(author=item.author).count(),
        "thread": thread if len(thread) > 1 else [],
        "thread_truncated": truncated,
        "urls": url_rows(item.urls),
        "media": media_rows(item.media),
        "metrics": metric_rows(item.metrics),
        "decisions": item.decisions.select_related("actor").order_by("-created_at"),
        "cases": item.cases.select_related("assignee").order_by("-created_at"),
        "raw_json": json.dumps(item.raw, indent=2, ensure_ascii=False, sort_keys=True),
    }
    return render(request, "items/item.html", context)


@org_view(Capability.VIEW)
def author_detail(request: OrgRequest, pk: int) -> HttpResponse:
    author = request.org.get(Author, pk=pk)
    items = (
        request.org.scoped(Item)
        .filter(author=author)
        .select_related("source", "author")
        .order_by("-created_at", "-id")
    )
    by_kind = dict(items.order_by().values_list("kind").annotate(n=Count("id")))
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    kinds = [(label, by_kind[value]) for value, label in Item.Kind.choices if value in by_kind]
    context = {
        "nav": "inbox",
        "author": author,
        "page_obj": page,
        "columns": INBOX_COLUMNS,
        "total": page.paginator.count,
        "by_kind": kinds,
    }
    return render(request, "items/author.html", context)
