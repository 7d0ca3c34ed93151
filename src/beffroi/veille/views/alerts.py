"""Alerts: the list (by kind, or not yet acknowledged), one alert with what lies behind it,
and its acknowledgement."""

from __future__ import annotations

from typing import Any

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
    alerts = request.org.scoped(Alert)
    kind = request.GET.get("kind", "")
    if kind in Alert.Kind.values:
        alerts = alerts.filter(kind=kind)
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
                ]
                for a in found.iterator()
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
    context = alert.context or {}
    items = org.scoped(Item).filter(pk__in=context.get("items", [])).select_related("author")
    return render_page(
        request,
        "alert.html",
        {
            "alert": alert,
            "items": items.order_by("created_at"),
            "accounts": context.get("accounts", []),
            "narratives": org.scoped(Narrative).filter(pk__in=context.get("narratives", [])),
            "claims": org.scoped(CheckedClaim).filter(pk__in=context.get("claims", [])),
            "campaign": org.scoped(Campaign).filter(pk=context.get("campaign") or 0).first(),
            "flag": org.scoped(ImpersonationFlag).filter(pk=context.get("flag") or 0).first(),
            "deliveries": alert.deliveries.select_related("channel"),
        },
    )


@org_view(Capability.ANALYZE)
@require_POST
def alert_acknowledge(request: OrgRequest, pk: int) -> HttpResponse:
    services.acknowledge_alert(request.org.actor, request.org.get(Alert, pk=pk))
    return redirect("veille:alerts", org_slug=request.org.organization.slug)
