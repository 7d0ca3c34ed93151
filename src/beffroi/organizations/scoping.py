"""Organization-owned rows are fetched through ``Model.objects.for_org(organization)``.

Every model that belongs to one organization uses :class:`OrgQuerySet` as its manager, so views,
the API and the command line never filter by organization by hand: one spelling, one place to
get it right. A model whose organization is reached through a relation names the path in
``organization_lookup`` (``"version__organization"``).
"""

from __future__ import annotations

from typing import Any, Self

from django.db import models


class OrgQuerySet(models.QuerySet[Any]):
    def for_org(self, organization: Any) -> Self:
        """The rows of ``organization`` only."""
        lookup = getattr(self.model, "organization_lookup", "organization")
        return self.filter(**{lookup: organization})


#: The manager of every organization-owned model (``objects = OrgManager()``).
OrgManager = models.Manager.from_queryset(OrgQuerySet)
