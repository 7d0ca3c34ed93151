"""Per-organization access checks shared by the views, the API and the command line."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404

from beffroi.audit.models import AuditEvent
from beffroi.core.sessions import keep_in_session
from beffroi.organizations.context import OrgContext
from beffroi.organizations.models import Membership, Organization
from beffroi.organizations.roles import Capability

#: What a view answers: a page, a redirect, a stream (CSV exports), a file.
ResponseT = TypeVar("ResponseT", bound=HttpResponseBase)


def membership_for(user: Any, organization: Organization) -> Membership | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.filter(user=user, organization=organization).first()


def resolve(user: Any, slug: str, capability: Capability, channel: str) -> OrgContext:
    """The organization context of ``user`` in organization ``slug``, or an error.

    A non-member gets 404 so that organizations cannot be discovered by probing slugs; a
    member whose role lacks ``capability`` gets 403.
    """
    organization = get_object_or_404(Organization, slug=slug)
    membership = membership_for(user, organization)
    if membership is None:
        raise Http404("No such organization")
    context = OrgContext.for_member(membership, channel)
    context.require(capability)
    return context


def org_view(
    capability: Capability,
) -> Callable[[Callable[..., ResponseT]], Callable[..., ResponseT]]:
    """Decorate a view taking ``org_slug``: sets ``request.org`` (an :class:`OrgContext`), and
    ``request.organization`` and ``request.membership`` that templates read."""

    def decorator(view: Callable[..., ResponseT]) -> Callable[..., ResponseT]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, org_slug: str, *args: Any, **kwargs: Any) -> ResponseT:
            context = resolve(request.user, org_slug, capability, AuditEvent.Channel.UI)
            request.org = context  # type: ignore[attr-defined]
            request.organization = context.organization  # type: ignore[attr-defined]
            request.membership = context.membership  # type: ignore[attr-defined]
            keep_in_session(request, "current_org", context.organization.slug)
            return view(request, *args, **kwargs)

        wrapped.required_capability = capability  # type: ignore[attr-defined]
        return wrapped

    return decorator
