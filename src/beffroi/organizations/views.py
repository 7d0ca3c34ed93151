"""Organization settings: details, members and invitations; a person's own invitations.
Every change goes through the services."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from beffroi.audit.models import AuditEvent
from beffroi.audit.services import Actor
from beffroi.organizations import services
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.forms import (
    CreateMemberForm,
    InviteMemberForm,
    OrganizationForm,
    RoleForm,
)
from beffroi.organizations.models import (
    Invitation,
    Membership,
    Organization,
    listed_invitations,
    open_invitations,
)
from beffroi.organizations.roles import Capability, Role

TEMPORARY_PASSWORD_BYTES = 12


def _error_text(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


@org_view(Capability.MANAGE)
def settings_view(request: OrgRequest) -> HttpResponse:
    organization = request.org.organization
    # The form edits a copy: the change itself is made by the service (which audits it).
    copy = Organization.objects.get(pk=organization.pk)
    form = OrganizationForm(request.POST or None, instance=copy)
    if request.method == "POST" and form.is_valid():
        if form.has_changed():
            changes = {name: form.cleaned_data[name] for name in form.changed_data}
            try:
                services.update_organization(request.org.actor, organization, **changes)
            except ValidationError as exc:
                messages.error(request, _error_text(exc))
            else:
                messages.success(request, _("The organization is saved."))
        else:
            messages.info(request, _("Nothing changed."))
        return redirect("organizations:settings", org_slug=organization.slug)
    return render(request, "organizations/settings.html", {"nav": "settings", "form": form})


def _members_context(request: OrgRequest, **extra: Any) -> dict[str, Any]:
    organization = request.org.organization
    memberships = list(
        request.org.scoped(Membership).select_related("user").order_by("user__username")
    )
    for membership in memberships:
        membership.shown_email = membership.email_shown_to(request.user)  # type: ignore[attr-defined]
    return {
        "nav": "members",
        "memberships": memberships,
        "invitations": listed_invitations(organization),
        "roles": Role.choices,
        "invite_form": extra.pop("invite_form", None) or InviteMemberForm(prefix="invite"),
        "create_form": extra.pop("create_form", None) or CreateMemberForm(prefix="new"),
        **extra,
    }


@org_view(Capability.MANAGE)
def members(request: OrgRequest) -> HttpResponse:
    return render(request, "organizations/members.html", _members_context(request))


@org_view(Capability.MANAGE)
@require_POST
def member_invite(request: OrgRequest) -> HttpResponse:
    """Invite an existing account: the answer never tells whether one matched."""
    organization = request.org.organization
    form = InviteMemberForm(request.POST, prefix="invite")
    if form.is_valid():
        try:
            invitation = services.invite(
                request.org.actor,
                organization,
                form.cleaned_data["identifier"],
                form.cleaned_data["role"],
            )
        except ValidationError as exc:
            form.add_error(None if hasattr(exc, "error_dict") else "identifier", exc)
        else:
            messages.success(
                request,
                _(
                    "Invitation recorded for “%(identifier)s”. If an account matches, its "
                    "owner sees it and becomes a member once they accept."
                )
                % {"identifier": invitation.identifier},
            )
            return redirect("organizations:members", org_slug=organization.slug)
    return render(
        request,
        "organizations/members.html",
        _members_context(request, invite_form=form),
        status=400,
    )


@org_view(Capability.MANAGE)
@require_POST
def invitation_revoke(request: OrgRequest, pk: int) -> HttpResponse:
    organization = request.org.organization
    invitation = request.org.get(Invitation, pk=pk)
    try:
        services.revoke_invitation(request.org.actor, invitation)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(
            request,
            _("The invitation to “%(identifier)s” is revoked.")
            % {"identifier": invitation.identifier},
        )
    return redirect("organizations:members", org_slug=organization.slug)


@org_view(Capability.MANAGE)
@require_POST
def member_create(request: OrgRequest) -> HttpResponse:
    """Create an account with a temporary password, shown once in this response."""
    organization = request.org.organization
    form = CreateMemberForm(request.POST, prefix="new")
    if not form.is_valid():
        return render(
            request,
            "organizations/members.html",
            _members_context(request, create_form=form),
            status=400,
        )
    password = secrets.token_urlsafe(TEMPORARY_PASSWORD_BYTES)
    user = services.create_account(
        request.org.actor,
        organization,
        form.cleaned_data["username"],
        form.cleaned_data["email"],
        password,
        form.cleaned_data["role"],
    ).user
    response = render(
        request,
        "organizations/member_created.html",
        {"nav": "members", "new_user": user, "temporary_password": password},
    )
    add_never_cache_headers(response)
    return response


@org_view(Capability.MANAGE)
@require_POST
def member_role(request: OrgRequest, pk: int) -> HttpResponse:
    organization = request.org.organization
    membership = request.org.get(Membership, pk=pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a valid role."))
    else:
        try:
            services.change_role(request.org.actor, membership, form.cleaned_data["role"])
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(
                request,
                _("%(user)s is now %(role)s.")
                % {"user": membership.user.get_username(), "role": membership.get_role_display()},
            )
    return redirect("organizations:members", org_slug=organization.slug)


@org_view(Capability.MANAGE)
@require_POST
def member_remove(request: OrgRequest, pk: int) -> HttpResponse:
    organization = request.org.organization
    membership = request.org.get(Membership.objects.select_related("user"), pk=pk)
    username = membership.user.get_username()
    try:
        services.remove_member(request.org.actor, membership)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("%(user)s is no longer a member.") % {"user": username})
    if (
        membership.user_id == request.user.pk
        and not request.org.scoped(Membership).filter(user=request.user).exists()
    ):
        return redirect("core:home")
    return redirect("organizations:members", org_slug=organization.slug)


# --- a person's own invitations (outside any organization) ----------------------------------


@never_cache
@login_required
def my_invitations(request: HttpRequest) -> HttpResponse:
    invitations = (
        open_invitations(request.user)
        .select_related("organization", "invited_by")
        .order_by("-created_at")
    )
    return render(
        request,
        "organizations/invitations.html",
        {"nav": "invitations", "invitations": invitations},
    )


@never_cache
@login_required
def invitation_open(request: HttpRequest, key: str) -> HttpResponse:
    """The link of an invitation's e-mail: it leads its invitee to their invitations."""
    invitation = services.invitation_for_key(key)
    if invitation is None or invitation.invitee_id != request.user.pk or not invitation.is_open:
        # The same sentence whatever the reason, so that a link tells nobody else anything.
        messages.warning(
            request,
            _(
                "This invitation link is no longer valid: it was answered, revoked or replaced "
                "by a newer e-mail, it expired, or it is for another account."
            ),
        )
        return redirect("invitations:list")
    return redirect(f"{reverse('invitations:list')}#invitation-{invitation.pk}")


def _own_invitation(request: HttpRequest, pk: int) -> Invitation:
    return get_object_or_404(
        Invitation.objects.select_related("organization"), pk=pk, invitee=request.user
    )


@login_required
@require_POST
def invitation_accept(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = _own_invitation(request, pk)
    try:
        membership = services.accept_invitation(
            Actor(request.user, AuditEvent.Channel.UI), invitation
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("invitations:list")
    messages.success(
        request,
        _("You joined %(organization)s as %(role)s.")
        % {
            "organization": membership.organization.name,
            "role": membership.get_role_display(),
        },
    )
    return redirect("overview:dashboard", org_slug=membership.organization.slug)


@login_required
@require_POST
def invitation_decline(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = _own_invitation(request, pk)
    try:
        services.decline_invitation(Actor(request.user, AuditEvent.Channel.UI), invitation)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(
            request,
            _("You declined the invitation of %(organization)s.")
            % {"organization": invitation.organization.name},
        )
    return redirect("invitations:list")
