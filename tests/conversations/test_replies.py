"""Replies from the desk: shown as sending, then sent with the platform's id or failed with a
reason and a retry — never sent when the platform refused, never posted twice (a resubmitted
form, a retry after a crash during the call)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from beffroi.audit.models import AuditEvent
from beffroi.audit.services import Actor
from beffroi.connectors.base import ActionResult, AuthError, RateLimited
from beffroi.conversations import sending, services
from beffroi.conversations.models import Conversation, Reply
from beffroi.jobs.engine import RetryLater
from beffroi.jobs.models import Job
from beffroi.sources import failures

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(org: Any, thread: Any) -> Conversation:
    thread.say("alice", "Le lampadaire de la rue des Écoles est éteint", thread.post())
    services.attach_new_items(org)
    return Conversation.objects.get(organization=org)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[Reply]:
    """The platform: posts every reply it is asked for (each call recorded)."""
    made: list[Reply] = []

    def post(reply: Reply) -> ActionResult:
        made.append(reply)
        return ActionResult(
            ok=True,
            platform_id=f"fb-{len(made)}",
            detail="Comment posted.",
            url=f"https://facebook.example/c/{len(made)}",
        )

    monkeypatch.setattr(sending, "_call", post)
    return made


def _send(conversation: Conversation, user: Any, key: str = "k1", **options: Any) -> Reply:
    return services.send_reply(
        Actor(user, "ui"), conversation, "Bonjour, c'est signalé au service.", key=key, **options
    )


def test_a_reply_is_sending_then_sent_with_its_link(
    conversation: Conversation,
    member: Callable[..., Any],
    calls: list[Reply],
    django_capture_on_commit_callbacks: Any,
) -> None:
    claire = member("claire")
    with django_capture_on_commit_callbacks(execute=True):
        reply = _send(conversation, claire, resolve=True)
    assert reply.state == Reply.State.SENDING and not calls
    job = Job.objects.get(name="conversations.send_reply")
    assert job.payload == {"reply_id": reply.pk, "resolve": True}
    conversation.refresh_from_db()
    assert conversation.state == Conversation.State.NEW  # not answered before the platform says so
    assert sending.send(reply.pk, resolve=True) == Reply.State.SENT
    reply.refresh_from_db()
    assert reply.platform_id == "fb-1" and reply.url == "https://facebook.example/c/1"
    assert reply.sent_at is not None and reply.calling_since is None and reply.attempts == 1
    conversation.refresh_from_db()
    assert conversation.state == Conversation.State.RESOLVED
    assert conversation.first_response_at == reply.sent_at
    assert AuditEvent.objects.filter(action="reply.sent", actor=None).count() == 1
    # Delivered twice (a job run again): posted once.
    assert sending.send(reply.pk) == Reply.State.SENT and len(calls) == 1


def test_the_same_form_sent_twice_is_one_reply(
    conversation: Conversation, member: Callable[..., Any], calls: list[Reply]
) -> None:
    claire = member("claire")
    first = _send(conversation, claire, key="same")
    second = _send(conversation, claire, key="same")
    assert first.pk == second.pk and Reply.objects.count() == 1
    with pytest.raises(services.DeskError):
        services.send_reply(Actor(claire, "ui"), conversation, "  ", key="other")


def test_a_refusal_is_shown_as_failed_with_a_reason_and_can_be_sent_again(
    conversation: Conversation,
    member: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    claire = member("claire")
    reply = _send(conversation, claire)

    def refuse(reply: Reply) -> ActionResult:
        raise AuthError("OAuthException: Error validating access token (190)")

    monkeypatch.setattr(sending, "_call", refuse)
    assert sending.send(reply.pk) == Reply.State.FAILED
    reply.refresh_from_db()
    assert reply.reason == failures.REASON_CREDENTIALS and "access token" in reply.detail
    conversation.refresh_from_db()
    assert conversation.first_response_at is None and conversation.state == "new"
    conversation.source.refresh_from_db()
    assert conversation.source.status == "auth_failed"  # the source says so too
    retried = services.retry_reply(Actor(claire, "ui"), reply)
    assert retried.state == Reply.State.SENDING and retried.reason == ""
    assert AuditEvent.objects.filter(action="reply.retry", actor=claire).exists()
    with pytest.raises(services.DeskError):
        services.retry_reply(Actor(claire, "ui"), retried)  # already on its way


def test_a_rate_limit_keeps_it_sending_for_later(
    conversation: Conversation, member: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    reply = _send(conversation, member("claire"))

    def wait(reply: Reply) -> ActionResult:
        raise RateLimited("Too many calls", retry_after=120)

    monkeypatch.setattr(sending, "_call", wait)
    from beffroi.conversations.tasks import send_reply_task

    with pytest.raises(RetryLater) as later:
        send_reply_task(reply.pk)
    assert later.value.delay == 120
    reply.refresh_from_db()
    assert reply.state == Reply.State.SENDING and reply.calling_since is None
    assert reply.reason == failures.REASON_RATE_LIMITED


def test_a_crash_during_the_call_never_posts_twice(
    conversation: Conversation,
    member: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    calls: list[Reply],
) -> None:
    claire = member("claire")
    reply = _send(conversation, claire)

    def die(reply: Reply) -> ActionResult:
        raise SystemExit("the worker was killed during the call")

    monkeypatch.setattr(sending, "_call", die)
    with pytest.raises(SystemExit):
        sending.send(reply.pk)
    reply.refresh_from_db()
    assert reply.calling_since is not None  # the mark was committed before the call
    # The job runs again: the platform may have posted it, so it is not called again.
    monkeypatch.setattr(sending, "_call", lambda reply: pytest.fail("posted twice"))
    assert sending.send(reply.pk) == Reply.State.UNKNOWN
    reply.refresh_from_db()
    assert reply.reason == sending.REASON_INTERRUPTED and reply.retryable
    # A person checked: it was posted.
    confirmed = services.confirm_reply_posted(
        Actor(claire, "ui"), reply, "https://facebook.example/c/9"
    )
    assert confirmed.state == Reply.State.SENT
    conversation.refresh_from_db()
    assert conversation.state == Conversation.State.ANSWERED
    assert not calls


def test_a_demo_source_simulates_and_an_imported_one_cannot_answer(
    org: Any, thread: Any, member: Callable[..., Any], source: Any
) -> None:
    from beffroi.sources.models import DEMO_SETTING
    from tests.conversations.conftest import Thread

    thread.source.settings = {**thread.source.settings, DEMO_SETTING: True}
    thread.source.save()
    thread.say("alice", "Bonjour, horaires de la mairie ?", thread.post())
    imported = Thread(org, source)
    imported.say("bruno", "Bonjour, le marché est maintenu ?", imported.post())
    services.attach_new_items(org)
    claire = member("claire")
    demo = Conversation.objects.get(source=thread.source)
    upload = Conversation.objects.get(source=source)
    assert sending.send(_send(demo, claire, key="d").pk) == Reply.State.SIMULATED
    assert sending.send(_send(upload, claire, key="u").pk) == Reply.State.FAILED
    assert Reply.objects.get(key="u").reason == failures.REASON_UPLOAD
    demo.refresh_from_db()
    assert demo.state == Conversation.State.ANSWERED
