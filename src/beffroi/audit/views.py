"""The organization's audit log: a filtered, paginated list and its CSV export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from beffroi.audit.models import AuditEvent
from beffroi.core.exports import stream_csv
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.forms import AuditFilterForm
from beffroi.organizations.roles import Capability

PAGE_SIZE = 50
CSV_COLUMNS = [
    "created_at",
    "actor",
    "channel",
    "action",
    "object_type",
    "object_id",
    "before",
    "after",
    "description",
]


def _pretty(value: Any) -> str:
    if value in (None, {}, []):
        return ""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def filtered_events(request: OrgRequest, form: AuditFilterForm) -> QuerySet[AuditEvent]:
    events = request.org.scoped(AuditEvent)
    if form.is_valid():
        data = form.cleaned_data
        if data.get("action"):
            events = events.filter(action=data["action"])
        if data.get("channel"):
            events = events.filter(channel=data["channel"])
        if data.get("actor"):
            actor = data["actor"].strip()
            events = events.filter(
                Q(actor_label__icontains=actor) | Q(actor__username__icontains=actor)
            )
    return events.select_related("actor").order_by("-created_at", "-id")


def _csv_rows(events: QuerySet[AuditEvent]) -> Iterator[list[Any]]:
    for event in events.iterator(chunk_size=1000):
        yield [
            event.created_at,
            event.actor_label,
            event.channel,
            event.action,
            event.object_type,
            event.object_id,
            event.before,
            event.after,
            event.sentence,
        ]


@org_view(Capability.MANAGE)
def audit_log(request: OrgRequest) -> HttpResponse | StreamingHttpResponse:
    organization = request.org.organization
    actions = list(
        request.org.scoped(AuditEvent)
        .order_by("action")
        .values_list("action", flat=True)
        .distinct()
    )
    form = AuditFilterForm(request.GET or None, actions=actions)
    events = filtered_events(request, form)
    if request.GET.get("format") == "csv":
        return stream_csv(
            CSV_COLUMNS, _csv_rows(events), f"audit-{organization.slug}", request=request
        )
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    for event in page.object_list:
        event.before_json = _pretty(event.before)  # type: ignore[attr-defined]
        event.after_json = _pretty(event.after)  # type: ignore[attr-defined]
    return render(
        request,
        "audit/log.html",
        {"nav": "audit", "form": form, "page_obj": page, "total": page.paginator.count},
    )
