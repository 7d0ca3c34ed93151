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
    """An organization's library desk: a writer (publisher role: answers citizens), a second
    writer (moderator), an approver (the cabinet), an administrator and a viewer."""

    org: Any
    writer: Any
    moderator: Any
    approver: Any
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
        writer=make_user(f"{prefix}-writer", org=org, role="publisher"),
        moderator=make_user(f"{prefix}-moderator", org=org, role="moderator"),
        approver=make_user(f"{prefix}-approver", org=org, role="approver"),
        admin=make_user(f"{prefix}-admin", org=org, role="admin"),
        viewer=make_user(f"{prefix}-viewer", org=org, role="viewer"),
    )


@pytest.fixture
def desk(org: Any, make_user: Any) -> Desk:
    """The town hall."""
    return _desk(org, make_user, "town")


@pytest.fixture
def cell(make_user: Any, db: Any) -> Desk:
    """A national cell that publishes a library."""
    from beffroi.organizations.models import Organization

    national = Organization.objects.create(
        slug="cellule-nationale", name="Cellule nationale", kind=Organization.Kind.MINISTRY
    )
    return _desk(national, make_user, "cell")


def entry_data(**overrides: Any) -> Any:
    from beffroi.counterspeech.validation import EntryData, SourceData

    values: dict[str, Any] = {
        "title": "Eau du robinet",
        "strategy": "facts",
        "tone": "calm",
        "targets": ["migrants"],
        "topics": ["eau", "santé"],
        "licence": "etalab-2.0",
        "texts": [
            ("fr", "L'eau du robinet est contrôlée chaque semaine : les résultats sont publics."),
            ("en", "Tap water is tested every week: the results are public."),
        ],
        "sources": [SourceData("https://www.example.org/qualite-eau", "Qualité de l'eau")],
    }
    values.update(overrides)
    return EntryData(**values)
