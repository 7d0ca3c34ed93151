"""Alert channels (e-mail, webhook, Matrix): list, edit, delete, send a test."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from beffroi.notify.delivery import DeliveryError
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability
from beffroi.veille import services
from beffroi.veille.delivery import send_test
from beffroi.veille.models import AlertChannel
from beffroi.veille.views.shared import form_page, render_page


@org_view(Capability.MANAGE)
def channels(request: OrgRequest) -> HttpResponse:
    return render_page(request, "channels.html", {"channels": request.org.scoped(AlertChannel)})


@org_view(Capability.MANAGE)
def channel_edit(request: OrgRequest, pk: int | None = None) -> HttpResponse:
    org = request.org
    channel = org.get(AlertChannel, pk=pk) if pk else None
    form = services.channel_form(org.organization, request.POST or None, channel)
    saved = services.save_channel(org.actor, form) if request.method == "POST" else None
    if saved is None:
        page = form_page(request, channel, _("Alert channel"), "veille:channels", "channels")
        return render_page(
            request, "channel_form.html", {"form": form, "object": form.instance, **page}
        )
    messages.success(request, _("The channel “%(name)s” is saved.") % {"name": saved.name})
    return redirect("veille:channels", org_slug=org.organization.slug)


@org_view(Capability.MANAGE)
@require_POST
def channel_delete(request: OrgRequest, pk: int) -> HttpResponse:
    services.delete_channel(request.org.actor, request.org.get(AlertChannel, pk=pk))
    return redirect("veille:channels", org_slug=request.org.organization.slug)


@org_view(Capability.MANAGE)
@require_POST
def channel_test(request: OrgRequest, pk: int) -> HttpResponse:
    """Send a test message now, and say what the channel answered."""
    channel = request.org.get(AlertChannel, pk=pk)
    try:
        send_test(channel)
    except DeliveryError as error:
        messages.error(request, _("The channel refused the test: %(error)s") % {"error": error})
    else:
        messages.success(request, _("The test message was sent."))
    return redirect("veille:channels", org_slug=request.org.organization.slug)
