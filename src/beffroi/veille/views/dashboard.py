"""The veille's overview: volume per watch and per narrative, the latest findings."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.contrib import messages
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from beffroi.items.models import Item
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability
from beffroi.veille.charts import daily_chart, days_back
from beffroi.veille.models import Alert, Campaign, ImpersonationFlag, Narrative, Watch
from beffroi.veille.queue import request_scan
from beffroi.veille.spikes import domain_of
from beffroi.veille.views.shared import CHART_DAYS, render_page


@org_view(Capability.VIEW)
def dashboard(request: OrgRequest) -> HttpResponse:
    """Volume per watch and per narrative, the latest alerts, campaigns and impersonators,
    the most active accounts and domains."""
    org = request.org
    days = days_back(CHART_DAYS)
    since = timezone.now() - timedelta(days=CHART_DAYS)
    watches = org.scoped(Watch).filter(enabled=True)
    watch_moments = {
        watch.name: list(
            Item.objects.filter(watch_hits__watch=watch, created_at__gte=since).values_list(
                "created_at", flat=True
            )
        )
        for watch in watches
    }
    narratives = list(
        org.scoped(Narrative)
        .filter(status=Narrative.Status.ACTIVE, last_seen__gte=since)
        .order_by("-item_count")[:12]
    )
    narrative_moments = {
        narrative.label: list(
            Item.objects.filter(
                narrative_link__narrative=narrative, created_at__gte=since
            ).values_list("created_at", flat=True)
        )
        for narrative in narratives
    }
    recent = org.scoped(Item).filter(created_at__gte=since)
    accounts = (
        recent.values("author__handle", "author_id")
        .annotate(count=Count("id"))
        .order_by("-count")[:10]
    )
    domains: Counter[str] = Counter()
    for urls in recent.values_list("urls", flat=True).iterator(chunk_size=2000):
        domains.update({domain_of(str(u)) for u in urls if isinstance(u, str)} - {""})
    context = {
        "watch_chart": daily_chart(
            watch_moments,
            days,
            title=_("Items per day and watch, last %(days)s days") % {"days": CHART_DAYS},
            description=_("Items matched by each watch, per day."),
            id_prefix="watch-chart",
            others_label=_("Other watches"),
            value_label=_("items"),
        ),
        "narrative_chart": daily_chart(
            narrative_moments,
            days,
            title=_("Items per day and narrative, last %(days)s days") % {"days": CHART_DAYS},
            description=_("How the largest narratives rise and fall."),
            id_prefix="narrative-chart",
            others_label=_("Other narratives"),
            value_label=_("items"),
        ),
        "chart_days": CHART_DAYS,
        "alerts": org.scoped(Alert).filter(grouped_into=None).prefetch_related("joined")[:8],
        "open_alerts": org.scoped(Alert)
        .filter(grouped_into=None, acknowledged_at__isnull=True)
        .count(),
        "campaigns": org.scoped(Campaign).exclude(status=Campaign.Status.DISMISSED)[:5],
        "flags": org.scoped(ImpersonationFlag)
        .filter(status=ImpersonationFlag.Status.OPEN)
        .select_related("author", "identity")[:5],
        "narratives": narratives[:6],
        "accounts": accounts,
        "domains": domains.most_common(10),
        "watch_count": watches.count(),
    }
    return render_page(request, "dashboard.html", context)


@org_view(Capability.ANALYZE)
@require_POST
def scan_now(request: OrgRequest) -> HttpResponse:
    request_scan(request.org.organization)
    messages.success(request, _("The veille will look at the latest items in a moment."))
    return redirect("veille:dashboard", org_slug=request.org.organization.slug)
