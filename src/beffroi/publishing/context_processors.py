"""The pause banner: every page of an organization whose publishing is paused says so."""

from __future__ import annotations

from typing import Any

from django.db.models import prefetch_related_objects
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from beffroi.publishing.models import Pause
from beffroi.publishing.pausing import active_pauses


def pauses_in_force(organization_id: int) -> list[Pause]:
    """The organization's active pauses with who started each (the banner and the pause page
    say it)."""
    pauses = active_pauses(organization_id)
    # No query when active_pauses already joins the person, one otherwise (never one a pause).
    prefetch_related_objects(pauses, "started_by")
    return pauses


def pause_banner(request: HttpRequest) -> dict[str, Any]:
    """``publishing_pauses``: the organization's active pauses, read only when a page shows
    them; nothing outside an organization or for a visitor not logged in."""
    organization = getattr(request, "organization", None)
    user = getattr(request, "user", None)
    if organization is None or user is None or not user.is_authenticated:
        return {}
    return {"publishing_pauses": SimpleLazyObject(lambda: pauses_in_force(organization.pk))}
