"""Organizations and their statistics."""

from __future__ import annotations

from typing import Any


def test_list_organizations_with_roles(
    api: Any, org: Any, other_org: Any, make_user: Any, key_for: Any
) -> None:
    from beffroi.organizations.models import Membership, Organization

    third = Organization.objects.create(slug="tierce", name="Tierce")
    user = make_user("alice", org=org, role="analyst")
    Membership.objects.create(user=user, organization=other_org, role="admin")
    response = api.get("orgs", key_for(user))
    assert response.status_code == 200
    body = {row["slug"]: row for row in response.json()}
    assert set(body) == {org.slug, other_org.slug}
    assert third.slug not in response.content.decode()
    assert body[org.slug]["role"] == "analyst"
    assert body[org.slug]["capabilities"] == ["analyze", "read_veille", "view"]
    assert body[other_org.slug]["role"] == "admin"
    assert body[org.slug]["name"] == "Ville de Test"


def test_user_without_memberships_sees_an_empty_list(
    api: Any, org: Any, make_user: Any, key_for: Any
) -> None:
    assert api.get("orgs", key_for(make_user("loner"))).json() == []


def test_get_organization(api: Any, org: Any, member_key: Any) -> None:
    response = api.get(f"orgs/{org.slug}", member_key(org, "viewer"))
    assert response.status_code == 200
    data = response.json()
    assert data["slug"] == org.slug
    assert data["kind"] == "town_hall"
    assert data["role"] == "viewer"
    assert data["capabilities"] == ["view"]


def test_unknown_and_foreign_organizations_are_both_404(
    api: Any, org: Any, other_org: Any, member_key: Any
) -> None:
    key = member_key(org, "admin")
    unknown = api.get("orgs/no-such-org", key)
    foreign = api.get(f"orgs/{other_org.slug}", key)
    assert unknown.status_code == foreign.status_code == 404
    assert unknown.json() == foreign.json()


def test_stats(api: Any, org: Any, source: Any, make_item: Any, member_key: Any) -> None:
    make_item(source, kind="post", language="fr")
    make_item(source, kind="comment", language="en")
    make_item(source, kind="comment", language="fr")
    response = api.get(f"orgs/{org.slug}/stats", member_key(org, "viewer"))
    assert response.status_code == 200
    data = response.json()
    assert data["organization"] == org.slug
    assert data["items"] == 3
    assert data["sources"] == 1
    assert data["authors"] == 1
    assert data["items_by_kind"] == {"comment": 2, "post": 1}
    assert data["items_by_language"] == {"en": 1, "fr": 2}
    assert data["open_cases"] == 0
