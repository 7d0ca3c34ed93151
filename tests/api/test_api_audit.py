"""The audit trail through the API: this organization's events only, newest first."""

from __future__ import annotations

from typing import Any


def test_audit_list_paginated_and_filtered(
    api: Any, org: Any, other_org: Any, make_user: Any, key_for: Any
) -> None:
    from beffroi.audit.services import Actor, record

    admin = make_user("root", org=org, role="admin")
    key = key_for(admin)
    ui = Actor(admin, "ui")
    first = record(ui, "source.create", organization=org, after={"name": "A"})
    second = record(Actor(admin, "cli"), "source.update", organization=org)
    third = record(ui, "membership.create", organization=org)
    record(ui, "source.create", organization=other_org, after={"name": "elsewhere"})

    path = f"orgs/{org.slug}/audit"
    page = api.get(path, key, limit=2).json()
    assert page["count"] == 3
    assert [e["id"] for e in page["items"]] == [third.pk, second.pk]
    assert [e["id"] for e in api.get(path, key, limit=2, offset=2).json()["items"]] == [first.pk]
    assert "elsewhere" not in api.get(path, key).content.decode()
    only = api.get(path, key, action="source.create").json()["items"]
    assert [e["id"] for e in only] == [first.pk]
    assert only[0]["actor"] == "root"
    assert only[0]["after"] == {"name": "A"}
    assert [e["id"] for e in api.get(path, key, channel="cli").json()["items"]] == [second.pk]
    assert api.get(path, key, channel="carrier-pigeon").status_code == 422


def test_api_changes_show_up_in_the_audit(api: Any, org: Any, make_user: Any, key_for: Any) -> None:
    key = key_for(make_user("root", org=org, role="admin"))
    api.post(f"orgs/{org.slug}/sources", key, {"name": "I", "platform": "file", "kind": "import"})
    events = api.get(f"orgs/{org.slug}/audit", key, channel="api").json()["items"]
    assert [(e["action"], e["actor_label"], e["channel"]) for e in events] == [
        ("source.create", "api:root", "api")
    ]
