"""Watches: the list, a watch's timeline and items, its form, its deletion."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from beffroi.analysis.watch_query import WatchQueryError
from beffroi.core.exports import stream_csv
from beffroi.items.models import Item
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability
from beffroi.veille import services, watch_query
from beffroi.veille.charts import daily_chart, days_back
from beffroi.veille.models import Alert, Watch
from beffroi.veille.views.shared import (
    CHART_DAYS,
    form_page,
    items_csv,
    page_of,
    render_page,
    wants_csv,
)


@org_view(Capability.ANALYZE)
def watches(request: OrgRequest) -> HttpResponse | StreamingHttpResponse:
    found = request.org.scoped(Watch).annotate(hit_count=Count("hits")).order_by("name")
    if wants_csv(request):
        return stream_csv(
            [
                "name",
                "query",
                "languages",
                "accounts",
                "platforms",
                "sensitivity",
                "enabled",
                "hits",
            ],
            (
                [
                    w.name,
                    w.query,
                    w.languages,
                    w.accounts,
                    w.platforms,
                    w.sensitivity,
                    w.enabled,
                    w.hit_count,
                ]
                for w in found
            ),
            "watches",
            request=request,
        )
    return render_page(request, "watches.html", {"watches": found})


@org_view(Capability.ANALYZE)
def watch_edit(request: OrgRequest, pk: int | None = None) -> HttpResponse:
    org = request.org
    watch = org.get(Watch, pk=pk) if pk else None
    form = services.watch_form(org.organization, org.actor, request.POST or None, watch)
    saved = services.save_watch(org.actor, form) if request.method == "POST" else None
    if saved is None:
        page = form_page(request, form.instance, _("Watch"), "veille:watches", "watches")
        return render_page(
            request, "watch_form.html", {"form": form, "object": form.instance, **page}
        )
    messages.success(
        request,
        _("The watch “%(name)s” is saved and has looked at every item.") % {"name": saved.name},
    )
    return redirect("veille:watch", org_slug=org.organization.slug, pk=saved.pk)


@org_view(Capability.ANALYZE)
@require_POST
def watch_delete(request: OrgRequest, pk: int) -> HttpResponse:
    services.delete_watch(request.org.actor, request.org.get(Watch, pk=pk))
    return redirect("veille:watches", org_slug=request.org.organization.slug)


@org_view(Capability.ANALYZE)
def watch_detail(request: OrgRequest, pk: int) -> HttpResponse | StreamingHttpResponse:
    watch = request.org.get(Watch, pk=pk)
    items = (
        Item.objects.filter(watch_hits__watch=watch)
        .select_related("author")
        .order_by("-created_at")
    )
    if wants_csv(request):
        return items_csv(request, items.iterator(chunk_size=1000), f"watch-{watch.pk}")
    moments = list(items.values_list("created_at", flat=True))
    chart = daily_chart(
        {watch.name: moments},
        days_back(CHART_DAYS),
        title=_("Items per day matched by “%(name)s”") % {"name": watch.name},
        description=_("The watch's timeline over the last %(days)s days.") % {"days": CHART_DAYS},
        id_prefix="watch-timeline",
        others_label="",
        value_label=_("items"),
    )
    return render_page(
        request,
        "watch.html",
        {
            "watch": watch,
            "chart": chart,
            "chart_days": CHART_DAYS,
            "page_obj": page_of(request, items),
            # The watch's spikes, shown as the alert each one raised or joined.
            "alerts": request.org.scoped(Alert)
            .filter(grouped_into=None)
            .filter(Q(series=watch.series) | Q(joined__series=watch.series))
            .distinct()
            .prefetch_related("joined")[:10],
            "platform_search": _platform_search(watch),
        },
    )


def _platform_search(watch: Watch) -> str:
    """The watch's query as the platforms' search boxes take it."""
    try:
        parsed = watch_query.spec_of(watch).parsed
    except WatchQueryError:  # a query saved before a change of the language
        return ""
    return parsed.to_platform_search() if parsed is not None else ""
