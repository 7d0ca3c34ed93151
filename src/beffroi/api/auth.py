"""Token authentication and per-organization access for the JSON API.

Every operation needs ``Authorization: Bearer <key>`` with a live :class:`ApiToken`. The
token's user then acts with exactly the roles of their memberships: :func:`scope` applies the
same :func:`beffroi.organizations.access.resolve` check as the web pages, so a non-member gets
404 and a member whose role lacks the capability gets 403. Each operation declares its
capability once, with :func:`requires` under its route decorator.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.core.validators import slug_re
from django.http import Http404, HttpRequest
from ninja.decorators import decorate_view
from ninja.operation import Operation
from ninja.security import HttpBearer
from ninja.utils import contribute_operation_callback

from beffroi.accounts.models import ApiToken
from beffroi.audit.models import AuditEvent
from beffroi.organizations.access import resolve
from beffroi.organizations.context import OrgContext
from beffroi.organizations.roles import Capability

ViewT = TypeVar("ViewT", bound=Callable[..., Any])

#: The OpenAPI extension naming the capability an operation requires.
CAPABILITY_EXTENSION = "x-required-capability"
#: Its value for operations any authenticated user may call.
AUTHENTICATED = "authenticated"
#: The request attribute where the running operation's capability is put for :func:`scope`.
REQUIRED_CAPABILITY = "beffroi_required_capability"


class ApiTokenAuth(HttpBearer):
    """``Authorization: Bearer bfr_…``; unknown, revoked or expired keys are refused."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        if not token:
            return None
        return ApiToken.authenticate(token.strip())


def user_of(request: HttpRequest) -> Any:
    return request.auth.user  # type: ignore[attr-defined]


def scope(request: HttpRequest, slug: str) -> OrgContext:
    """The caller's organization context, or 404 (non-member) / 403 (role).

    The capability checked is the one the operation declares with :func:`requires`: one
    declaration, documented in the OpenAPI schema and enforced here.
    """
    capability = getattr(request, REQUIRED_CAPABILITY, None)
    if not isinstance(capability, Capability):
        raise ImproperlyConfigured(
            "An organization's operation must declare @requires(capability)."
        )
    if not slug_re.match(slug):  # no organization has it; the database may refuse it (NUL)
        raise Http404("No such organization")
    return resolve(user_of(request), slug, capability, AuditEvent.Channel.API)


def requires(capability: Capability | None, description: str = "") -> Callable[[ViewT], ViewT]:
    """Declare, under ``@router.<method>(…)``, the capability an operation requires.

    It is written in the OpenAPI schema (``x-required-capability`` and a sentence in the
    description) and it is what :func:`scope` checks, so the two cannot disagree.
    """
    value = capability.value if capability is not None else AUTHENTICATED
    if capability is None:
        sentence = "Any valid token."
    else:
        sentence = f"Requires the `{value}` capability in the organization."

    def document(operation: Operation) -> None:
        operation.openapi_extra = {**(operation.openapi_extra or {}), CAPABILITY_EXTENSION: value}
        text = description or operation.description
        operation.description = f"{text}\n\n{sentence}" if text else sentence

    def mark(run: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(run)
        def run_requiring(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            setattr(request, REQUIRED_CAPABILITY, capability)
            return run(request, *args, **kwargs)

        return run_requiring

    def decorate(view: ViewT) -> ViewT:
        contribute_operation_callback(view, document)
        return decorate_view(mark)(view)

    return decorate
