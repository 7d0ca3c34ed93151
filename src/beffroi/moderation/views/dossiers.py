"""Evidence dossiers of an item, JSON and PDF, for a report to the authorities (audited)."""

from __future__ import annotations

from django.http import HttpResponse

from beffroi.items.models import Item
from beffroi.moderation.dossier import DOSSIER_FORMATS, export_dossier
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability


def _dossier(request: OrgRequest, pk: int, fmt: str) -> HttpResponse:
    item = request.org.get(Item.objects.select_related("author", "source", "organization"), pk=pk)
    body = export_dossier(request.org.actor, item, fmt)
    response = HttpResponse(body, content_type=DOSSIER_FORMATS[fmt])
    response["Content-Disposition"] = (
        f'attachment; filename="dossier-{request.org.organization.slug}-{item.pk}.{fmt}"'
    )
    response["Cache-Control"] = "no-store"
    return response


@org_view(Capability.MODERATE)
def dossier_json(request: OrgRequest, pk: int) -> HttpResponse:
    return _dossier(request, pk, "json")


@org_view(Capability.MODERATE)
def dossier_pdf(request: OrgRequest, pk: int) -> HttpResponse:
    return _dossier(request, pk, "pdf")
