from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from beffroi.organizations.models import Membership


def organizations(request: HttpRequest) -> dict[str, Any]:
    """The user's organizations for the switcher and the current one, if any."""
    if not request.user.is_authenticated:
        return {}
    memberships = list(Membership.objects.filter(user=request.user).select_related("organization"))
    current = getattr(request, "organization", None)
    return {
        "user_memberships": memberships,
        "current_organization": current,
        "current_membership": getattr(request, "membership", None),
    }
