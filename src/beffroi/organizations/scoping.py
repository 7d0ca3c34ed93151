"""Organization-owned rows are fetched through ``Model.objects.for_org(organization)``.

Every model that belongs to one organization uses :class:`OrgQuerySet` as its manager, so views,
the API and the command line never filter by organization by hand: one spelling, one place to
get it right. A model whose organization is reached through a relation names the path in
``organization_lookup`` (``"version__organization"``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Self, TypeGuard, TypeVar

from django.db import models

if TYPE_CHECKING:  # the models import this module
    from beffroi.organizations.models import Organization

ModelT = TypeVar("ModelT", bound=models.Model)


class OrgQuerySet(models.QuerySet[ModelT]):
    """Generic in the model, so that django-stubs types ``Item.objects.for_org(org)`` as
    ``OrgQuerySet[Item]``, and what it gives as items."""

    def for_org(self, organization: Organization | int) -> Self:
        """The rows of ``organization`` (or of the organization of that id) only."""
        lookup = getattr(self.model, "organization_lookup", "organization")
        return self.filter(**{lookup: organization})


#: The manager of every organization-owned model (``objects = OrgManager()``).
OrgManager = models.Manager.from_queryset(OrgQuerySet)


def is_org_queryset(queryset: models.QuerySet[ModelT]) -> TypeGuard[OrgQuerySet[ModelT]]:
    """Whether ``queryset`` comes from an :data:`OrgManager` (its model is organization-owned)."""
    return isinstance(queryset, OrgQuerySet)
