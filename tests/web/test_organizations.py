"""Organization settings, members (add, create, change role, remove) and the audit log."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest

from tests.web.conftest import audit_actions

pytestmark = pytest.mark.django_db

MEMBERS = "/o/ville-test/settings/members/"


@pytest.fixture
def admin(member_client: Callable[..., Any]) -> Any:
    return member_client("admin")


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def membership(user: Any, org: Any) -> Any:
    from beffroi.organizations.models import Membership

    return Membership.objects.get(user=user, organization=org)


def test_settings_form_updates_the_organization(admin: Any, org: Any) -> None:
    from beffroi.audit.models import AuditEvent

    page = admin.get("/o/ville-test/settings/")
    assert page.status_code == 200 and "Ville de Test" in page.content.decode()
    response = admin.post(
        "/o/ville-test/settings/",
        {"name": "Ville de Test-sur-Mer", "kind": "town_hall", "language": "fr"},
    )
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.name == "Ville de Test-sur-Mer"
    event = AuditEvent.objects.get(action="organization.update")
    assert (
        event.before["name"] == "Ville de Test" and event.after["name"] == "Ville de Test-sur-Mer"
    )
    assert event.channel == "ui" and event.actor == admin.user


def test_inviting_an_existing_account_adds_nobody(
    admin: Any, org: Any, make_user: Callable[..., Any]
) -> None:
    """The form invites: a membership needs the person's consent (tests/web/test_invitations.py)."""
    from beffroi.organizations.models import Invitation, Membership

    camille = make_user("camille")
    response = admin.post(
        f"{MEMBERS}invite/", {"invite-identifier": "camille", "invite-role": "moderator"}
    )
    assert response.status_code == 302
    assert not Membership.objects.filter(user=camille, organization=org).exists()
    assert Invitation.objects.get(organization=org).invitee == camille
    assert audit_actions(org) == ["invitation.create"]


def test_create_a_new_user_shows_the_temporary_password_once(admin: Any, org: Any) -> None:
    from django.contrib.auth import get_user_model

    response = admin.post(
        f"{MEMBERS}new/",
        {"new-username": "nouvel.agent", "new-email": "agent@ville.example", "new-role": "viewer"},
    )
    assert response.status_code == 200
    password = response.context["temporary_password"]
    assert len(password) >= 12 and password in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    user = get_user_model().objects.get(username="nouvel.agent")
    assert user.check_password(password)
    assert membership(user, org).role == "viewer"
    assert password not in admin.get(MEMBERS).content.decode()
    actions = audit_actions(org)
    assert "user.create" in actions and "membership.create" in actions

    taken = admin.post(f"{MEMBERS}new/", {"new-username": "nouvel.agent", "new-role": "viewer"})
    assert taken.status_code == 400


def test_change_role_and_remove(admin: Any, org: Any, make_user: Callable[..., Any]) -> None:
    from beffroi.organizations.models import Membership

    camille = make_user("camille", org=org, role="viewer")
    target = membership(camille, org)
    response = admin.post(f"{MEMBERS}{target.pk}/role/", {"role": "analyst"}, follow=True)
    assert response.status_code == 200
    target.refresh_from_db()
    assert target.role == "analyst"
    assert "membership.update" in audit_actions(org)

    response = admin.post(f"{MEMBERS}{target.pk}/remove/", follow=True)
    assert not Membership.objects.filter(pk=target.pk).exists()
    assert "membership.delete" in audit_actions(org)
    assert any("camille" in message for message in messages_of(response))


def test_last_administrator_is_kept(admin: Any, org: Any) -> None:
    own = membership(admin.user, org)
    response = admin.post(f"{MEMBERS}{own.pk}/role/", {"role": "viewer"}, follow=True)
    own.refresh_from_db()
    assert own.role == "admin"
    assert any("administrator" in m or "administrateur" in m for m in messages_of(response))

    response = admin.post(f"{MEMBERS}{own.pk}/remove/", follow=True)
    own.refresh_from_db()  # still there
    assert next(iter(response.context["messages"])).level_tag == "error"
    assert "membership.delete" not in audit_actions(org)


def test_memberships_of_another_organization_cannot_be_touched(
    admin: Any, other_org: Any, make_user: Callable[..., Any]
) -> None:
    stranger = make_user("stranger", org=other_org, role="viewer")
    theirs = membership(stranger, other_org)
    assert admin.post(f"{MEMBERS}{theirs.pk}/role/", {"role": "admin"}).status_code == 404
    assert admin.post(f"{MEMBERS}{theirs.pk}/remove/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.role == "viewer"


def test_audit_log_filters_and_csv(
    admin: Any, org: Any, other_org: Any, make_user: Callable[..., Any]
) -> None:
    from beffroi.audit.services import Actor, record

    camille = make_user("camille", org=org, role="viewer")
    admin.post(f"{MEMBERS}{membership(camille, org).pk}/role/", {"role": "analyst"})
    record(Actor(None, "cli", "=cmd|' /C calc'!A0"), "organization.update", organization=org)
    record(Actor(None, "system", "secret-elsewhere"), "demo.load", organization=other_org)

    page = admin.get("/o/ville-test/settings/audit/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "membership.update" in html and "secret-elsewhere" not in html

    only_ui = admin.get("/o/ville-test/settings/audit/", {"channel": "ui"})
    assert {e.channel for e in only_ui.context["page_obj"].object_list} == {"ui"}
    by_action = admin.get("/o/ville-test/settings/audit/", {"action": "membership.update"})
    assert {e.action for e in by_action.context["page_obj"].object_list} == {"membership.update"}
    by_actor = admin.get("/o/ville-test/settings/audit/", {"actor": admin.user.username})
    assert by_actor.context["page_obj"].object_list
    assert all(
        e.actor_label == admin.user.username for e in by_actor.context["page_obj"].object_list
    )

    export = admin.get("/o/ville-test/settings/audit/", {"format": "csv", "channel": "cli"})
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    assert "attachment" in export["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert rows[0][:4] == ["created_at", "actor", "channel", "action"]
    assert len(rows) == 2 and rows[1][2] == "cli"
    assert rows[1][1].startswith("'=")  # a spreadsheet shows it, never runs it
