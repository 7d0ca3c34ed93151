"""Handing a request off by webhook (Standard Webhooks: a JSON POST signed with the system's
secret), against a loopback receiver that checks each delivery as the specification tells a
consumer to, and the status the receiving system sends back, signed the same way."""

from __future__ import annotations

import base64
import html
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from beffroi import egress
from beffroi.audit.models import AuditEvent
from beffroi.audit.services import Actor
from beffroi.connectors import webhook
from beffroi.conversations import handoff, services
from beffroi.conversations.models import Conversation, Handoff, RequestSystem, Team
from tests.conversations.test_desk_pages import _login
from tests.fakes.loopback import Reply
from tests.fakes.webhook_receiver import PATH, SECRET, WebhookReceiver, signed_headers

pytestmark = pytest.mark.django_db

State = Handoff.State


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as fake:
        yield fake


@pytest.fixture
def system(org: Any, receiver: WebhookReceiver) -> RequestSystem:
    found = RequestSystem(
        organization=org,
        name="GRU (webhook)",
        kind=RequestSystem.Kind.WEBHOOK,
        endpoint=receiver.url,
    )
    found.set_signing_secret(SECRET)
    found.save()
    return found


@pytest.fixture
def conversation(org: Any, thread: Any) -> Conversation:
    thread.say(
        "alice", "Le lampadaire de la rue Victor-Hugo est éteint depuis une semaine", thread.post()
    )
    services.attach_new_items(org)
    found = Conversation.objects.get(organization=org)
    found.team = Team.objects.create(
        organization=org, slug="eclairage", name="Éclairage public", service_code="STREETLIGHT"
    )
    found.save()
    return found


@pytest.fixture
def claire(member: Callable[..., Any]) -> Any:
    return member("claire")


def _hand_off(conversation: Conversation, system: RequestSystem, user: Any) -> Handoff:
    return handoff.hand_off(Actor(user, "ui"), conversation, system, address="12 rue Victor-Hugo")


# --- the signature, as the specification writes it --------------------------------------------


def test_the_signature_is_the_specifications() -> None:
    # The specification's own example (its reference library's test vector).
    secret, message_id, stamp = (
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
    )
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert webhook.sign(secret, message_id, stamp, body) == expected
    headers = {"webhook-id": message_id, "webhook-timestamp": str(stamp)}
    # One matching entry in a list (a secret's rotation) is enough; others are ignored.
    headers["webhook-signature"] = f"v1,bm90IHRoaXMgb25l v1a,xyz {expected}"
    assert webhook.verify(secret, headers, body, now=stamp + 299) == message_id
    with pytest.raises(webhook.SignatureRefused, match="too old"):
        webhook.verify(secret, headers, body, now=stamp + 301)
    with pytest.raises(webhook.SignatureRefused, match="future"):
        webhook.verify(secret, headers, body, now=stamp - 301)
    with pytest.raises(webhook.SignatureRefused, match="no signature matches"):
        webhook.verify(secret, headers, body + b" ", now=stamp)
    made = webhook.new_secret()
    assert made.startswith("whsec_") and len(webhook.secret_key(made)) == 32
    for wrong in ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_c2hvcnQ="):
        assert not webhook.is_valid_secret(wrong)


# --- sending ------------------------------------------------------------------------------


