"""Decisions and cases: read-only lists, filtered and paginated."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def key(org: Any, member_key: Any) -> str:
    return member_key(org, "viewer")


def test_decisions_paginated_and_filtered(
    api: Any, org: Any, other_org: Any, source: Any, make_item: Any, make_user: Any, key: str
) -> None:
    from beffroi.moderation.models import Decision
    from beffroi.sources.models import Source

    item = make_item(source)
    other_item = make_item(source)
    moderator = make_user("modo", org=org, role="moderator")
    made = [
        Decision.objects.create(organization=org, item=item, action="hide", automated=True),
        Decision.objects.create(organization=org, item=item, action="keep", actor=moderator),
        Decision.objects.create(organization=org, item=other_item, action="hide", clause="4.2"),
    ]
    foreign = make_item(Source.objects.create(organization=other_org, name="X", platform="file"))
    Decision.objects.create(organization=other_org, item=foreign, action="delete")

    path = f"orgs/{org.slug}/decisions"
    page = api.get(path, key, limit=2).json()
    assert page["count"] == 3
    assert page["limit"] == 2 and page["offset"] == 0
    assert [d["id"] for d in page["items"]] == [made[2].pk, made[1].pk]
    rest = api.get(path, key, limit=2, offset=2).json()
    assert [d["id"] for d in rest["items"]] == [made[0].pk]

    by_action = api.get(path, key, action="hide").json()
    assert {d["id"] for d in by_action["items"]} == {made[0].pk, made[2].pk}
    assert api.get(path, key, item=other_item.pk).json()["items"][0]["clause"] == "4.2"
    assert api.get(path, key, automated="true").json()["count"] == 1
    keep = api.get(path, key, action="keep").json()["items"][0]
    assert keep["actor"] == "modo"
    assert keep["item_id"] == item.pk
    assert api.get(path, key, action="ban").status_code == 422
    assert api.get(path, key, limit=501).status_code == 422


def test_cases_paginated_and_filtered(
    api: Any, org: Any, source: Any, make_item: Any, make_user: Any, key: str
) -> None:
    from beffroi.moderation.models import Case

    item = make_item(source)
    agent = make_user("agent", org=org, role="moderator")
    low = Case.objects.create(organization=org, item=item, priority=1, reason="doubt")
    high = Case.objects.create(
        organization=org, item=item, priority=5, assignee=agent, kind="escalation"
    )
    closed = Case.objects.create(organization=org, item=item, state="closed")

    path = f"orgs/{org.slug}/cases"
    page = api.get(path, key).json()
    assert page["count"] == 3
    assert [c["id"] for c in page["items"]] == [high.pk, low.pk, closed.pk]
    assert page["items"][0]["assignee"] == "agent"
    assert page["items"][1]["reason"] == "doubt"
    assert [c["id"] for c in api.get(path, key, state="closed").json()["items"]] == [closed.pk]
    assert api.get(path, key, limit=1, offset=1).json()["items"][0]["id"] == low.pk
    assert api.get(path, key, state="nope").status_code == 422
