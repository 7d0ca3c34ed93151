"""The organization's audit log: a filtered, paginated list and its CSV export."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from beffroi.audit.models import AuditEvent
from beffroi.organizations.access import org_view
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
]
#: A spreadsheet would run a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    elif value is None:
        text = ""
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _pretty(value: Any) -> str:
    if value in (None, {}, []):
        return ""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def filtered_events(request: HttpRequest, form: AuditFilterForm) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(organization=request.organization)  # type: ignore[attr-defined]
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


def _csv_rows(events: QuerySet[AuditEvent]) -> Iterator[list[str]]:
    yield CSV_COLUMNS
    for event in events.iterator(chunk_size=1000):
        yield [
            csv_cell(value)
            for value in (
                timezone.localtime(event.created_at).isoformat(),
                event.actor_label,
                event.channel,
                event.action,
                event.object_type,
                event.object_id,
                event.before,
                event.after,
            )
        ]


@org_view(Capability.MANAGE)
def audit_log(request: HttpRequest) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    actions = list(
        AuditEvent.objects.filter(organization=organization)
        .order_by("action")
        .values_list("action", flat=True)
        .distinct()
    )
    form = AuditFilterForm(request.GET or None, actions=actions)
    events = filtered_events(request, form)
    if request.GET.get("format") == "csv":
        writer = csv.writer(_Echo())
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response = StreamingHttpResponse(
            (writer.writerow(row) for row in _csv_rows(events)),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="audit-{organization.slug}-{stamp}.csv"'
        )
        return response
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    for event in page.object_list:
        event.before_json = _pretty(event.before)  # type: ignore[attr-defined]
        event.after_json = _pretty(event.after)  # type: ignore[attr-defined]
    return render(
        request,
        "audit/log.html",
        {"nav": "audit", "form": form, "page_obj": page, "total": page.paginator.count},
    )