def test_a_hand_off_is_delivered_signed_and_sent(
    conversation: Conversation,
    system: RequestSystem,
    receiver: WebhookReceiver,
    claire: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        made = _hand_off(conversation, system, claire)
    assert made.state == State.TO_SEND and made.service_code == "STREETLIGHT"
    assert handoff.send(made.pk) == State.SENT
    made.refresh_from_db()
    (delivery,) = receiver.deliveries()
    assert delivery.header("webhook-id") == made.reference  # the receiver's idempotency key
    assert delivery.header("content-type") == "application/json"
    assert made.external_id == "GRU-1" == receiver.made[made.reference]
    payload = receiver.accepted[made.reference]
    assert payload["type"] == "request.handed_off"
    data = payload["data"]
    assert set(data) == {
        "reference", "service_code", "team", "text", "address", "platform", "author",
        "conversation_url", "status_url", "received_at", "created_at",
    }  # fmt: skip
    assert data["reference"] == made.reference and data["service_code"] == "STREETLIGHT"
    assert data["team"] == {"slug": "eclairage", "name": "Éclairage public"}
    assert "lampadaire" in data["text"] and data["address"] == "12 rue Victor-Hugo"
    assert data["platform"] == "facebook" and data["author"] == {"handle": "alice"}
    assert data["conversation_url"].endswith(
        f"/o/{conversation.organization.slug}/conversations/{conversation.pk}/"
    )
    assert data["status_url"].endswith(f"/hooks/requests/{system.pk}/")
    # No more of the citizen than the e-mail to a service gives: the handle, not the name.
    assert b"Alice Martin" not in delivery.raw_body
    assert handoff.send(made.pk) == State.SENT and len(receiver.deliveries()) == 1  # once
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"handoff.request", "handoff.sent"} <= actions
    assert SECRET not in str(list(AuditEvent.objects.values_list("after", flat=True)))


def test_an_answer_without_an_id_keeps_the_reference(
    conversation: Conversation, system: RequestSystem, receiver: WebhookReceiver, claire: Any
) -> None:
    receiver.script(PATH, Reply(204))
    made = _hand_off(conversation, system, claire)
    assert handoff.send(made.pk) == State.SENT
    made.refresh_from_db()
    assert made.external_id == made.reference


def test_a_refusal_says_why_and_the_way_forward(
    org: Any,
    conversation: Conversation,
    system: RequestSystem,
    receiver: WebhookReceiver,
    claire: Any,
) -> None:
    receiver.script(PATH, Reply(400, {"detail": "service_code STREETLIGHT is not ours"}))
    made = _hand_off(conversation, system, claire)
    assert handoff.send(made.pk) == State.SEND_FAILED
    made.refresh_from_db()
    assert made.reason == handoff.REASON_REFUSED
    assert "HTTP 400" in made.detail and "STREETLIGHT is not ours" in made.detail
    assert not receiver.accepted
    page = _login(claire).get(f"/o/{org.slug}/conversations/{conversation.pk}/").content.decode()
    assert "Send failed" in page and "STREETLIGHT is not ours" in page
    assert "correct what it says" in page and "Send it again" in page
    # Sent again once corrected: delivered, with the same id.
    handoff.retry(Actor(claire, "ui"), made)
    assert handoff.send(made.pk) == State.SENT
    assert [d.header("webhook-id") for d in receiver.deliveries()] == [made.reference] * 2


def test_a_secret_the_receiver_does_not_know_is_refused_by_it(
    conversation: Conversation, system: RequestSystem, receiver: WebhookReceiver, claire: Any
) -> None:
    system.set_signing_secret(webhook.new_secret())
    system.save()
    made = _hand_off(conversation, system, claire)
    assert handoff.send(made.pk) == State.SEND_FAILED
    made.refresh_from_db()
    assert made.reason == handoff.REASON_CREDENTIALS and "HTTP 401" in made.detail
    assert len(receiver.deliveries()) == 1 and not receiver.accepted


def test_a_failing_receiver_gets_the_same_delivery_again_later(
    conversation: Conversation, system: RequestSystem, receiver: WebhookReceiver, claire: Any
) -> None:
    made = _hand_off(conversation, system, claire)
    receiver.script(PATH, Reply(503, {"error": "maintenance"}, headers={"Retry-After": "120"}))
    with pytest.raises(handoff.SendLater) as later:
        handoff.send(made.pk)
    assert later.value.delay == 120  # Retry-After honoured
    made.refresh_from_db()
    assert made.state == State.TO_SEND and "HTTP 503" in made.detail
    receiver.drop_connections(1)  # then a connection cut without an answer
    with pytest.raises(handoff.SendLater):
        handoff.send(made.pk)
    assert handoff.send(made.pk) == State.SENT
    ids = [d.header("webhook-id") for d in receiver.deliveries()]
    assert ids == [made.reference] * 3 and list(receiver.accepted) == [made.reference]


