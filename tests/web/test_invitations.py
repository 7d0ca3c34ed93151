"""Invitations: an existing account joins an organization only when its owner accepts; the
organization learns nothing of accounts it does not share, their e-mails included."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from email.message import Message
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.fakes.alert_receivers import smtp_server  # noqa: F401 (fixture)
from tests.web.conftest import audit_actions

pytestmark = pytest.mark.django_db

MEMBERS = "/o/ville-test/settings/members/"


def login(user: Any) -> Client:
    """A client of its own (past the second factor), so that two people can act in turn."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client = Client()
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def admin(org: Any, make_user: Callable[..., Any]) -> Client:
    return login(make_user("maire", org=org, role="admin", email="maire@ville.example"))


def invite(admin: Client, identifier: str, role: str = "viewer") -> Any:
    return admin.post(
        f"{MEMBERS}invite/", {"invite-identifier": identifier, "invite-role": role}, follow=True
    )


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def is_member(user: Any, org: Any) -> bool:
    from beffroi.organizations.models import Membership

    return Membership.objects.filter(user=user, organization=org).exists()


def test_the_invitee_accepts_and_joins_with_the_role(
    admin: Client, org: Any, make_user: Callable[..., Any]
) -> None:
    from beffroi.audit.models import AuditEvent
    from beffroi.organizations.models import Invitation, Membership

    camille = make_user("camille", email="camille@exemple.fr")
    invite(admin, "Camille@Exemple.fr", "moderator")
    assert not is_member(camille, org)
    invitation = Invitation.objects.get(organization=org)
    assert (invitation.invitee, invitation.state) == (camille, "pending")

    person = login(camille)
    home = person.get("/").content.decode()
    assert "/invitations/" in home  # no organization yet: the home page points to it
    page = person.get("/invitations/")
    assert "Ville de Test" in page.content.decode()
    assert page.context["pending_invitation_count"] == 1

    response = person.post(f"/invitations/{invitation.pk}/accept/")
    assert response.status_code == 302 and response["Location"] == "/o/ville-test/"
    membership = Membership.objects.get(user=camille, organization=org)
    assert membership.role == "moderator"
    invitation.refresh_from_db()
    assert invitation.state == "accepted" and invitation.answered_at is not None
    assert audit_actions(org) == ["invitation.create", "membership.create", "invitation.accept"]
    accepted = AuditEvent.objects.get(action="invitation.accept")
    assert accepted.actor == camille and accepted.after["state"] == "accepted"
    # Accepting twice changes nothing.
    again = person.post(f"/invitations/{invitation.pk}/accept/", follow=True)
    assert messages_of(again) and Membership.objects.filter(user=camille).count() == 1
    # The address the administrator typed is the one they now see.
    members = admin.get(MEMBERS).content.decode()
    assert "camille@exemple.fr" in members


def test_nobody_becomes_a_member_without_consent(
    admin: Client, org: Any, make_user: Callable[..., Any]
) -> None:
    from beffroi.organizations.models import Invitation

    dominique = make_user("dominique")
    intruder = make_user("intruder")
    invite(admin, "dominique", "admin")
    invitation = Invitation.objects.get()
    # Another account, the administrator themself, or a forged request: all refused.
    assert login(intruder).post(f"/invitations/{invitation.pk}/accept/").status_code == 404
    assert admin.post(f"/invitations/{invitation.pk}/accept/").status_code == 404
    assert Client().post(f"/invitations/{invitation.pk}/accept/").status_code == 302  # login
    assert login(dominique).get(f"/invitations/{invitation.pk}/accept/").status_code == 405
    assert not is_member(dominique, org) and not is_member(intruder, org)
    invitation.refresh_from_db()
    assert invitation.state == "pending"


def test_decline(admin: Client, org: Any, make_user: Callable[..., Any]) -> None:
    from beffroi.organizations.models import Invitation

    eve = make_user("eve")
    invite(admin, "eve")
    invitation = Invitation.objects.get()
    person = login(eve)
    response = person.post(f"/invitations/{invitation.pk}/decline/", follow=True)
    assert response.status_code == 200 and not is_member(eve, org)
    invitation.refresh_from_db()
    assert invitation.state == "declined"
    assert response.context["pending_invitation_count"] == 0
    # Declined is final: accepting afterwards is refused.
    refused = person.post(f"/invitations/{invitation.pk}/accept/", follow=True)
    assert not is_member(eve, org)
    assert next(iter(refused.context["messages"])).level_tag == "error"
    assert audit_actions(org) == ["invitation.create", "invitation.decline"]


