"""The organization's classifier versions: which is active, retrain, roll back."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from beffroi.jobs.engine import LIVE_STATES
from beffroi.jobs.models import Job
from beffroi.moderation import learning
from beffroi.moderation.models import ClassifierVersion
from beffroi.moderation.queue import retrain_key
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability


@org_view(Capability.MANAGE)
def classifier(request: OrgRequest) -> HttpResponse:
    """The organization's classifier versions: which is active, retrain, roll back."""
    organization = request.org.organization
    versions = (
        request.org.scoped(ClassifierVersion)
        .defer("model")
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )
    running = Job.objects.filter(
        dedupe_key=retrain_key(organization), state__in=LIVE_STATES
    ).first()
    last = (
        request.org.scoped(Job)
        .filter(name="moderation.retrain")
        .order_by("-created_at", "-id")
        .first()
    )
    learnable = learning.learnable_decisions(organization).values("item_id").distinct().count()
    return render(
        request,
        "moderation/classifier.html",
        {
            "nav": "moderation",
            "tab": "classifier",
            "versions": versions,
            "active": next((v for v in versions if v.active), None),
            "running": running,
            "last_job": last,
            "learnable": learnable,
        },
    )


@org_view(Capability.MANAGE)
@require_POST
def classifier_retrain(request: OrgRequest) -> HttpResponse:
    learning.request_retraining(request.org.actor, request.org.organization)
    messages.success(
        request,
        _("Retraining started in the background; the new version is activated when it ends."),
    )
    return redirect("moderation:classifier", org_slug=request.org.organization.slug)


@org_view(Capability.MANAGE)
@require_POST
def classifier_activate(request: OrgRequest, pk: int) -> HttpResponse:
    version = request.org.get(ClassifierVersion.objects.defer("model"), pk=pk)
    learning.activate(request.org.actor, version)
    messages.success(
        request, _("Version %(version)s is now the active classifier.") % {"version": version}
    )
    return redirect("moderation:classifier", org_slug=request.org.organization.slug)


@org_view(Capability.MANAGE)
@require_POST
def classifier_default(request: OrgRequest) -> HttpResponse:
    learning.deactivate_all(request.org.actor, request.org.organization)
    messages.success(request, _("The default model is used again."))
    return redirect("moderation:classifier", org_slug=request.org.organization.slug)