def test_the_last_attempt_fails_the_hand_off(
    conversation: Conversation, system: RequestSystem, receiver: WebhookReceiver, claire: Any
) -> None:
    made = _hand_off(conversation, system, claire)
    receiver.script(PATH, Reply(429, {"error": "slow down"}), times=1)
    receiver.script(PATH, Reply(502, {"error": "bad gateway"}), times=handoff.SEND_ATTEMPTS)
    webhook.RATE_GATE.clear()  # what the 429 closes, the engine would wait for
    for _attempt in range(handoff.SEND_ATTEMPTS - 1):
        with pytest.raises(handoff.SendLater):
            handoff.send(made.pk)
        webhook.RATE_GATE.clear()
    assert handoff.send(made.pk) == State.SEND_FAILED
    made.refresh_from_db()
    assert made.reason == handoff.REASON_UNAVAILABLE and "HTTP 502" in made.detail
    assert len(receiver.deliveries()) == handoff.SEND_ATTEMPTS and not receiver.accepted


def test_a_crash_during_the_call_does_not_deliver_twice(
    conversation: Conversation,
    system: RequestSystem,
    receiver: WebhookReceiver,
    claire: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = _hand_off(conversation, system, claire)
    real_deliver = webhook.WebhookClient.deliver

    def deliver_then_die(client: Any, message_id: str, body: bytes, **kw: Any) -> Any:
        real_deliver(client, message_id, body, **kw)  # the receiver took it…
        raise SystemExit("…and the worker was killed before recording the answer")

    monkeypatch.setattr(webhook.WebhookClient, "deliver", deliver_then_die)
    with pytest.raises(SystemExit):
        handoff.send(made.pk)
    made.refresh_from_db()
    assert made.state == State.SENDING and made.sending_since is not None
    monkeypatch.setattr(webhook.WebhookClient, "deliver", real_deliver)
    assert handoff.send(made.pk) == State.SENT  # the same message again: kept once
    made.refresh_from_db()
    deliveries = receiver.deliveries()
    assert [d.header("webhook-id") for d in deliveries] == [made.reference] * 2
    assert deliveries[0].raw_body == deliveries[1].raw_body  # the very same body
    assert list(receiver.accepted) == [made.reference] and made.external_id == "GRU-1"


def test_an_internal_address_is_refused_when_not_allowed(
    conversation: Conversation,
    system: RequestSystem,
    receiver: WebhookReceiver,
    claire: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(egress.ENV_VARIABLE)  # the loopback is no longer an allowed host
    port = receiver.base_url.rsplit(":", 1)[1]
    for address in (f"https://127.0.0.1:{port}{PATH}", f"https://localhost:{port}{PATH}"):
        RequestSystem.objects.filter(pk=system.pk).update(endpoint=address)
        made = _hand_off(conversation, system, claire)
        assert handoff.send(made.pk) == State.SEND_FAILED
        made.refresh_from_db()
        assert made.reason == handoff.REASON_ADDRESS
        assert egress.UNREACHABLE in made.detail and "127.0.0.1" not in made.detail
    # Plain http to it is refused before anything is sent.
    RequestSystem.objects.filter(pk=system.pk).update(endpoint=receiver.url)
    made = _hand_off(conversation, system, claire)
    assert handoff.send(made.pk) == State.SEND_FAILED
    made.refresh_from_db()
    assert made.reason == handoff.REASON_ADDRESS and "https" in made.detail
    assert not receiver.deliveries()


def test_a_redirect_is_not_followed(
    conversation: Conversation, system: RequestSystem, receiver: WebhookReceiver, claire: Any
) -> None:
    receiver.script(PATH, Reply(307, None, headers={"Location": "http://169.254.169.254/"}))
    made = _hand_off(conversation, system, claire)
    assert handoff.send(made.pk) == State.SEND_FAILED
    made.refresh_from_db()
    assert made.reason == handoff.REASON_ADDRESS and "redirect" in made.detail
    assert len(receiver.requests) == 1


def test_a_receiver_that_says_gone_switches_the_system_off(
    org: Any,
    conversation: Conversation,
    system: RequestSystem,
    receiver: WebhookReceiver,
    claire: Any,
    make_user: Callable[..., Any],
) -> None:
    receiver.script(PATH, Reply(410, {"detail": "this hook was removed"}), times=1)
    made = _hand_off(conversation, system, claire)
    assert handoff.send(made.pk) == State.SEND_FAILED
    made.refresh_from_db()
    system.refresh_from_db()
    assert not system.enabled
    assert made.reason == handoff.REASON_GONE
    assert "this hook was removed" in made.detail  # the receiver's words, kept
    (switched,) = AuditEvent.objects.filter(action="request_system.disable")
    assert switched.object_id == str(system.pk) and switched.before == {"enabled": True}
    assert switched.after["enabled"] is False and "this hook was removed" in switched.after["why"]
    # What happened and the way forward, in the reader's language.
    page = _login(claire).get(f"/o/{org.slug}/conversations/{conversation.pk}/").content.decode()
    assert "said its address is gone (HTTP 410)" in page
    assert "was switched off" in page and "enable it again on the request systems page" in page
    french = _login(claire)
    french.cookies["django_language"] = "fr"
    html = french.get(f"/o/{org.slug}/conversations/{conversation.pk}/").content.decode()
    assert "son adresse n’existe plus (HTTP 410)" in html
    admin = _login(make_user("chef", org=org, role="admin"))
    listed = admin.get(f"/o/{org.slug}/conversations/request-systems/").content.decode()
    assert "Disabled" in listed
    # Nothing more goes there until a person enables it again.
    with pytest.raises(handoff.HandoffError, match="switched off"):
        handoff.retry(Actor(claire, "ui"), made)
    assert len(receiver.deliveries()) == 1 and not receiver.accepted
    RequestSystem.objects.filter(pk=system.pk).update(enabled=True)
    handoff.retry(Actor(claire, "ui"), made)
    assert handoff.send(made.pk) == State.SENT
    assert list(receiver.accepted) == [made.reference]


def test_a_hand_off_to_a_system_switched_off_meanwhile_is_not_sent(
    conversation: Conversation, system: RequestSystem, receiver: WebhookReceiver, claire: Any
) -> None:
    made = _hand_off(conversation, system, claire)
    assert services.disable_request_system(Actor(claire, "ui"), system, "checked by hand")
    assert not services.disable_request_system(Actor(claire, "ui"), system, "again")  # once
    assert AuditEvent.objects.filter(action="request_system.disable").count() == 1
    assert handoff.send(made.pk) == State.SEND_FAILED
    made.refresh_from_db()
    assert made.reason == handoff.REASON_DISABLED
    page = (
        _login(claire)
        .get(f"/o/{conversation.organization.slug}/conversations/{conversation.pk}/")
        .content.decode()
    )
    assert "“GRU (webhook)” is switched off: enable it again" in page
    assert not receiver.deliveries()


def test_secrets_in_an_address_stay_out_of_the_audit_trail_and_the_pages(
    org: Any,
    conversation: Conversation,
    receiver: WebhookReceiver,
    claire: Any,
    make_user: Callable[..., Any],
) -> None:
    secrets = ["hunter2", "tok-123", "k-456", "ak-789", "at-000", "sig-111", "sec-222"]
    query = (
        "token=tok-123&key=k-456&api_key=ak-789&access_token=at-000&signature=sig-111"
        "&secret=sec-222"
    )
    address = receiver.url.replace("http://", "http://gru:hunter2@") + f"?{query}&site=ville"
    admin = _login(make_user("chef", org=org, role="admin"))
    base = f"/o/{org.slug}/conversations/request-systems/"
    fields = {"name": "GRU", "kind": "webhook", "enabled": "on"}
    created = admin.post(base + "new/", fields | {"endpoint": address, "signing_secret": SECRET})
    assert created.status_code == 302
    system = RequestSystem.objects.get()
    assert system.endpoint == address  # stored whole: it is what is posted to
    changed = address.replace("site=ville", "site=bourg")
    assert admin.post(base + f"{system.pk}/", fields | {"endpoint": changed}).status_code == 302
    saves = list(AuditEvent.objects.filter(action="request_system.save").order_by("pk"))
    assert len(saves) == 2
    audited = str([(event.before, event.after) for event in saves])
    assert not [secret for secret in secrets if secret in audited]
    shown = "http://[redacted]@127.0.0.1"
    assert saves[0].after["endpoint"].startswith(shown) and "token=[redacted]" in audited
    assert "site=ville" in saves[1].before["endpoint"]  # what it was, not what it became
    assert "site=bourg" in saves[1].after["endpoint"]
    listed = admin.get(base).content.decode()
    assert not [secret for secret in secrets if secret in listed]
    assert shown in listed and "site=bourg" in listed
    # The edit form does not show them either; saved as shown, the address keeps them.
    form = admin.get(base + f"{system.pk}/").content.decode()
    assert not [secret for secret in secrets if secret in form] and shown in form
    displayed = re.search(r'name="endpoint" value="([^"]*)"', form)
    assert displayed is not None
    as_shown = html.unescape(displayed.group(1))
    assert admin.post(base + f"{system.pk}/", fields | {"endpoint": as_shown}).status_code == 302
    system.refresh_from_db()
    assert system.endpoint == changed
    # A hidden part that cannot be restored (another host) is said, not stored.
    elsewhere = as_shown.replace("127.0.0.1", "192.0.2.1")
    refused = admin.post(base + f"{system.pk}/", fields | {"endpoint": elsewhere})
    assert (
        refused.status_code == 200 and "type the address in full again" in refused.content.decode()
    )
    system.refresh_from_db()
    assert system.endpoint == changed
    with webhook.WebhookClient(system.endpoint, system.signing_secret) as client:
        assert "hunter2" not in repr(client)
    # The hand-off goes to the whole address, credentials and token included.
    made = _hand_off(conversation, system, claire)
    assert handoff.send(made.pk) == State.SENT
    (delivery,) = receiver.deliveries()
    assert delivery.query["token"] == ["tok-123"] and delivery.query["signature"] == ["sig-111"]
    assert delivery.authorization == "Basic " + base64.b64encode(b"gru:hunter2").decode()
    everything = str(list(AuditEvent.objects.values_list("before", "after")))
    assert not [secret for secret in secrets if secret in everything]


# --- what the receiving system says back ----------------------------------------------------


def _sent(conversation: Conversation, system: RequestSystem, user: Any) -> Handoff:
    made = _hand_off(conversation, system, user)
    assert handoff.send(made.pk) == State.SENT
    made.refresh_from_db()
    return made


def _call(
    system: RequestSystem,
    payload: Any,
    *,
    secret: str = SECRET,
    message_id: str | None = None,
    timestamp: int | None = None,
    client: Client | None = None,
) -> Any:
    body = json.dumps(payload).encode()
    headers = signed_headers(secret, message_id or f"msg_{uuid.uuid4().hex}", body, timestamp)
    # A client that checks CSRF tokens, as a browser's session would be: the address is exempt.
    caller = client or Client(enforce_csrf_checks=True)
    return caller.post(
        f"/hooks/requests/{system.pk}/", body, content_type="application/json", **headers
    )


def _done(reference: str, notes: str = "Lampadaire remplacé le 4 décembre.") -> dict[str, Any]:
    return {
        "type": "request.done",
        "timestamp": "2026-12-04T09:30:00Z",
        "data": {
            "reference": reference,
            "status_notes": notes,
            "closed_at": "2026-12-04T09:00:00Z",
        },
    }


def test_the_receiver_says_the_request_is_done(
    org: Any,
    conversation: Conversation,
    system: RequestSystem,
    receiver: WebhookReceiver,
    claire: Any,
) -> None:
    made = _sent(conversation, system, claire)
    updated = _call(
        system,
        {
            "type": "request.updated",
            "data": {"reference": made.reference, "status_notes": "Équipe prévenue."},
        },
    )
    assert updated.status_code == 200 and updated.json()["changed"] is True
    message_id = f"msg_{uuid.uuid4().hex}"
    answer = _call(system, _done(made.reference), message_id=message_id)
    assert answer.status_code == 200
    assert answer.json() == {
        "reference": made.reference,
        "state": "done_externally",
        "changed": True,
    }
    made.refresh_from_db()
    assert made.state == State.DONE_EXTERNALLY
    assert made.status_notes == "Lampadaire remplacé le 4 décembre."
    assert made.closed_at is not None and made.closed_at.isoformat().startswith("2026-12-04T09:00")
    assert AuditEvent.objects.filter(action="handoff.done").count() == 1
    page = _login(claire).get(f"/o/{org.slug}/conversations/{conversation.pk}/").content.decode()
    assert "Done by the service" in page and "Lampadaire remplacé le 4 décembre." in page
    # The same message again (a retry of the receiver): answered, nothing done twice.
    again = _call(system, _done(made.reference), message_id=message_id)
    assert again.status_code == 200 and again.json() == {"duplicate": True}
    # The same word in a new message: nothing changes either.
    once_more = _call(system, _done(made.reference, "autre note"))
    assert once_more.status_code == 200 and once_more.json()["changed"] is False
    made.refresh_from_db()
    assert made.status_notes == "Lampadaire remplacé le 4 décembre."
    assert AuditEvent.objects.filter(action="handoff.done").count() == 1


def test_a_call_not_signed_with_the_secret_changes_nothing(
    conversation: Conversation, system: RequestSystem, receiver: WebhookReceiver, claire: Any
) -> None:
    made = _sent(conversation, system, claire)
    refused = [
        _call(system, _done(made.reference), secret=webhook.new_secret()),  # another secret
        _call(system, _done(made.reference), timestamp=int(time.time()) - 600),  # a replay
        Client().post(  # no signature at all
            f"/hooks/requests/{system.pk}/", _done(made.reference), content_type="application/json"
        ),
    ]
    assert [r.status_code for r in refused] == [401, 401, 401]
    assert "too old" in refused[1].json()["error"]
    body = json.dumps(_done(made.reference)).encode()
    headers = signed_headers(SECRET, "msg_tampered", body)
    tampered = Client().post(
        f"/hooks/requests/{system.pk}/",
        body.replace(b"4 d", b"5 d"),
        content_type="application/json",
        **headers,
    )
    assert tampered.status_code == 401
    made.refresh_from_db()
    assert made.state == State.SENT and not made.status_notes
    assert not AuditEvent.objects.filter(action="handoff.done").exists()


def test_unknown_systems_and_references_are_not_found(
    org: Any,
    conversation: Conversation,
    system: RequestSystem,
    receiver: WebhookReceiver,
    claire: Any,
) -> None:
    made = _sent(conversation, system, claire)
    by_mail = RequestSystem.objects.create(
        organization=org, name="Courriel", kind=RequestSystem.Kind.EMAIL
    )
    assert _call(by_mail, _done(made.reference)).status_code == 404  # not a webhook system
    missing = RequestSystem(pk=system.pk + 1000)
    assert _call(missing, _done(made.reference)).status_code == 404
    assert _call(system, _done("BF-0-0")).status_code == 404
    assert (
        _call(system, {"type": "request.closed", "data": {"reference": made.reference}}).status_code
        == 400
    )
    assert Client().get(f"/hooks/requests/{system.pk}/").status_code == 405
    # A broken Content-Length is a clear refusal, not a server error.
    broken = Client().generic("POST", f"/hooks/requests/{system.pk}/", b"{}", CONTENT_LENGTH="many")
    assert broken.status_code == 400 and "Content-Length" in broken.json()["error"]
    # A hand-off the system has not received yet is not done there.
    Handoff.objects.filter(pk=made.pk).update(state=State.SEND_FAILED)
    assert _call(system, _done(made.reference)).status_code == 409


def test_repeated_refused_calls_are_cut_short(
    conversation: Conversation, system: RequestSystem, receiver: WebhookReceiver, claire: Any
) -> None:
    made = _sent(conversation, system, claire)
    for _call_number in range(handoff.HOOK_FAILURES):
        assert _call(system, _done(made.reference), secret=webhook.new_secret()).status_code == 401
    # Past the limit, this address is refused unread, even with a good signature.
    cut = _call(system, _done(made.reference))
    assert cut.status_code == 429 and cut["Retry-After"] == str(handoff.HOOK_WINDOW_SECONDS)
    made.refresh_from_db()
    assert made.state == State.SENT


# --- the settings ----------------------------------------------------------------------------


def test_a_webhook_system_is_set_up_with_a_secret_shown_once(
    org: Any, receiver: WebhookReceiver, make_user: Callable[..., Any]
) -> None:
    admin = _login(make_user("chef", org=org, role="admin"))
    base = f"/o/{org.slug}/conversations/request-systems/"
    form = admin.get(base + "new/").content.decode()
    assert "Webhook (signed HTTP POST)" in form and "Signing secret" in form
    fields = {"name": "GRU", "kind": "webhook", "enabled": "on"}
    # Errors said in words.
    missing = admin.post(base + "new/", fields).content.decode()
    assert "A webhook needs the address to post to." in missing
    clear = admin.post(base + "new/", fields | {"endpoint": "http://gru.example.org/hook"})
    assert "must start with https://" in clear.content.decode()
    bad = admin.post(
        base + "new/", fields | {"endpoint": receiver.url, "signing_secret": "hunter2"}
    )
    assert "whsec_ followed by base64" in bad.content.decode()
    assert not RequestSystem.objects.exists()
    # Left empty: a secret is made and shown on this page only.
    made = admin.post(base + "new/", fields | {"endpoint": receiver.url})
    assert made.status_code == 200 and made["Cache-Control"] == "no-store"
    system = RequestSystem.objects.get()
    shown = made.content.decode()
    assert system.signing_secret.startswith("whsec_") and system.signing_secret in shown
    assert f"/hooks/requests/{system.pk}/" in shown
    assert system.signing_secret not in system.secrets_encrypted
    listed = admin.get(base).content.decode()
    assert system.signing_secret not in listed and f"/hooks/requests/{system.pk}/" in listed
    edit = admin.get(base + f"{system.pk}/").content.decode()
    assert system.signing_secret not in edit
    # Saved again unchanged: the secret is kept; one given is stored as given.
    first = system.signing_secret
    kept = admin.post(base + f"{system.pk}/", fields | {"endpoint": receiver.url})
    assert kept.status_code == 302
    system.refresh_from_db()
    assert system.signing_secret == first
    given = admin.post(
        base + f"{system.pk}/", fields | {"endpoint": receiver.url, "signing_secret": SECRET}
    )
    assert given.status_code == 302
    system.refresh_from_db()
    assert system.signing_secret == SECRET
    renewed = admin.post(
        base + f"{system.pk}/", fields | {"endpoint": receiver.url, "new_secret": "on"}
    )
    system.refresh_from_db()
    assert (
        system.signing_secret not in (SECRET, first)
        and system.signing_secret in renewed.content.decode()
    )
    audited = str(list(AuditEvent.objects.values_list("after", flat=True)))
    assert first not in audited and SECRET not in audited and system.signing_secret not in audited
