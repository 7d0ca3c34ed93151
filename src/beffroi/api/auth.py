"""Token authentication and per-organization access for the JSON API.

Every operation needs ``Authorization: Bearer <key>`` with a live :class:`ApiToken`. The
token's user then acts with exactly the roles of their memberships: :func:`scope` applies the
same :func:`beffroi.organizations.access.resolve` check as the web pages, so a non-member gets
404 and a member whose role lacks the capability gets 403.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import slug_re
from django.http import Http404, HttpRequest
from ninja.security import HttpBearer

from beffroi.accounts.models import ApiToken
from beffroi.audit.models import AuditEvent
from beffroi.audit.services import Actor
from beffroi.organizations.access import resolve
from beffroi.organizations.models import Membership, Organization
from beffroi.organizations.roles import Capability

#: The OpenAPI extension naming the capability an operation requires.
CAPABILITY_EXTENSION = "x-required-capability"
#: Its value for operations any authenticated user may call.
AUTHENTICATED = "authenticated"


class ApiTokenAuth(HttpBearer):
    """``Authorization: Bearer bfr_…``; unknown, revoked or expired keys are refused."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        if not token:
            return None
        return ApiToken.authenticate(token.strip())


def user_of(request: HttpRequest) -> Any:
    return request.auth.user  # type: ignore[attr-defined]


def scope(
    request: HttpRequest, slug: str, capability: Capability
) -> tuple[Organization, Membership]:
    """The organization and the caller's membership, or 404 (non-member) / 403 (role)."""
    if not slug_re.match(slug):  # no organization has it; the database may refuse it (NUL)
        raise Http404("No such organization")
    return resolve(user_of(request), slug, capability)


def actor(request: HttpRequest) -> Actor:
    """The audit actor for a change made through the API."""
    user = user_of(request)
    return Actor(user, AuditEvent.Channel.API, label=f"api:{user.get_username()}")


def requires(capability: Capability | None, description: str = "") -> dict[str, Any]:
    """Operation keyword arguments that document the capability an operation requires."""
    value = capability.value if capability is not None else AUTHENTICATED
    if capability is None:
        sentence = "Any valid token."
    else:
        sentence = f"Requires the `{value}` capability in the organization."
    text = f"{description}\n\n{sentence}" if description else sentence
    return {"openapi_extra": {CAPABILITY_EXTENSION: value}, "description": text}
