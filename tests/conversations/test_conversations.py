"""Conversations made from the items as they arrive, and their state machine: new → open
(assigned) → waiting for the citizen (clock paused) → answered → resolved → closed, reopened
by a new message from the citizen; each change in the history and the audit trail."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from beffroi.audit.models import AuditEvent
from beffroi.audit.services import Actor
from beffroi.conversations import services
from beffroi.conversations.models import Conversation, ConversationEvent, Note
from beffroi.jobs.models import Job

pytestmark = pytest.mark.django_db

State = Conversation.State


def test_a_comment_opens_a_conversation_its_replies_join_and_the_towns_answer_answers_it(
    org: Any, thread: Any
) -> None:
    post = thread.post()
    question = thread.say("alice", "Bonjour, la rue sera fermée toute la journée ?", post)
    follow_up = thread.say("alice", "Et le soir aussi ?", question)
    other = thread.say("bruno", "Super, enfin des travaux", post)
    assert services.attach_new_items(org) == 3
    conversations = {c.author.handle: c for c in Conversation.objects.filter(organization=org)}
    assert set(conversations) == {"alice", "bruno"}  # one per first-level comment
    alice = conversations["alice"]
    assert alice.state == State.NEW and alice.kind == Conversation.Kind.PUBLIC
    assert alice.root == question and set(alice.items.all()) == {question, follow_up}
    assert alice.opened_at == question.created_at and alice.first_response_at is None
    assert alice.subject.startswith("Bonjour, la rue")
    assert set(conversations["bruno"].items.all()) == {other}

    answer = thread.answer("Bonjour Alice, de 8 h à 17 h seulement.", follow_up)
    assert services.attach_new_items(org) == 1
    alice.refresh_from_db()
    assert alice.state == State.ANSWERED and alice.first_response_at == answer.created_at
    assert alice.message_count == 3
    # Read again after a crash: nothing is attached twice.
    from beffroi.conversations.models import IntakeCursor

    IntakeCursor.objects.filter(organization=org).update(last_item_id=0)
    assert services.attach_new_items(org) == 0
    assert alice.items.count() == 3


def test_private_messages_of_one_person_are_one_conversation(org: Any, thread: Any) -> None:
    first = thread.say("chloe", "Bonjour, comment obtenir une carte d'identité ?", kind="message")
    thread.answer("Bonjour, sur rendez-vous en mairie.", first, kind="message")
    second = thread.say("chloe", "Merci ! Et pour un passeport ?", kind="message")
    services.attach_new_items(org)
    conversation = Conversation.objects.get(organization=org)
    assert conversation.kind == Conversation.Kind.PRIVATE
    assert conversation.items.count() == 3 and conversation.root == first
    # The citizen wrote after the answer: reopened, not left "answered".
    assert conversation.state == State.NEW and conversation.last_citizen_at == second.created_at
    assert conversation.events.filter(kind=ConversationEvent.Kind.REOPENED).exists()


def test_assigning_opens_and_only_members_can_be_assigned(
    org: Any, thread: Any, member: Callable[..., Any], make_user: Callable[..., Any]
) -> None:
    thread.say("alice", "Le lampadaire est éteint rue des Écoles", thread.post())
    services.attach_new_items(org)
    conversation = Conversation.objects.get(organization=org)
    claire = member("claire")
    actor = Actor(claire, "ui")
    with pytest.raises(services.DeskError):
        services.assign(actor, conversation, make_user("stranger"))
    conversation = services.assign(actor, conversation, claire)
    assert conversation.state == State.OPEN and conversation.assignee == claire
    event = conversation.events.get(kind="assigned")
    assert event.actor == claire and event.after == {"assignee": "claire", "state": "open"}
    audit = AuditEvent.objects.get(action="conversation.assign")
    assert audit.actor == claire and audit.organization == org


def test_the_state_machine_refuses_what_it_does_not_allow_and_pauses_the_clock(
    org: Any, thread: Any, member: Callable[..., Any]
) -> None:
    thread.say("alice", "Ma rue n'est pas déneigée", thread.post())
    services.attach_new_items(org)
    conversation = Conversation.objects.get(organization=org)
    actor = Actor(member("claire"), "ui")
    conversation = services.set_state(actor, conversation, State.WAITING)
    assert conversation.pauses and conversation.pauses[-1][1] is None
    conversation = services.set_state(actor, conversation, State.OPEN)
    assert conversation.pauses[-1][1] is not None  # the clock runs again
    conversation = services.set_state(actor, conversation, State.RESOLVED)
    assert conversation.resolved_at is not None
    with pytest.raises(services.DeskError, match="cannot become"):
        services.set_state(actor, conversation, State.WAITING)
    conversation = services.set_state(actor, conversation, State.CLOSED)
    # The citizen writes again: reopened (open, for it had no assignee? new).
    thread.say("alice", "Toujours pas déneigée ce matin !", conversation.root)
    services.attach_new_items(org)
    conversation.refresh_from_db()
    assert conversation.state == State.NEW and conversation.resolved_at is None
    assert [e.kind for e in conversation.events.all()][-1] == "reopened"


def test_snooze_hides_until_a_new_message(
    org: Any, thread: Any, member: Callable[..., Any]
) -> None:
    claire = member("claire")
    thread.say("alice", "Quand ouvre la piscine ?", thread.post())
    services.attach_new_items(org)
    conversation = Conversation.objects.get(organization=org)
    actor = Actor(claire, "ui")
    with pytest.raises(services.DeskError):
        services.snooze(actor, conversation, timezone.now() - timezone.timedelta(hours=1))
    services.snooze(actor, conversation, timezone.now() + timezone.timedelta(days=2))
    listed = Conversation.objects.filter(organization=org)
    assert not listed.filter(services.view_filter("open", claire)).exists()
    assert listed.filter(services.view_filter("snoozed", claire)).exists()
    thread.say("alice", "Alors ?", conversation.root)
    services.attach_new_items(org)
    assert listed.filter(services.view_filter("open", claire)).exists()


def test_saved_views(org: Any, thread: Any, member: Callable[..., Any]) -> None:
    from beffroi.conversations.models import Team

    claire, david = member("claire"), member("david")
    post = thread.post()
    for handle in ("alice", "bruno", "chloe"):
        thread.say(handle, f"Question de {handle}", post)
    services.attach_new_items(org)
    alice, bruno, chloe = Conversation.objects.filter(organization=org).order_by("pk")
    voirie = Team.objects.create(organization=org, slug="voirie", name="Voirie")
    voirie.members.add(david)
    actor = Actor(claire, "ui")
    services.assign(actor, alice, claire)
    services.set_team(actor, bruno, voirie)

    def view(name: str, user: Any) -> set[str]:
        found = Conversation.objects.filter(organization=org).filter(
            services.view_filter(name, user)
        )
        return {c.author.handle for c in found}

    assert view("mine", claire) == {"alice"}
    assert view("team", david) == {"bruno"}
    assert view("unassigned", claire) == {"bruno", "chloe"}
    assert services.bulk(actor, [bruno, chloe], "close", None) == 2
    assert view("open", claire) == {"alice"}


def test_a_note_that_mentions_a_member_notifies_them(
    org: Any, thread: Any, member: Callable[..., Any], django_capture_on_commit_callbacks: Any
) -> None:
    claire, david = member("claire"), member("david")
    thread.say("alice", "Le marché est annulé ?", thread.post())
    services.attach_new_items(org)
    conversation = Conversation.objects.get(organization=org)
    with pytest.raises(services.DeskError):
        services.add_note(Actor(claire, "ui"), conversation, "   ")
    with django_capture_on_commit_callbacks(execute=True):
        note = services.add_note(
            Actor(claire, "ui"), conversation, "@david tu peux vérifier ? @nobody"
        )
    assert list(note.mentions.all()) == [david]
    assert Job.objects.filter(name="conversations.mention_notice", payload={"note_id": note.pk})
    assert Note.objects.filter(conversation=conversation).count() == 1


def test_saved_replies_fill_their_variables_and_acknowledgements_say_what_the_law_asks(
    org: Any, thread: Any, member: Callable[..., Any]
) -> None:
    from beffroi.conversations.models import SavedReply, Team

    thread.say("alice", "Un trou énorme dans la chaussée avenue de la Gare", thread.post())
    services.attach_new_items(org)
    conversation = Conversation.objects.get(organization=org)
    voirie = Team.objects.create(
        organization=org, slug="voirie", name="Voirie", email="voirie@ville.example"
    )
    services.set_team(Actor(member("claire"), "ui"), conversation, voirie)
    conversation.refresh_from_db()
    actor = Actor(member("david"), "ui")
    with pytest.raises(services.DeskError, match="add \\{contact\\}, \\{délai\\}"):
        services.save_saved_reply(
            actor,
            org,
            SavedReply(),
            {
                "name": "AR",
                "language": "fr",
                "team": None,
                "text": "Reçu le {date} par {service}.",
                "acknowledgement": True,
            },
        )
    with pytest.raises(services.DeskError, match="Unknown variables"):
        services.check_saved_reply("Bonjour {nom}", False)
    saved = services.save_saved_reply(
        actor,
        org,
        SavedReply(),
        {
            "name": "AR",
            "language": "fr",
            "team": None,
            "text": "Bonjour {prénom}, demande reçue le {date}, traitée par {service} "
            "({contact}) sous {délai}.",
            "acknowledgement": True,
        },
    )
    text, missing = services.render_saved_reply(saved, conversation)
    received = timezone.localtime(conversation.opened_at).strftime("%d/%m/%Y")
    assert text == (
        f"Bonjour Alice, demande reçue le {received}, traitée par Voirie "
        "(voirie@ville.example) sous {délai}."
    )
    assert missing == ["délai"]
    text, missing = services.render_saved_reply(saved, conversation, delay="5 jours ouvrés")
    assert text.endswith("sous 5 jours ouvrés.") and missing == []
    assert AuditEvent.objects.filter(action="saved_reply.save").count() == 1
