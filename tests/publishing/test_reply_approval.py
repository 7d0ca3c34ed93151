"""Replies go the publishing desk's way where the organization says so: a reply written in the
answering desk waits for its approvers, is sent once approved (once), and is never sent when
sent back."""

from __future__ import annotations

from typing import Any

import pytest

from beffroi.audit.services import Actor
from beffroi.connectors.base import ActionResult
from beffroi.conversations import sending
from beffroi.conversations import services as desk_services
from beffroi.conversations.models import Conversation, Reply
from beffroi.jobs.engine import run_pending
from beffroi.publishing import services
from beffroi.publishing.models import Post
from tests.conversations.conftest import Thread

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def conversation(desk: Any) -> Conversation:
    from beffroi.sources.models import Source

    page = Source.objects.create(
        organization=desk.org, name="Vraie page", platform="facebook", settings={"page_id": "1"}
    )
    thread = Thread(desk.org, page)
    thread.say("alice", "Le lampadaire de la rue des Écoles est éteint", thread.post())
    desk_services.attach_new_items(desk.org)
    return Conversation.objects.get(organization=desk.org)


@pytest.fixture
def posted(monkeypatch: pytest.MonkeyPatch) -> list[Reply]:
    made: list[Reply] = []

    def post(reply: Reply) -> ActionResult:
        made.append(reply)
        return ActionResult(ok=True, platform_id=f"fb-{len(made)}", url="https://fb.example/c/1")

    monkeypatch.setattr(sending, "_call", post)
    return made


def _reply(desk: Any, conversation: Conversation) -> Reply:
    return desk_services.send_reply(
        Actor(desk.author, "ui"), conversation, "Bonjour, c'est signalé au service.", key="k1"
    )


def test_without_a_workflow_for_replies_a_reply_is_sent_at_once(
    desk: Any, cabinet_workflow: Any, conversation: Conversation, posted: list[Reply]
) -> None:
    reply = _reply(desk, conversation)
    run_pending()
    reply.refresh_from_db()
    assert reply.state == Reply.State.SENT and len(posted) == 1
    assert not Post.objects.exists()


def test_a_reply_waits_for_approval_then_is_sent_once(
    desk: Any, cabinet_workflow: Any, conversation: Conversation, posted: list[Reply]
) -> None:
    cabinet_workflow.for_replies = True
    cabinet_workflow.save()
    reply = _reply(desk, conversation)
    run_pending()
    reply.refresh_from_db()
    assert reply.state == Reply.State.AWAITING_APPROVAL and posted == []
    post = Post.objects.get(reply=reply)
    assert (post.kind, post.state) == (Post.Kind.REPLY, Post.State.IN_REVIEW)
    assert post.variants.get().text == reply.text
    # The same form sent again is the same reply, still waiting.
    assert _reply(desk, conversation).pk == reply.pk
    services.decide(Actor(desk.cabinet[0], "ui"), post, True)
    run_pending()
    reply.refresh_from_db()
    assert reply.state == Reply.State.SENT and len(posted) == 1
    services.release_due()  # an approved reply is never published a second way
    run_pending()
    assert len(posted) == 1


def test_a_reply_sent_back_is_never_sent(
    desk: Any, cabinet_workflow: Any, conversation: Conversation, posted: list[Reply]
) -> None:
    cabinet_workflow.for_replies = True
    cabinet_workflow.save()
    reply = _reply(desk, conversation)
    post = Post.objects.get(reply=reply)
    services.decide(Actor(desk.cabinet[1], "ui"), post, False, "Ton trop familier.")
    run_pending()
    reply.refresh_from_db()
    assert reply.state == Reply.State.WITHDRAWN and reply.detail == "Ton trop familier."
    assert posted == []


def test_the_text_the_approvers_approved_is_the_one_sent(
    desk: Any, cabinet_workflow: Any, conversation: Conversation, posted: list[Reply]
) -> None:
    cabinet_workflow.for_replies = True
    cabinet_workflow.save()
    reply = _reply(desk, conversation)
    post = Post.objects.get(reply=reply)
    variant = post.variants.get()
    post = services.save_post(
        Actor(desk.author, "ui"),
        desk.org,
        [services.VariantInput(variant.source, text="Bonjour, le service voirie passe demain.")],
        post=post,
        title=post.title,
    )
    services.decide(Actor(desk.cabinet[0], "ui"), post, True)
    run_pending()
    reply.refresh_from_db()
    assert reply.state == Reply.State.SENT
    assert posted[0].text == "Bonjour, le service voirie passe demain."
