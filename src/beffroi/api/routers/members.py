"""Who belongs to the organization, with which role, and whom it invited; every change is
audited.

An existing account is never added directly: the organization invites it, and its owner
accepts or declines in the web interface (after their password and second factor; an API
token, a script's key, cannot consent for a person). The answer to an invitation is the same
whether or not an account matches, so the API cannot be used to find out who has one.
"""

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from beffroi.api.auth import requires, scope
from beffroi.api.schemas import (
    ERRORS,
    INVALID,
    REFUSED,
    InvitationCreate,
    InvitationId,
    InvitationOut,
    MemberId,
    MemberOut,
    MemberUpdate,
)
from beffroi.organizations.context import OrgContext
from beffroi.organizations.models import Invitation, Membership, listed_invitations
from beffroi.organizations.roles import Capability
from beffroi.organizations.services import (
    change_role,
    invite,
    remove_member,
    revoke_invitation,
)

router = Router(tags=["members"])


@router.get(
    "/orgs/{slug}/members",
    response={200: list[MemberOut], **ERRORS},
    operation_id="list_members",
    summary="Members and their roles",
)
@requires(Capability.MANAGE)
def list_members(request: HttpRequest, slug: str) -> Any:
    ctx = scope(request, slug)
    return list(ctx.scoped(Membership).select_related("user").order_by("user__username"))


def _membership(ctx: OrgContext, member_id: int) -> Membership:
    return ctx.get(Membership.objects.select_related("user", "organization"), pk=member_id)


@router.patch(
    "/orgs/{slug}/members/{member_id}",
    response={200: MemberOut, **REFUSED, **ERRORS, **INVALID},
    operation_id="change_member_role",
    summary="Change a member's role",
)
@requires(Capability.MANAGE, "The last administrator cannot lose the role (400).")
def update(request: HttpRequest, slug: str, member_id: MemberId, payload: MemberUpdate) -> Any:
    ctx = scope(request, slug)
    return change_role(ctx.actor, _membership(ctx, member_id), payload.role)


@router.delete(
    "/orgs/{slug}/members/{member_id}",
    response={204: None, **REFUSED, **ERRORS, **INVALID},
    operation_id="remove_member",
    summary="Remove a member",
)
@requires(Capability.MANAGE, "The last administrator cannot be removed (400).")
def delete(request: HttpRequest, slug: str, member_id: MemberId) -> Any:
    ctx = scope(request, slug)
    remove_member(ctx.actor, _membership(ctx, member_id))
    return Status(204, None)


@router.get(
    "/orgs/{slug}/invitations",
    response={200: list[InvitationOut], **ERRORS},
    operation_id="list_invitations",
    summary="Pending invitations and those answered in the last 30 days",
)
@requires(Capability.MANAGE)
def list_invitations(request: HttpRequest, slug: str) -> Any:
    ctx = scope(request, slug)
    return list(listed_invitations(ctx.organization))


@router.post(
    "/orgs/{slug}/invitations",
    response={202: InvitationOut, **REFUSED, **ERRORS, **INVALID},
    operation_id="invite_member",
    summary="Invite an existing account to the organization",
)
@requires(
    Capability.MANAGE,
    "202: the invitation is recorded, whether or not an account matches `identifier`; "
    "its owner becomes a member only once they accept it in the web interface. 400 when "
    "an invitation to the same identifier is pending, or the account is a member already.",
)
def create_invitation(request: HttpRequest, slug: str, payload: InvitationCreate) -> Any:
    ctx = scope(request, slug)
    return Status(202, invite(ctx.actor, ctx.organization, payload.identifier, payload.role))


@router.post(
    "/orgs/{slug}/invitations/{invitation_id}/revoke",
    response={200: InvitationOut, **REFUSED, **ERRORS, **INVALID},
    operation_id="revoke_invitation",
    summary="Revoke an invitation that is still open",
)
@requires(Capability.MANAGE, "400 when it was already answered, revoked or expired.")
def revoke(request: HttpRequest, slug: str, invitation_id: InvitationId) -> Any:
    ctx = scope(request, slug)
    invitation = ctx.get(Invitation, pk=invitation_id)
    return revoke_invitation(ctx.actor, invitation)
