"""The organization's audit trail."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from beffroi.api.auth import requires, scope
from beffroi.api.pagination import offset_page
from beffroi.api.schemas import ERRORS, INVALID, AuditPage, AuditQuery
from beffroi.audit.models import AuditEvent
from beffroi.organizations.roles import Capability

router = Router(tags=["audit"])


@router.get(
    "/orgs/{slug}/audit",
    response={200: AuditPage, **ERRORS, **INVALID},
    operation_id="list_audit_events",
    summary="Audit events, newest first",
)
@requires(Capability.MANAGE)
def list_audit_events(request: HttpRequest, slug: str, filters: Query[AuditQuery]) -> Any:
    ctx = scope(request, slug)
    events = ctx.scoped(AuditEvent).select_related("actor")
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.channel is not None:
        events = events.filter(channel=filters.channel)
    return offset_page(events.order_by("-created_at", "-id"), filters.limit, filters.offset)
