"""Organization settings: details and members. Every change goes through the services."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from beffroi.audit.services import Actor, record, snapshot
from beffroi.organizations import services
from beffroi.organizations.access import org_view
from beffroi.organizations.forms import (
    AddMemberForm,
    CreateMemberForm,
    OrganizationForm,
    RoleForm,
)
from beffroi.organizations.models import Membership, Organization
from beffroi.organizations.roles import Capability, Role

TEMPORARY_PASSWORD_BYTES = 12


def _actor(request: HttpRequest) -> Actor:
    return Actor(request.user, "ui")


def _error_text(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


@org_view(Capability.MANAGE)
def settings_view(request: HttpRequest) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    # The form edits a copy: the change itself is made by the service (which audits it).
    copy = Organization.objects.get(pk=organization.pk)
    form = OrganizationForm(request.POST or None, instance=copy)
    if request.method == "POST" and form.is_valid():
        if form.has_changed():
            changes = {name: form.cleaned_data[name] for name in form.changed_data}
            try:
                services.update_organization(_actor(request), organization, **changes)
            except ValidationError as exc:
                messages.error(request, _error_text(exc))
            else:
                messages.success(request, _("The organization is saved."))
        else:
            messages.info(request, _("Nothing changed."))
        return redirect("organizations:settings", org_slug=organization.slug)
    return render(request, "organizations/settings.html", {"nav": "settings", "form": form})


def _members_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    organization = request.organization  # type: ignore[attr-defined]
    memberships = (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("user__username")
    )
    return {
        "nav": "members",
        "memberships": memberships,
        "roles": Role.choices,
        "add_form": extra.pop("add_form", None) or AddMemberForm(prefix="add"),
        "create_form": extra.pop("create_form", None) or CreateMemberForm(prefix="new"),
        **extra,
    }


@org_view(Capability.MANAGE)
def members(request: HttpRequest) -> HttpResponse:
    return render(request, "organizations/members.html", _members_context(request))


@org_view(Capability.MANAGE)
@require_POST
def member_add(request: HttpRequest) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    form = AddMemberForm(request.POST, prefix="add")
    if not form.is_valid():
        return render(
            request,
            "organizations/members.html",
            _members_context(request, add_form=form),
            status=400,
        )
    user = form.cleaned_data["identifier"]
    if Membership.objects.filter(organization=organization, user=user).exists():
        messages.warning(
            request,
            _("%(user)s is already a member; change their role in the list.")
            % {"user": user.get_username()},
        )
        return redirect("organizations:members", org_slug=organization.slug)
    try:
        services.add_member(_actor(request), organization, user, form.cleaned_data["role"])
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("%(user)s is now a member.") % {"user": user.get_username()})
    return redirect("organizations:members", org_slug=organization.slug)


@org_view(Capability.MANAGE)
@require_POST
def member_create(request: HttpRequest) -> HttpResponse:
    """Create an account with a temporary password, shown once in this response."""
    organization = request.organization  # type: ignore[attr-defined]
    form = CreateMemberForm(request.POST, prefix="new")
    if not form.is_valid():
        return render(
            request,
            "organizations/members.html",
            _members_context(request, create_form=form),
            status=400,
        )
    password = secrets.token_urlsafe(TEMPORARY_PASSWORD_BYTES)
    actor = _actor(request)
    with transaction.atomic():
        user = get_user_model().objects.create_user(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=password,
        )
        record(actor, "user.create", organization=organization, obj=user, after=snapshot(user))
        services.add_member(actor, organization, user, form.cleaned_data["role"])
    response = render(
        request,
        "organizations/member_created.html",
        {"nav": "members", "new_user": user, "temporary_password": password},
    )
    add_never_cache_headers(response)
    return response


@org_view(Capability.MANAGE)
@require_POST
def member_role(request: HttpRequest, pk: int) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    membership = get_object_or_404(Membership, organization=organization, pk=pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a valid role."))
    else:
        try:
            services.change_role(_actor(request), membership, form.cleaned_data["role"])
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
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    membership = get_object_or_404(
        Membership.objects.select_related("user"), organization=organization, pk=pk
    )
    username = membership.user.get_username()
    try:
        services.remove_member(_actor(request), membership)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("%(user)s is no longer a member.") % {"user": username})
    if (
        membership.user_id == request.user.pk
        and not Membership.objects.filter(organization=organization, user=request.user).exists()
    ):
        return redirect("core:home")
    return redirect("organizations:members", org_slug=organization.slug)
