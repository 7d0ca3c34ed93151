"""Who belongs to the organization, with which role; every change is audited."""

from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Status
from ninja.errors import HttpError

from beffroi.api.auth import actor, requires, scope
from beffroi.api.schemas import (
    ERRORS,
    INVALID,
    REFUSED,
    MemberCreate,
    MemberOut,
    MemberUpdate,
)
from beffroi.organizations.models import Membership
from beffroi.organizations.roles import Capability
from beffroi.organizations.services import add_member, change_role, remove_member

router = Router(tags=["members"])


@router.get(
    "/orgs/{slug}/members",
    response={200: list[MemberOut], **ERRORS},
    operation_id="list_members",
    summary="Members and their roles",
    **requires(Capability.MANAGE),
)
def list_members(request: HttpRequest, slug: str) -> Any:
    org, _ = scope(request, slug, Capability.MANAGE)
    return list(
        Membership.objects.filter(organization=org)
        .select_related("user")
        .order_by("user__username")
    )


@router.post(
    "/orgs/{slug}/members",
    response={200: MemberOut, 201: MemberOut, **REFUSED, **ERRORS, **INVALID},
    operation_id="add_member",
    summary="Add an existing user to the organization",
    **requires(
        Capability.MANAGE,
        "201 when the user joins; 200 with the new role when they were already a member.",
    ),
)
def create(request: HttpRequest, slug: str, payload: MemberCreate) -> Any:
    org, _ = scope(request, slug, Capability.MANAGE)
    user = get_user_model().objects.filter(username=payload.username, is_active=True).first()
    if user is None:
        raise HttpError(400, f"No active user named '{payload.username}'.")
    existed = Membership.objects.filter(organization=org, user=user).exists()
    membership = add_member(actor(request), org, user, payload.role)
    return Status(200 if existed else 201, membership)


def _membership(org: Any, member_id: int) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user", "organization"), pk=member_id, organization=org
    )


@router.patch(
    "/orgs/{slug}/members/{member_id}",
    response={200: MemberOut, **REFUSED, **ERRORS, **INVALID},
    operation_id="change_member_role",
    summary="Change a member's role",
    **requires(Capability.MANAGE, "The last administrator cannot lose the role (400)."),
)
def update(request: HttpRequest, slug: str, member_id: int, payload: MemberUpdate) -> Any:
    org, _ = scope(request, slug, Capability.MANAGE)
    return change_role(actor(request), _membership(org, member_id), payload.role)


@router.delete(
    "/orgs/{slug}/members/{member_id}",
    response={204: None, **REFUSED, **ERRORS, **INVALID},
    operation_id="remove_member",
    summary="Remove a member",
    **requires(Capability.MANAGE, "The last administrator cannot be removed (400)."),
)
def delete(request: HttpRequest, slug: str, member_id: int) -> Any:
    org, _ = scope(request, slug, Capability.MANAGE)
    remove_member(actor(request), _membership(org, member_id))
    return Status(204, None)