def test_revoke(admin: Client, org: Any, make_user: Callable[..., Any]) -> None:
    from beffroi.organizations.models import Invitation

    farid = make_user("farid")
    invite(admin, "farid", "analyst")
    invitation = Invitation.objects.get()
    response = admin.post(f"{MEMBERS}invitations/{invitation.pk}/revoke/", follow=True)
    assert response.status_code == 200
    invitation.refresh_from_db()
    assert invitation.state == "revoked"
    person = login(farid)
    assert person.get("/invitations/").context["invitations"].count() == 0
    person.post(f"/invitations/{invitation.pk}/accept/")
    assert not is_member(farid, org)
    # Revoking again is refused with a sentence; nothing more is recorded.
    again = admin.post(f"{MEMBERS}invitations/{invitation.pk}/revoke/", follow=True)
    assert next(iter(again.context["messages"])).level_tag == "error"
    assert audit_actions(org) == ["invitation.create", "invitation.revoke"]


def test_revoking_another_organizations_invitation_is_404(
    admin: Client, other_org: Any, make_user: Callable[..., Any]
) -> None:
    from beffroi.audit.services import Actor
    from beffroi.organizations.services import invite as invite_service

    make_user("gina")
    theirs = invite_service(Actor.system(), other_org, "gina", "viewer")
    assert admin.post(f"{MEMBERS}invitations/{theirs.pk}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == "pending"


def test_an_expired_invitation_cannot_be_accepted(
    admin: Client, org: Any, make_user: Callable[..., Any]
) -> None:
    from beffroi.jobs.engine import PERIODIC, load_tasks
    from beffroi.organizations.models import Invitation

    load_tasks()
    sweep = PERIODIC["organizations.expire_invitations"].func
    hugo, ines = make_user("hugo"), make_user("ines")
    invite(admin, "hugo")
    invite(admin, "ines")
    past = timezone.now() - timedelta(minutes=1)
    Invitation.objects.update(expires_at=past)
    person = login(hugo)
    assert person.get("/invitations/").context["pending_invitation_count"] == 0
    hugo_invitation = Invitation.objects.get(invitee=hugo)
    refused = person.post(f"/invitations/{hugo_invitation.pk}/accept/", follow=True)
    assert not is_member(hugo, org)
    assert next(iter(refused.context["messages"])).level_tag == "error"
    hugo_invitation.refresh_from_db()
    assert hugo_invitation.state == "expired"
    # The periodic sweep records the others, once.
    assert sweep() == 1 and sweep() == 0
    assert Invitation.objects.get(invitee=ines).state == "expired"
    assert audit_actions(org).count("invitation.expire") == 2
    # The administrator may invite again once it expired.
    invite(admin, "hugo")
    assert Invitation.objects.filter(invitee=hugo, state="pending").count() == 1


def test_the_answer_does_not_tell_whether_an_account_exists(
    admin: Client, org: Any, make_user: Callable[..., Any]
) -> None:
    from beffroi.audit.models import AuditEvent
    from beffroi.organizations.models import Invitation

    make_user("jade", email="jade@exemple.fr")
    make_user("twin1", email="shared@exemple.fr")
    make_user("twin2", email="shared@exemple.fr")
    answers = {}
    for identifier in ("jade@exemple.fr", "ghost@exemple.fr", "jade", "ghost", "shared@exemple.fr"):
        response = invite(admin, identifier)
        assert response.status_code == 200
        answers[identifier] = [m.replace(identifier, "X") for m in messages_of(response)]
    assert len({tuple(texts) for texts in answers.values()}) == 1
    assert Invitation.objects.filter(organization=org, state="pending").count() == 5
    # Nor does the audit trail (the account an invitation matched is never written there).
    trails = [e.after for e in AuditEvent.objects.filter(action="invitation.create")]
    assert {tuple(sorted(after)) for after in trails} == {tuple(sorted(trails[0]))}
    assert all("invitee" not in after for after in trails)
    # Nor the members page: one row per invitation, with what was typed and nothing else.
    page = admin.get(MEMBERS).content.decode()
    assert "jade@exemple.fr" in page and "ghost@exemple.fr" in page
    assert ">jade<" in page  # the typed username, not the account's e-mail
    # The same identifier twice is refused, whether or not an account matches.
    for identifier in ("jade", "GHOST"):
        again = admin.post(
            f"{MEMBERS}invite/", {"invite-identifier": identifier, "invite-role": "viewer"}
        )
        assert again.status_code == 400
    # An address shared by several accounts matches none of them.
    assert Invitation.objects.get(identifier="shared@exemple.fr").invitee is None


def test_emails_are_not_shown_across_organizations(
    org: Any, other_org: Any, make_user: Callable[..., Any]
) -> None:
    """Kim belongs to the other organization; this one invites her by username."""
    from beffroi.organizations.models import Invitation

    make_user("kim", org=other_org, role="viewer", email="kim@autre.example")
    admin = login(make_user("chef", org=org, role="admin"))
    invite(admin, "kim")
    assert "kim@autre.example" not in admin.get(MEMBERS).content.decode()
    invitation = Invitation.objects.get(organization=org)
    login(invitation.invitee).post(f"/invitations/{invitation.pk}/accept/")
    assert is_member(invitation.invitee, org)
    # A member now, still not the organization's to know: it invited a username.
    page = admin.get(MEMBERS)
    assert "kim@autre.example" not in page.content.decode()
    assert "kim" in page.content.decode()


def test_members_page_shows_only_the_addresses_the_organization_gave(
    admin: Client, org: Any, make_user: Callable[..., Any]
) -> None:
    from beffroi.audit.services import Actor
    from beffroi.organizations.services import add_member

    # Added by the operator (command line): its address was not given by the organization.
    lou = make_user("lou", email="lou@prive.example")
    add_member(Actor.system(), org, lou, "viewer")
    created = admin.post(
        f"{MEMBERS}new/",
        {"new-username": "nouvel.agent", "new-email": "agent@ville.example", "new-role": "viewer"},
    )
    assert created.status_code == 200
    page = admin.get(MEMBERS).content.decode()
    assert "lou@prive.example" not in page
    assert "agent@ville.example" in page  # typed by the administrator
    assert "maire@ville.example" in page  # their own


def test_the_invitation_email_links_to_the_invitation(
    admin: Client,
    org: Any,
    make_user: Callable[..., Any],
    settings: Any,
    smtp_server: tuple[int, list[Message]],  # noqa: F811
) -> None:
    from beffroi.jobs.engine import run_pending
    from beffroi.jobs.models import Job
    from beffroi.organizations.models import Invitation

    port, received = smtp_server
    settings.BEFFROI_SMTP = {
        "host": "127.0.0.1",
        "port": port,
        "username": "",
        "password": "",
        "security": "none",
        "sender": "beffroi@example.org",
    }
    settings.BEFFROI_PUBLIC_URL = "https://beffroi.example"
    lena = make_user("lena", email="lena@exemple.fr")
    invite(admin, "ghost@exemple.fr")  # no account: no e-mail, no job
    invite(admin, "lena", "publisher")
    job = Job.objects.get(name="organizations.email_invitation")
    assert job.organization is None  # the organization's jobs do not tell an account matched
    run_pending()
    assert len(received) == 1
    mail = received[0]
    assert mail["To"] == "lena@exemple.fr"
    assert "Ville de Test" in mail["Subject"]
    body = mail.get_payload(0).get_payload(decode=True).decode()
    link = next(w for w in body.split() if w.startswith("https://beffroi.example/invitations/"))
    key = link.rstrip("/").rsplit("/", 1)[-1]
    invitation = Invitation.objects.get(invitee=lena)
    assert key not in invitation.token_hash and len(invitation.token_hash) == 64

    path = link.removeprefix("https://beffroi.example")
    assert Client().get(path).status_code == 302  # to the login page
    opened = login(lena).get(path)
    assert opened["Location"] == f"/invitations/#invitation-{invitation.pk}"
    # The link is for Lena only, and dies with the invitation.
    assert login(make_user("mallory")).get(path, follow=True).context["invitations"].count() == 0
    login(lena).post(f"/invitations/{invitation.pk}/accept/")
    invitation.refresh_from_db()
    assert invitation.token_hash == ""
    stale = login(lena).get(path, follow=True)
    assert next(iter(stale.context["messages"])).level_tag == "warning"


def test_no_email_without_an_smtp_relay(
    admin: Client, make_user: Callable[..., Any], settings: Any
) -> None:
    from beffroi.jobs.models import Job

    settings.BEFFROI_SMTP = {**settings.BEFFROI_SMTP, "host": ""}
    make_user("nina", email="nina@exemple.fr")
    invite(admin, "nina")
    assert not Job.objects.filter(name="organizations.email_invitation").exists()


def test_a_member_is_not_invited_again(
    admin: Client, org: Any, make_user: Callable[..., Any]
) -> None:
    from beffroi.organizations.models import Invitation

    make_user("oscar", org=org, role="viewer", email="oscar@prive.example")
    response = admin.post(
        f"{MEMBERS}invite/", {"invite-identifier": "oscar", "invite-role": "admin"}
    )
    assert response.status_code == 400
    assert response.context["invite_form"].errors["identifier"]
    # By an address the organization does not know them by: the neutral answer, and
    # accepting it leaves the member's role as it is.
    invite(admin, "oscar@prive.example", "admin")
    invitation = Invitation.objects.get(organization=org)
    login(invitation.invitee).post(f"/invitations/{invitation.pk}/accept/")
    assert invitation.invitee.memberships.get(organization=org).role == "viewer"
