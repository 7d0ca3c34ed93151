from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """The services' sentences are read in English (pages choose by Accept-Language)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@dataclass
class Desk:
    """An organization and its members: an approver (prepares and sends briefs), a publisher
    (answers), a moderator (answers too), an administrator and a viewer."""

    org: Any
    approver: Any
    publisher: Any
    moderator: Any
    admin: Any
    viewer: Any

    def ctx(self, user: Any) -> Any:
        from beffroi.organizations.context import OrgContext
        from beffroi.organizations.models import Membership

        membership = Membership.objects.select_related("user", "organization").get(
            user=user, organization=self.org
        )
        return OrgContext.for_member(membership, "ui")


def _desk(org: Any, make_user: Any, prefix: str) -> Desk:
    return Desk(
        org=org,
        approver=make_user(f"{prefix}-approver", org=org, role="approver"),
        publisher=make_user(f"{prefix}-publisher", org=org, role="publisher"),
        moderator=make_user(f"{prefix}-moderator", org=org, role="moderator"),
        admin=make_user(f"{prefix}-admin", org=org, role="admin"),
        viewer=make_user(f"{prefix}-viewer", org=org, role="viewer"),
    )


@pytest.fixture
def cell(make_user: Any, db: Any) -> Desk:
    """The national cell: it prepares and sends briefs."""
    from beffroi.organizations.models import Organization

    national = Organization.objects.create(
        slug="cellule-nationale", name="Cellule nationale", kind=Organization.Kind.MINISTRY
    )
    return _desk(national, make_user, "cell")


@pytest.fixture
def asso(make_user: Any, db: Any) -> Desk:
    """The associative cell: a partner that answers."""
    from beffroi.organizations.models import Organization

    association = Organization.objects.create(
        slug="cellule-associative", name="Cellule associative", kind=Organization.Kind.ASSOCIATION
    )
    return _desk(association, make_user, "asso")


@pytest.fixture
def town(org: Any, make_user: Any) -> Desk:
    """The town hall: an organization that is no one's partner."""
    return _desk(org, make_user, "town")
