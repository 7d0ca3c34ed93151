"""Impersonation: the protected identities (list, form, deletion) and the accounts that
imitate them (list, one account with its report, the decision on it)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from beffroi.core.exports import stream_csv
from beffroi.items.models import Item
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability
from beffroi.veille import services
from beffroi.veille.impersonation import report_language, report_text
from beffroi.veille.models import ImpersonationFlag, ProtectedIdentity
from beffroi.veille.views.shared import form_page, page_of, render_page, wants_csv


@org_view(Capability.ANALYZE)
def identities_list(request: OrgRequest) -> HttpResponse:
    found = (
        request.org.scoped(ProtectedIdentity)
        .annotate(open_flags=Count("flags", filter=Q(flags__status=ImpersonationFlag.Status.OPEN)))
        .order_by("name")
    )
    return render_page(request, "identities.html", {"identities": found})


@org_view(Capability.ANALYZE)
def identity_edit(request: OrgRequest, pk: int | None = None) -> HttpResponse:
    org = request.org
    identity = org.get(ProtectedIdentity, pk=pk) if pk else None
    form = services.identity_form(
        org.organization, request.POST or None, request.FILES or None, identity
    )
    saved = services.save_identity(org.actor, form) if request.method == "POST" else None
    if saved is None:
        page = form_page(
            request, identity, _("Protected identity"), "veille:identities", "impersonators"
        )
        return render_page(
            request, "identity_form.html", {"form": form, "object": form.instance, **page}
        )
    messages.success(
        request,
        _("“%(name)s” is protected; every account will be checked against it.")
        % {"name": saved.name},
    )
    return redirect("veille:identities", org_slug=org.organization.slug)


@org_view(Capability.ANALYZE)
@require_POST
def identity_delete(request: OrgRequest, pk: int) -> HttpResponse:
    services.delete_identity(request.org.actor, request.org.get(ProtectedIdentity, pk=pk))
    return redirect("veille:identities", org_slug=request.org.organization.slug)


@org_view(Capability.READ_VEILLE)
def impersonators(request: OrgRequest) -> HttpResponse | StreamingHttpResponse:
    found = request.org.scoped(ImpersonationFlag).select_related("author", "identity")
    status = request.GET.get("status", ImpersonationFlag.Status.OPEN)
    if status in ImpersonationFlag.Status.values:
        found = found.filter(status=status)
    if wants_csv(request):
        return stream_csv(
            [
                "platform",
                "handle",
                "display_name",
                "profile",
                "imitates",
                "score",
                "evidence",
                "status",
                "flagged_at",
            ],
            (
                [
                    f.author.platform,
                    f.author.handle,
                    f.author.display_name,
                    f.author.url,
                    f.identity.name,
                    f.score,
                    f.evidence,
                    f.status,
                    f.created_at,
                ]
                for f in found
            ),
            "impersonators",
            request=request,
        )
    return render_page(
        request,
        "impersonators.html",
        {
            "page_obj": page_of(request, found),
            "statuses": ImpersonationFlag.Status.choices,
            "status": status,
        },
    )


@org_view(Capability.READ_VEILLE)
def impersonator_detail(request: OrgRequest, pk: int) -> HttpResponse:
    flag = request.org.get(ImpersonationFlag.objects.select_related("author", "identity"), pk=pk)
    items = Item.objects.filter(author=flag.author).order_by("-created_at")[:50]
    return render_page(
        request,
        "impersonator.html",
        {
            "flag": flag,
            "items": items,
            "report": report_text(flag),
            "report_language": report_language(flag.organization),
            "statuses": ImpersonationFlag.Status.choices,
        },
    )


@org_view(Capability.ANALYZE)
@require_POST
def impersonator_status(request: OrgRequest, pk: int) -> HttpResponse:
    flag = request.org.get(ImpersonationFlag, pk=pk)
    services.decide_impersonation(request.org.actor, flag, request.POST.get("status", ""))
    return redirect("veille:impersonator", org_slug=request.org.organization.slug, pk=pk)
