"""The dashboard, the inbox, the item page and the author page. Every query is scoped to the
organization."""

from __future__ import annotations

import json
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from beffroi.core.charts import bar_chart, legend, meter_bar
from beffroi.core.exports import stream_csv
from beffroi.items.dashboard import BUSY_THREAD_DAYS, CHART_DAYS, Dashboard, build_dashboard
from beffroi.items.filtersets import ItemFilter
from beffroi.items.models import Author, Item
from beffroi.items.tables import INBOX_COLUMNS, media_rows, metric_rows, url_rows
from beffroi.organizations.access import org_view
from beffroi.organizations.roles import Capability

PAGE_SIZE = 50
#: A thread longer than this is cut (the current item is always shown).
THREAD_LIMIT = 500
MAX_DEPTH_SHOWN = 6


def _organization_items(request: HttpRequest) -> Any:
    return Item.objects.filter(organization=request.organization).select_related(  # type: ignore[attr-defined]
        "author", "source"
    )


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


def _chart_description(dashboard: Dashboard) -> str:
    chart = dashboard.chart
    if not chart.total:
        return _("No item in the last %(days)s days.") % {"days": CHART_DAYS}
    text = ngettext(
        "%(total)s item in the last %(days)s days.",
        "%(total)s items in the last %(days)s days.",
        chart.total,
    ) % {"total": chart.total, "days": CHART_DAYS}
    busiest = chart.busiest
    if busiest is not None:
        text += " " + _("Busiest day: %(day)s, with %(count)s.") % {
            "day": date_format(busiest[0], "l j F"),
            "count": busiest[1],
        }
    return text


@org_view(Capability.VIEW)
def dashboard(request: HttpRequest) -> HttpResponse:
    """What to look at first: volumes, what waits, sources in trouble, busy conversations."""
    data = build_dashboard(request.organization)  # type: ignore[attr-defined]
    chart = data.chart
    kind_max = max((share.count for share in data.kinds), default=0)
    language_max = max((share.count for share in data.languages), default=0)
    context = {
        "nav": "dashboard",
        "dash": data,
        "counters": data.counters,
        "chart_days": CHART_DAYS,
        "since": chart.days[0],
        "thread_days": BUSY_THREAD_DAYS,
        "chart_svg": bar_chart(
            chart.series,
            [date_format(day, "j N") for day in chart.days],
            title=_("Items per day and platform, last %(days)s days") % {"days": CHART_DAYS},
            description=_chart_description(data),
            id_prefix="daily-chart",
            label_every=5,
            value_label=_("items"),
            width=960,
            height=280,
        ),
        "chart_legend": legend(chart.series, id_prefix="daily-legend"),
        "chart_names": list(chart.series),
        "chart_rows": chart.rows,
        "chart_totals": chart.series_totals,
        "chart_total": chart.total,
        "kinds": [(share, meter_bar(share.count, kind_max)) for share in data.kinds],
        "languages": [(share, meter_bar(share.count, language_max)) for share in data.languages],
        "recent": data.recent,
        "columns": INBOX_COLUMNS,
        "threads": data.threads,
        "sources_in_error": data.sources_in_error,
    }
    return render(request, "items/dashboard.html", context)


@org_view(Capability.VIEW)
def inbox(request: HttpRequest) -> HttpResponse:
    queryset = _organization_items(request).order_by("-created_at", "-id")
    filterset = ItemFilter(request.GET or None, queryset=queryset, request=request)
    items = filterset.qs if filterset.is_bound else queryset
    if request.GET.get("format") == "csv":
        slug = request.organization.slug  # type: ignore[attr-defined]
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
    key = item.thread_id or item.platform_id
    members = list(
        Item.objects.filter(organization=item.organization, platform=item.platform)
        .filter(Q(thread_id=key) | Q(platform_id=key))
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
def item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(_organization_items(request), pk=pk)
    rows, truncated = thread_of(item)
    thread = [
        {"item": member, "depth": min(depth, MAX_DEPTH_SHOWN), "level": depth + 1}
        for member, depth in rows
    ]
    context = {
        "nav": "inbox",
        "item": item,
        "author": item.author,
        "author_items": Item.objects.filter(
            organization=request.organization,  # type: ignore[attr-defined]
            author=item.author,
        ).count(),
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
def author_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    author = get_object_or_404(Author, organization=organization, pk=pk)
    items = (
        Item.objects.filter(organization=organization, author=author)
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
