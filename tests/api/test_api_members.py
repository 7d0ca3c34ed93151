"""Members: added, re-roled and removed through the services, with audit events."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def admin(org: Any, make_user: Any) -> Any:
    return make_user("root", org=org, role="admin", email="root@ville.example")


@pytest.fixture
def admin_key(admin: Any, key_for: Any) -> str:
    return key_for(admin)


def test_list_members(api: Any, org: Any, other_org: Any, admin_key: str, make_user: Any) -> None:
    make_user("bob", org=org, role="viewer")
    make_user("eve", org=other_org, role="admin")
    response = api.get(f"orgs/{org.slug}/members", admin_key)
    assert response.status_code == 200
    rows = {r["username"]: r for r in response.json()}
    assert set(rows) == {"root", "bob"}
    assert rows["root"]["role"] == "admin"
    assert rows["root"]["email"] == "root@ville.example"
    assert "password" not in response.content.decode()


def test_add_member_audited(api: Any, org: Any, admin_key: str, make_user: Any) -> None:
    from beffroi.audit.models import AuditEvent
    from beffroi.organizations.models import Membership

    newcomer = make_user("newcomer")
    path = f"orgs/{org.slug}/members"
    response = api.post(path, admin_key, {"username": "newcomer", "role": "analyst"})
    assert response.status_code == 201, response.content
    assert response.json()["role"] == "analyst"
    membership = Membership.objects.get(user=newcomer, organization=org)
    assert response.json()["id"] == membership.pk
    event = AuditEvent.objects.get(action="membership.create")
    assert (event.channel, event.actor_label) == ("api", "api:root")

    again = api.post(path, admin_key, {"username": "newcomer", "role": "moderator"})
    assert again.status_code == 200
    assert again.json()["role"] == "moderator"
    assert AuditEvent.objects.filter(action="membership.update", channel="api").count() == 1


def test_add_member_refusals(api: Any, org: Any, admin_key: str, make_user: Any) -> None:
    path = f"orgs/{org.slug}/members"
    response = api.post(path, admin_key, {"username": "ghost", "role": "viewer"})
    assert response.status_code == 400
    assert "ghost" in response.json()["detail"]
    make_user("sleeper", is_active=False)
    assert api.post(path, admin_key, {"username": "sleeper", "role": "viewer"}).status_code == 400
    make_user("someone")
    response = api.post(path, admin_key, {"username": "someone", "role": "overlord"})
    assert response.status_code == 422


def test_change_role_audited(api: Any, org: Any, admin_key: str, make_user: Any) -> None:
    from beffroi.audit.models import AuditEvent
    from beffroi.organizations.models import Membership

    bob = make_user("bob", org=org, role="viewer")
    membership = Membership.objects.get(user=bob)
    response = api.patch(
        f"orgs/{org.slug}/members/{membership.pk}", admin_key, {"role": "publisher"}
    )
    assert response.status_code == 200
    assert response.json()["role"] == "publisher"
    membership.refresh_from_db()
    assert membership.role == "publisher"
    event = AuditEvent.objects.get(action="membership.update")
    assert event.before["role"] == "viewer" and event.after["role"] == "publisher"
    assert event.channel == "api"


def test_last_admin_is_kept_with_400(api: Any, org: Any, admin: Any, admin_key: str) -> None:
    from beffroi.organizations.models import Membership

    membership = Membership.objects.get(user=admin)
    path = f"orgs/{org.slug}/members/{membership.pk}"
    response = api.patch(path, admin_key, {"role": "viewer"})
    assert response.status_code == 400
    assert "administrat" in response.json()["detail"]  # French by default, English on request
    response = api.delete(path, admin_key)
    assert response.status_code == 400
    assert "administrat" in response.json()["detail"]
    assert Membership.objects.filter(pk=membership.pk, role="admin").exists()


def test_remove_member_audited(api: Any, org: Any, admin_key: str, make_user: Any) -> None:
    from beffroi.audit.models import AuditEvent
    from beffroi.organizations.models import Membership

    bob = make_user("bob", org=org, role="viewer")
    membership = Membership.objects.get(user=bob)
    response = api.delete(f"orgs/{org.slug}/members/{membership.pk}", admin_key)
    assert response.status_code == 204
    assert response.content == b""
    assert not Membership.objects.filter(pk=membership.pk).exists()
    event = AuditEvent.objects.get(action="membership.delete")
    assert event.channel == "api" and event.actor_label == "api:root"
    assert api.delete(f"orgs/{org.slug}/members/{membership.pk}", admin_key).status_code == 404


def test_members_of_another_org_cannot_be_touched(
    api: Any, org: Any, other_org: Any, admin_key: str, make_user: Any
) -> None:
    from beffroi.organizations.models import Membership

    eve = make_user("eve", org=other_org, role="viewer")
    foreign = Membership.objects.get(user=eve)
    path = f"orgs/{org.slug}/members/{foreign.pk}"
    assert api.patch(path, admin_key, {"role": "admin"}).status_code == 404
    assert api.delete(path, admin_key).status_code == 404
    foreign.refresh_from_db()
    assert foreign.role == "viewer"
