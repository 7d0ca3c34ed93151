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
    """A town hall's publishing desk: an author, two approvers of the cabinet, an admin, and
    two demo accounts (their publications are simulated)."""

    org: Any
    author: Any
    cabinet: list[Any]
    admin: Any
    page: Any
    mastodon: Any

    def actor(self, user: Any) -> Any:
        from beffroi.audit.services import Actor

        return Actor(user, "ui")


@pytest.fixture
def desk(org: Any, make_user: Any) -> Desk:
    from beffroi.sources.models import DEMO_SETTING, Source

    return Desk(
        org=org,
        author=make_user("lucas", org=org, role="publisher"),
        cabinet=[
            make_user("cabinet1", org=org, role="approver"),
            make_user("cabinet2", org=org, role="approver"),
        ],
        admin=make_user("admin", org=org, role="admin"),
        page=Source.objects.create(
            organization=org, name="Page", platform="facebook", settings={DEMO_SETTING: True}
        ),
        mastodon=Source.objects.create(
            organization=org,
            name="Mastodon",
            platform="mastodon",
            settings={DEMO_SETTING: True, "base_url": "https://social.example"},
        ),
    )


@pytest.fixture
def cabinet_workflow(desk: Desk) -> Any:
    """The organization's default workflow: one of the cabinet approves."""
    from beffroi.publishing.models import ApprovalStep, ApprovalWorkflow

    workflow = ApprovalWorkflow.objects.create(organization=desk.org, name="Cabinet")
    step = ApprovalStep.objects.create(workflow=workflow, position=1, name="Cabinet du maire")
    step.approvers.set(desk.cabinet)
    return workflow
