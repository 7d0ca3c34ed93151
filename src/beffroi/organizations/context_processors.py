from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from beffroi.organizations.models import Membership, open_invitations
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
        # Counted only where a page shows it (not for every htmx fragment).
        "pending_invitation_count": SimpleLazyObject(
            lambda: open_invitations(request.user).count()
        ),
    }
