"""The partners (administrators): the organizations of this Beffroi we send briefs to and
receive them from (a proposal, accepted by the partner), and the links with partners of
another Beffroi (a shared secret, its code shown once).

The other side of a partnership is named by its id in the form, as a library is when
subscribing to it: the services look it up among the organization's own partnerships, so an
organization that is not one of them is refused.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from beffroi.briefs import services
from beffroi.briefs.forms import LinkCreateForm, LinkJoinForm, OrganizationChoiceForm, ProposeForm
from beffroi.briefs.models import ExternalPartner, Partnership
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.models import Organization
from beffroi.organizations.roles import Capability


def _back(request: OrgRequest) -> HttpResponse:
    return redirect("briefs:partners", org_slug=request.org.organization.slug)


def _partners_page(request: OrgRequest, **extra: Any) -> HttpResponse:
    organization = request.org.organization
    sending = list(services.partners_of(organization).order_by("organization__name", "id"))
    receiving = list(services.senders_of(organization).order_by("sender__name", "id"))
    context: dict[str, Any] = {
        "nav": "counterspeech",
        "sending": sending,
        "proposals": [p for p in receiving if p.state == Partnership.State.PROPOSED],
        "receiving": [p for p in receiving if p.state == Partnership.State.ACCEPTED],
        "links": list(request.org.scoped(ExternalPartner).order_by("name", "id")),
        "propose_form": ProposeForm(),
        "link_form": LinkCreateForm(),
        "join_form": LinkJoinForm(),
        **extra,
    }
    return render(request, "briefs/partners.html", context)


@org_view(Capability.MANAGE)
def partners(request: OrgRequest) -> HttpResponse:
    return _partners_page(request)


@org_view(Capability.MANAGE)
@require_POST
def propose(request: OrgRequest) -> HttpResponse:
    form = ProposeForm(request.POST)
    if form.is_valid():
        try:
            services.propose_partnership(request.org, form.cleaned_data["partner"])
        except services.BriefError as exc:
            form.add_error("partner", str(exc))
        else:
            messages.success(
                request,
                _("Proposed: the organization receives our briefs once its administrators accept."),
            )
            return _back(request)
    return _partners_page(request, propose_form=form)


def _other(request: OrgRequest) -> Organization | None:
    form = OrganizationChoiceForm(request.POST)
    if not form.is_valid():
        return None
    return Organization.objects.filter(pk=form.cleaned_data["organization"]).first()


def _act(request: OrgRequest, done: str, call: Any) -> HttpResponse:
    other = _other(request)
    try:
        if other is None:
            raise services.BriefError(_("There is no partnership with this organization."))
        call(other)
    except services.BriefError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return _back(request)


@org_view(Capability.MANAGE)
@require_POST
def accept(request: OrgRequest) -> HttpResponse:
    return _act(
        request,
        _("Accepted: the organization's briefs arrive in our desk."),
        lambda sender: services.accept_partnership(request.org, sender),
    )


@org_view(Capability.MANAGE)
@require_POST
def stop_sending(request: OrgRequest) -> HttpResponse:
    return _act(
        request,
        _("We no longer send our briefs to this organization."),
        lambda partner: services.stop_sending(request.org, partner),
    )


@org_view(Capability.MANAGE)
@require_POST
def stop_receiving(request: OrgRequest) -> HttpResponse:
    return _act(
        request,
        _("We no longer receive this organization's briefs."),
        lambda sender: services.stop_receiving(request.org, sender),
    )


@org_view(Capability.MANAGE)
@require_POST
def link_create(request: OrgRequest) -> HttpResponse:
    """A new link: its code is shown on the page this once, never again."""
    form = LinkCreateForm(request.POST)
    if form.is_valid():
        try:
            link, code = services.create_link(request.org, form.cleaned_data["name"])
        except services.BriefError as exc:
            form.add_error("name", str(exc))
        else:
            return _partners_page(request, new_link=link, new_code=code)
    return _partners_page(request, link_form=form)


@org_view(Capability.MANAGE)
@require_POST
def link_join(request: OrgRequest) -> HttpResponse:
    form = LinkJoinForm(request.POST)
    if form.is_valid():
        try:
            services.join_link(request.org, form.cleaned_data["name"], form.cleaned_data["code"])
        except services.BriefError as exc:
            form.add_error("code", str(exc))
        else:
            messages.success(request, _("Link kept: files from this partner can be imported."))
            return _back(request)
    return _partners_page(request, join_form=form)


@org_view(Capability.MANAGE)
@require_POST
def link_delete(request: OrgRequest, pk: int) -> HttpResponse:
    link = request.org.get(ExternalPartner, pk=pk)
    try:
        services.delete_link(request.org, link)
    except services.BriefError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Link deleted: its files are no longer accepted."))
    return _back(request)
