"""Members: invited, re-roled and removed through the services, with audit events."""

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
    assert rows["root"]["email"] == "root@ville.example"  # the caller's own
    assert "password" not in response.content.decode()


def test_member_emails_are_the_organizations_only(
    api: Any, org: Any, other_org: Any, admin_key: str, make_user: Any
) -> None:
    """An account's e-mail is shown only where this organization gave it (invited at it, or
    typed it creating the account), never because the account joined."""
    from beffroi.audit.services import Actor
    from beffroi.organizations.services import accept_invitation, add_member, invite

    bob = make_user("bob", email="bob@prive.example")
    add_member(Actor.system(), org, bob, "viewer")  # by the operator
    eve = make_user("eve", org=other_org, role="admin", email="eve@autre.example")
    accept_invitation(Actor(eve, "ui"), invite(Actor.system(), org, "eve", "viewer"))
    zoe = make_user("zoe", email="Zoe@Exemple.fr")
    accept_invitation(Actor(zoe, "ui"), invite(Actor.system(), org, "zoe@exemple.fr", "viewer"))
    response = api.get(f"orgs/{org.slug}/members", admin_key)
    rows = {r["username"]: r for r in response.json()}
    assert rows["bob"]["email"] == "" and rows["eve"]["email"] == ""
    assert rows["zoe"]["email"] == "Zoe@exemple.fr"  # the account's, the domain lowercased
    text = response.content.decode()
    assert "prive.example" not in text and "autre.example" not in text


def test_an_existing_account_is_invited_not_added(
    api: Any, org: Any, admin_key: str, make_user: Any
) -> None:
    from beffroi.audit.models import AuditEvent
    from beffroi.organizations.models import Invitation, Membership

    newcomer = make_user("newcomer", email="newcomer@exemple.fr")
    path = f"orgs/{org.slug}/invitations"
    response = api.post(path, admin_key, {"identifier": "newcomer", "role": "analyst"})
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["identifier"] == "newcomer" and body["state"] == "pending"
    assert body["invited_by"] == "root" and body["role"] == "analyst"
    assert not Membership.objects.filter(user=newcomer, organization=org).exists()
    assert Invitation.objects.get(pk=body["id"]).invitee == newcomer
    event = AuditEvent.objects.get(action="invitation.create")
    assert (event.channel, event.actor_label) == ("api", "api:root")
    # Adding an account directly is no longer an operation of the API.
    direct = api.post(f"orgs/{org.slug}/members", admin_key, {"username": "newcomer"})
    assert direct.status_code == 405
    assert "newcomer@exemple.fr" not in api.get(path, admin_key).content.decode()


def test_the_answer_is_the_same_whether_an_account_exists(
    api: Any, org: Any, admin_key: str, make_user: Any
) -> None:
    make_user("sleeper", is_active=False, email="sleeper@exemple.fr")
    make_user("real", email="real@exemple.fr")
    path = f"orgs/{org.slug}/invitations"
    identifiers = ["real", "real@exemple.fr", "ghost", "ghost@exemple.fr", "sleeper"]
    shapes = set()
    for identifier in identifiers:
        response = api.post(path, admin_key, {"identifier": identifier, "role": "viewer"})
        assert response.status_code == 202, response.content
        body = response.json()
        assert body["identifier"] == identifier
        shapes.add((tuple(sorted(body)), body["state"], body["role"]))
    assert len(shapes) == 1
    listed = api.get(path, admin_key).json()
    assert sorted(row["identifier"] for row in listed) == sorted(identifiers)


def test_invitation_refusals(api: Any, org: Any, admin_key: str, make_user: Any) -> None:
    from beffroi.organizations.models import Invitation

    make_user("bob", org=org, role="viewer")
    path = f"orgs/{org.slug}/invitations"
    already = api.post(path, admin_key, {"identifier": "bob", "role": "admin"})
    assert already.status_code == 400 and "bob" in already.json()["detail"]
    assert api.post(path, admin_key, {"identifier": "x", "role": "overlord"}).status_code == 422
    assert api.post(path, admin_key, {"identifier": "", "role": "viewer"}).status_code == 422
    assert api.post(path, admin_key, {"identifier": "twice", "role": "viewer"}).status_code == 202
    again = api.post(path, admin_key, {"identifier": "TWICE", "role": "analyst"})
    assert again.status_code == 400
    assert Invitation.objects.filter(identifier__iexact="twice").count() == 1


def test_revoke_an_invitation(
    api: Any, org: Any, other_org: Any, admin_key: str, make_user: Any
) -> None:
    from beffroi.audit.models import AuditEvent
    from beffroi.audit.services import Actor
    from beffroi.organizations.services import invite

    make_user("pat")
    mine = invite(Actor.system(), org, "pat", "viewer")
    theirs = invite(Actor.system(), other_org, "pat", "viewer")
    path = f"orgs/{org.slug}/invitations/{mine.pk}/revoke"
    response = api.post(path, admin_key)
    assert response.status_code == 200 and response.json()["state"] == "revoked"
    assert AuditEvent.objects.get(action="invitation.revoke").channel == "api"
    assert api.post(path, admin_key).status_code == 400
    foreign = f"orgs/{org.slug}/invitations/{theirs.pk}/revoke"
    assert api.post(foreign, admin_key).status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == "pending"


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
