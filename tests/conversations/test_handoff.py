"""Handing a request off to the town's request system (Open311 GeoReport v2, against a
loopback server that answers as the specification documents) or to a service's e-mail: to
send → sent → done by the service, send failed with why; never submitted twice."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from beffroi.audit.models import AuditEvent
from beffroi.audit.services import Actor
from beffroi.conversations import handoff, services
from beffroi.conversations.models import Conversation, Handoff, RequestSystem, Team
from beffroi.jobs.models import Job
from tests.fakes.open311 import API_KEY, JURISDICTION, FakeOpen311

pytestmark = pytest.mark.django_db

State = Handoff.State


@pytest.fixture
def town_system() -> Iterator[FakeOpen311]:
    with FakeOpen311() as fake:
        yield fake


@pytest.fixture
def system(org: Any, town_system: FakeOpen311) -> RequestSystem:
    found = RequestSystem(
        organization=org,
        name="GRU de la ville",
        kind=RequestSystem.Kind.OPEN311,
        endpoint=town_system.endpoint,
        jurisdiction_id=JURISDICTION,
    )
    found.set_api_key(API_KEY)
    found.save()
    return found


@pytest.fixture
def conversation(org: Any, thread: Any) -> Conversation:
    thread.say("alice", "Un nid-de-poule énorme devant l'école des Tilleuls", thread.post())
    services.attach_new_items(org)
    found = Conversation.objects.get(organization=org)
    voirie = Team.objects.create(
        organization=org, slug="voirie", name="Voirie", service_code="POTHOLE"
    )
    found.team = voirie
    found.save()
    return found


def test_a_request_handed_off_is_sent_then_done_by_the_service(
    conversation: Conversation,
    system: RequestSystem,
    town_system: FakeOpen311,
    member: Callable[..., Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    claire = member("claire")
    assert "api_key" not in system.secrets_encrypted and system.api_key == API_KEY
    with django_capture_on_commit_callbacks(execute=True):
        sent = handoff.hand_off(
            Actor(claire, "ui"), conversation, system, address="2 rue des Tilleuls"
        )
    assert sent.state == State.TO_SEND and sent.service_code == "POTHOLE"  # the team's code
    assert Job.objects.filter(name="conversations.hand_off", payload={"handoff_id": sent.pk})
    # Under way: a second hand-off of the same request is refused.
    with pytest.raises(handoff.HandoffError, match="already handed off"):
        handoff.hand_off(Actor(claire, "ui"), conversation, system, address="2 rue")
    assert handoff.send(sent.pk) == State.SENT
    sent.refresh_from_db()
    stored = town_system.stored[sent.external_id]
    description = stored.form["description"][0]
    assert stored.service_code == "POTHOLE" and sent.reference in description
    assert "nid-de-poule" in description
    assert stored.form["address_string"] == ["2 rue des Tilleuls"]
    assert handoff.send(sent.pk) == State.SENT and len(town_system.stored) == 1  # once
    assert handoff.sync() == 0  # still open in the town's system
    town_system.close_request(sent.external_id, "Rebouché le 3 décembre.")
    assert handoff.sync() == 1
    sent.refresh_from_db()
    assert sent.state == State.DONE_EXTERNALLY and sent.status_notes == "Rebouché le 3 décembre."
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"handoff.request", "handoff.sent", "handoff.done"} <= actions
    assert API_KEY not in str(list(AuditEvent.objects.values_list("after", flat=True)))


def test_a_refusal_says_why_and_can_be_sent_again(
    conversation: Conversation,
    system: RequestSystem,
    town_system: FakeOpen311,
    member: Callable[..., Any],
) -> None:
    claire = member("claire")
    system.set_api_key("wrong-key")
    system.save()
    with pytest.raises(handoff.HandoffError, match="address"):
        handoff.hand_off(Actor(claire, "ui"), conversation, system)
    refused = handoff.hand_off(Actor(claire, "ui"), conversation, system, address="2 rue")
    assert handoff.send(refused.pk) == State.SEND_FAILED
    refused.refresh_from_db()
    assert refused.reason == handoff.REASON_CREDENTIALS and "api_key" in refused.detail.lower()
    assert not town_system.stored
    system.set_api_key(API_KEY)
    system.save()
    again = handoff.retry(Actor(claire, "ui"), refused)
    assert again.state == State.TO_SEND
    assert handoff.send(again.pk) == State.SENT and len(town_system.stored) == 1


def test_a_crash_during_the_submission_looks_the_request_up_instead_of_sending_twice(
    conversation: Conversation,
    system: RequestSystem,
    town_system: FakeOpen311,
    member: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = handoff.hand_off(Actor(member("claire"), "ui"), conversation, system, address="2 rue")
    real_submit = handoff.Open311Client.submit

    def submit_then_die(client: Any, draft: Any) -> Any:
        real_submit(client, draft)  # the town's system created it…
        raise SystemExit("…and the worker was killed before recording the answer")

    monkeypatch.setattr(handoff.Open311Client, "submit", submit_then_die)
    with pytest.raises(SystemExit):
        handoff.send(made.pk)
    made.refresh_from_db()
    assert made.state == State.SENDING
    monkeypatch.setattr(handoff.Open311Client, "submit", lambda *a: pytest.fail("sent twice"))
    assert handoff.send(made.pk) == State.SENT  # found by its reference
    made.refresh_from_db()
    assert made.external_id in town_system.stored and len(town_system.stored) == 1


def test_an_e_mail_hand_off_goes_to_the_teams_address(
    org: Any,
    conversation: Conversation,
    member: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    by_mail = RequestSystem.objects.create(
        organization=org, name="Courriel", kind=RequestSystem.Kind.EMAIL
    )
    made = handoff.hand_off(Actor(member("claire"), "ui"), conversation, by_mail)
    monkeypatch.setattr("beffroi.core.mail.relay_configured", lambda: True)
    sent: list[tuple[Any, list[str]]] = []
    monkeypatch.setattr(
        "beffroi.core.mail.send_by_relay", lambda message, to: sent.append((message, list(to)))
    )
    # The team has no e-mail: said, not sent.
    assert handoff.send(made.pk) == State.SEND_FAILED
    Team.objects.filter(pk=conversation.team_id).update(email="voirie@ville.example")
    handoff.retry(Actor(member("david"), "ui"), made)
    assert handoff.send(made.pk) == State.SENT
    message, to = sent[0]
    assert to == ["voirie@ville.example"] and made.reference in message.title


def test_the_conversation_page_hands_off_and_shows_the_state(
    org: Any,
    conversation: Conversation,
    system: RequestSystem,
    member: Callable[..., Any],
    make_user: Callable[..., Any],
) -> None:
    from tests.conversations.test_desk_pages import _login

    client = _login(member("claire"))
    url = f"/o/{org.slug}/conversations/{conversation.pk}/"
    html = client.get(url).content.decode()
    assert "GRU de la ville" in html and 'value="POTHOLE"' in html
    response = client.post(
        url + "handoff/", {"system": system.pk, "service_code": "", "address": "2 rue"}
    )
    assert response.status_code == 302 and Handoff.objects.count() == 1
    assert "To send" in client.get(url).content.decode()
    # The request systems are the administrators' to set up; the key is never shown.
    admin = _login(make_user("chef", org=org, role="admin"))
    listed = admin.get(f"/o/{org.slug}/conversations/request-systems/").content.decode()
    assert "stored (encrypted)" in listed and API_KEY not in listed
    edit = admin.get(f"/o/{org.slug}/conversations/request-systems/{system.pk}/").content.decode()
    assert API_KEY not in edit
    assert client.get(f"/o/{org.slug}/conversations/request-systems/").status_code == 403
