"""Who acts in which organization: one object built once per request, API call or command.

The web decorator (:func:`beffroi.organizations.access.org_view`), the API's ``scope`` and the
command line each build an :class:`OrgContext`; views, routers and commands read the
organization, check a further capability, fetch the organization's objects and pass the actor
to a service through it, never by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import models
from django.http import Http404

from beffroi.accounts.requests import AuthenticatedRequest
from beffroi.audit.models import AuditEvent
from beffroi.audit.services import Actor
from beffroi.organizations.models import Membership, Organization
from beffroi.organizations.roles import Capability
from beffroi.organizations.scoping import OrgQuerySet, is_org_queryset

ModelT = TypeVar("ModelT", bound=models.Model)


@dataclass(frozen=True)
class OrgContext:
    """The organization, the member acting in it (none on the command line) and the actor."""

    organization: Organization
    membership: Membership | None
    actor: Actor

    @classmethod
    def for_member(cls, membership: Membership, channel: str) -> OrgContext:
        """A member acting through the web interface (``ui``) or the API (``api``)."""
        user = membership.user
        label = f"api:{user.get_username()}" if channel == AuditEvent.Channel.API else ""
        return cls(membership.organization, membership, Actor(user, channel, label))

    @classmethod
    def for_command_line(cls, organization: Organization, label: str) -> OrgContext:
        """The operator at the server's command line: every capability (they own the server)."""
        return cls(organization, None, Actor(None, AuditEvent.Channel.CLI, label))

    @property
    def role(self) -> str | None:
        return self.membership.role if self.membership is not None else None

    def can(self, capability: Capability) -> bool:
        if self.membership is None:
            return self.actor.channel in (AuditEvent.Channel.CLI, AuditEvent.Channel.SYSTEM)
        return self.membership.allows(capability)

    def require(self, capability: Capability) -> None:
        """Refuse (403) unless the actor's role allows ``capability``."""
        if not self.can(capability):
            raise PermissionDenied(f"Your role does not allow '{capability}'.")

    def scoped(self, model: type[ModelT]) -> OrgQuerySet[ModelT]:
        """``model``'s rows of this organization (``Model.objects.for_org``)."""
        # The model's only manager, `objects`; typed here as the OrgManager it is checked to be.
        queryset = model._default_manager.all()
        if not is_org_queryset(queryset):
            raise TypeError(f"{model.__name__} is not organization-owned (objects = OrgManager())")
        return queryset.for_org(self.organization)

    def get(self, model: type[ModelT] | models.QuerySet[ModelT], **lookup: Any) -> ModelT:
        """One object of this organization, or 404: another organization's id is not found."""
        queryset: models.QuerySet[ModelT]
        if isinstance(model, type):
            queryset = self.scoped(model)
        else:  # a narrower queryset (select_related, a state): still this organization's only
            queryset = model & self.scoped(model.model)
        try:
            return queryset.get(**lookup)
        except (ObjectDoesNotExist, ValueError, TypeError) as exc:
            raise Http404(f"No such {queryset.model._meta.verbose_name}") from exc


class OrgRequest(AuthenticatedRequest):
    """A request that went through ``org_view``: its user is a member, its organization
    context is set."""

    org: OrgContext
    organization: Organization
    membership: Membership
