"""Alerts: the list (by kind, or not yet acknowledged), one alert with what lies behind it,
and its acknowledgement."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db.models import Q
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from beffroi.core.exports import stream_csv
from beffroi.items.models import Item
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability
from beffroi.veille import services
from beffroi.veille.models import Alert, Campaign, CheckedClaim, ImpersonationFlag, Narrative
from beffroi.veille.views.shared import page_of, render_page, wants_csv


def _filtered(request: OrgRequest) -> Any:
    # A finding that joined another alert is one of that alert's triggers, not an alert.
    alerts = request.org.scoped(Alert).filter(grouped_into=None).prefetch_related("joined")
    kind = request.GET.get("kind", "")
    if kind in Alert.Kind.values:
        alerts = alerts.filter(Q(kind=kind) | Q(joined__kind=kind)).distinct()
    if request.GET.get("open"):
        alerts = alerts.filter(acknowledged_at__isnull=True)
    return alerts


@org_view(Capability.VIEW)
def alerts(request: OrgRequest) -> HttpResponse | StreamingHttpResponse:
    found = _filtered(request)
    if wants_csv(request):
        return stream_csv(
            [
                "started_at",
                "kind",
                "title",
                "series",
                "observed",
                "expected",
                "score",
                "acknowledged_at",
                "id",
                "triggered_by",
            ],
            (
                [
                    a.started_at,
                    a.kind,
                    a.title,
                    a.series,
                    a.observed,
                    a.expected,
                    a.score,
                    a.acknowledged_at,
                    a.pk,
                    " | ".join(t.describe() for t in a.triggers()),
                ]
                for a in found.iterator(chunk_size=500)
            ),
            "alerts",
            request=request,
        )
    return render_page(
        request,
        "alerts.html",
        {
            "page_obj": page_of(request, found),
            "kinds": Alert.Kind.choices,
            "kind": request.GET.get("kind", ""),
        },
    )


@org_view(Capability.VIEW)
def alert_detail(request: OrgRequest, pk: int) -> HttpResponse:
    org = request.org
    alert = org.get(Alert, pk=pk)
    if alert.grouped_into_id is not None:
        # A trigger is read on the alert it joined, beside the others.
        return redirect("veille:alert", org_slug=org.organization.slug, pk=alert.grouped_into_id)
    triggers = alert.triggers()
    contexts = [trigger.context or {} for trigger in triggers]
    items = org.scoped(Item).filter(pk__in=alert.item_ids()).select_related("author")
    accounts: Counter[str] = Counter()
    for context in contexts:
        for handle, count in context.get("accounts") or []:
            accounts[handle] = max(accounts[handle], int(count))

    def refs(name: str) -> list[Any]:
        return [ref for context in contexts for ref in (context.get(name) or [])]

    campaigns = [c["campaign"] for c in contexts if c.get("campaign")]
    flags = [c["flag"] for c in contexts if c.get("flag")]
    return render_page(
        request,
        "alert.html",
        {
            "alert": alert,
            "triggers": triggers if len(triggers) > 1 else [],
            "items": items.order_by("created_at"),
            "accounts": accounts.most_common(10),
            "narratives": org.scoped(Narrative).filter(pk__in=refs("narratives")),
            "claims": org.scoped(CheckedClaim).filter(pk__in=refs("claims")),
            "campaign": org.scoped(Campaign).filter(pk__in=campaigns).first(),
            "flag": org.scoped(ImpersonationFlag).filter(pk__in=flags).first(),
            "deliveries": alert.deliveries.select_related("channel"),
        },
    )


@org_view(Capability.ANALYZE)
@require_POST
def alert_acknowledge(request: OrgRequest, pk: int) -> HttpResponse:
    services.acknowledge_alert(request.org.actor, request.org.get(Alert, pk=pk))
    return redirect("veille:alerts", org_slug=request.org.organization.slug)
