from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from beffroi.organizations.models import Invitation, Membership
from beffroi.organizations.roles import ROLE_CAPABILITIES


def organizations(request: HttpRequest) -> dict[str, Any]:
    """The user's organizations for the switcher, the current one, if any, and how many
    invitations wait for their answer."""
    if not request.user.is_authenticated:
        return {}
    memberships = list(Membership.objects.filter(user=request.user).select_related("organization"))
    current = getattr(request, "organization", None)
    membership = getattr(request, "membership", None)
    # Capability names ("view", "manage"…) so templates test capabilities, never roles.
    capabilities = (
        frozenset(str(c) for c in ROLE_CAPABILITIES.get(membership.role, frozenset()))
        if membership is not None
        else frozenset()
    )
    return {
        "user_memberships": memberships,
        "current_organization": current,
        "current_membership": membership,
        "current_capabilities": capabilities,
        "pending_invitation_count": Invitation.objects.filter(
            invitee=request.user, state=Invitation.State.PENDING, expires_at__gt=timezone.now()
        ).count(),
    }
