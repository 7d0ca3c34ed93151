"""The answering desk through the JSON API: listing and reading conversations, the changes
people make (through the desk's services: history and audit), replies that are *sending* and
never sent twice, saved replies filled for the conversation, and the response-time report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from beffroi.audit.models import AuditEvent
from beffroi.audit.services import Actor
from beffroi.conversations import services
from beffroi.conversations.models import (
    Conversation,
    ConversationEvent,
    Note,
    Reply,
    SavedReply,
    Team,
)
from beffroi.jobs.models import Job
from beffroi.sources.models import Source
from tests.conversations.conftest import Thread

PARIS = ZoneInfo("Europe/Paris")
BASE = "/api/v1/orgs/{slug}/conversations"


@pytest.fixture
def thread(org: Any) -> Thread:
    """Items on the town's Facebook page (its own account is the page ``1``)."""
    page = Source.objects.create(
        organization=org, name="Page", platform="facebook", settings={"page_id": "1"}
    )
    return Thread(org, page)


def ask(
    thread: Thread,
    handle: str,
    text: str = "Le lampadaire est éteint",
    at: datetime | None = None,
    answered: datetime | None = None,
) -> Conversation:
    """A citizen's comment under a post of the town (and the town's answer): a conversation."""
    at = at or timezone.now() - timedelta(minutes=5)
    comment = thread.item(thread._author(handle), text, "comment", thread.post(), at)
    if answered is not None:
        thread.item(thread.town, f"Bonjour {handle}, c'est noté.", "reply", comment, answered)
    services.attach_new_items(thread.org)
    return Conversation.objects.get(organization=thread.org, root=comment)


def url(org: Any, conversation: Conversation | None = None, action: str = "") -> str:
    path = BASE.format(slug=org.slug)
    if conversation is not None:
        path += f"/{conversation.pk}"
    return f"{path}/{action}" if action else path


@pytest.fixture
def admin(org: Any, make_user: Callable[..., Any]) -> Any:
    return make_user("claire", org=org, role="admin")


@pytest.fixture
def key(admin: Any, key_for: Callable[..., str]) -> str:
    return key_for(admin)


# --- reading ---------------------------------------------------------------------------------


def test_the_list_pages_and_filters_conversations_with_their_clock(
    org: Any,
    other_org: Any,
    thread: Thread,
    api: Any,
    key: str,
    admin: Any,
) -> None:
    late = ask(thread, "alice", at=timezone.now() - timedelta(days=30))
    fresh = ask(thread, "bruno")
    voirie = Team.objects.create(organization=org, slug="voirie", name="Voirie")
    Conversation.objects.filter(pk=late.pk).update(
        assignee=admin, state="open", team=voirie, labels=["eclairage"]
    )
    theirs = Source.objects.create(organization=other_org, name="Page", platform="facebook")
    ask(Thread(other_org, theirs), "denis")

    page = api.get(url(org), key).json()
    assert page["count"] == 2 and page["limit"] == 50 and page["offset"] == 0
    assert [c["id"] for c in page["items"]] == [fresh.pk, late.pk]  # latest message first
    listed = page["items"][1]
    assert listed["author"] == "alice" and listed["kind"] == "public"
    assert listed["state"] == "open" and listed["platform"] == "facebook"
    assert (listed["assignee"], listed["team"], listed["labels"]) == (
        "claire",
        "voirie",
        ["eclairage"],
    )
    assert listed["subject"] == "Le lampadaire est éteint" and listed["first_response_at"] is None
    assert listed["clock"]["target"] == "first" and listed["clock"]["status"] == "breached"
    assert listed["clock"]["target_hours"] == 8 and listed["clock"]["elapsed_hours"] > 8

    second = api.get(url(org), key, limit=1, offset=1).json()
    assert second["count"] == 2 and [c["id"] for c in second["items"]] == [late.pk]

    def ids(**query: Any) -> list[int]:
        response = api.get(url(org), key, **query)
        assert response.status_code == 200, response.content
        return [c["id"] for c in response.json()["items"]]

    assert ids(view="mine") == [late.pk]
    assert ids(view="unassigned") == [fresh.pk]
    assert ids(view="breaching") == [late.pk]
    assert ids(state="new") == [fresh.pk]
    assert ids(team="voirie") == [late.pk] and ids(team="eau") == []
    assert ids(assignee="claire") == [late.pk] and ids(assignee="nobody") == []
    assert ids(platform="mastodon") == []
    assert api.get(url(org), key, view="everything").status_code == 422
    assert api.get(url(org), key, limit=0).status_code == 422


def test_one_conversation_with_its_messages_replies_notes_and_history(
    org: Any, thread: Thread, api: Any, key: str, admin: Any
) -> None:
    conversation = ask(thread, "alice", answered=timezone.now() - timedelta(minutes=1))
    actor = Actor(admin, "ui")
    services.add_note(actor, conversation, "@claire à voir")
    services.send_reply(actor, conversation, "Merci, c'est signalé.", key="k-1")
    body = api.get(url(org, conversation), key).json()
    assert body["id"] == conversation.pk and body["state"] == "answered"
    assert [(m["author"], m["own"]) for m in body["messages"]] == [
        ("alice", False),
        ("mairie", True),
    ]
    assert body["messages"][0]["text"] == "Le lampadaire est éteint"
    [reply] = body["replies"]
    assert reply["state"] == "sending" and reply["sent_at"] is None
    assert (reply["text"], reply["author"], reply["private"]) == (
        "Merci, c'est signalé.",
        "claire",
        False,
    )
    [note] = body["notes"]
    assert note["text"] == "@claire à voir" and note["mentions"] == ["claire"]
    assert [e["kind"] for e in body["events"]] == ["created", "note", "reply"]
    assert body["events"][1]["actor"] == "claire"
    assert "open" in body["next_states"] and "answered" not in body["next_states"]
    assert body["clock"]["target"] == "resolution"


def test_saved_replies_are_listed(org: Any, other_org: Any, api: Any, key: str) -> None:
    voirie = Team.objects.create(organization=org, slug="voirie", name="Voirie")
    SavedReply.objects.create(organization=org, name="Merci", text="Merci {prénom}.", team=voirie)
    SavedReply.objects.create(organization=other_org, name="Autre", text="Bonjour")
    listed = api.get(url(org) + "/saved-replies", key).json()
    assert [(s["name"], s["team"], s["text"]) for s in listed] == [
        ("Merci", "voirie", "Merci {prénom}.")
    ]


# --- changing --------------------------------------------------------------------------------


def _api_events(org: Any, action: str) -> int:
    return AuditEvent.objects.filter(organization=org, action=action, channel="api").count()


def test_assigning_through_the_api_goes_through_the_service(
    org: Any, thread: Thread, api: Any, key: str, make_user: Callable[..., Any]
) -> None:
    conversation = ask(thread, "alice")
    make_user("paul", org=org, role="publisher")
    make_user("stranger")
    response = api.post(url(org, conversation, "assign"), key, {"assignee": "paul"})
    assert response.status_code == 200, response.content
    assert response.json()["assignee"] == "paul" and response.json()["state"] == "open"
    assert _api_events(org, "conversation.assign") == 1
    event = ConversationEvent.objects.get(conversation=conversation, kind="assigned")
    assert event.actor.username == "claire" and event.after == {"assignee": "paul", "state": "open"}
    # An account that is not a member, or none at all: the same refusal.
    for name in ("stranger", "ghost"):
        refused = api.post(url(org, conversation, "assign"), key, {"assignee": name})
        assert refused.status_code == 400
        assert refused.json()["detail"].startswith("Seul un membre de l’organisation")
    response = api.post(url(org, conversation, "assign"), key, {"assignee": None})
    assert response.status_code == 200 and response.json()["assignee"] is None
    assert api.post(url(org, conversation, "assign"), key, {}).status_code == 422


def test_the_state_machine_refuses_with_400(org: Any, thread: Thread, api: Any, key: str) -> None:
    conversation = ask(thread, "alice")
    response = api.post(url(org, conversation, "state"), key, {"state": "resolved"})
    assert response.status_code == 200 and response.json()["state"] == "resolved"
    assert response.json()["resolved_at"] is not None and response.json()["clock"] is None
    api.client.cookies["django_language"] = "en"
    refused = api.post(url(org, conversation, "state"), key, {"state": "waiting"})
    assert refused.status_code == 400
    assert (
        refused.json()["detail"] == "A conversation resolved cannot become waiting for the citizen."
    )
    unknown = api.post(url(org, conversation, "state"), key, {"state": "archived"})
    assert unknown.status_code == 422
    conversation.refresh_from_db()
    assert conversation.state == "resolved"
    assert _api_events(org, "conversation.state") == 1


def test_team_labels_and_notes(
    org: Any, other_org: Any, thread: Thread, api: Any, key: str, make_user: Callable[..., Any]
) -> None:
    conversation = ask(thread, "alice")
    Team.objects.create(organization=org, slug="voirie", name="Voirie")
    Team.objects.create(organization=other_org, slug="eau", name="Eau")
    response = api.post(url(org, conversation, "team"), key, {"team": "voirie"})
    assert response.status_code == 200 and response.json()["team"] == "voirie"
    assert api.post(url(org, conversation, "team"), key, {"team": "eau"}).status_code == 400
    assert api.post(url(org, conversation, "team"), key, {"team": None}).json()["team"] is None

    labels = ["  nid de  poule ", "voirie", "voirie", " "]
    response = api.post(url(org, conversation, "labels"), key, {"labels": labels})
    assert response.status_code == 200
    assert response.json()["labels"] == ["nid de poule", "voirie"]
    too_long = api.post(url(org, conversation, "labels"), key, {"labels": ["x" * 41]})
    assert too_long.status_code == 422

    make_user("paul", org=org, role="viewer")
    response = api.post(url(org, conversation, "notes"), key, {"text": "Vu avec @paul"})
    assert response.status_code == 201, response.content
    assert response.json()["mentions"] == ["paul"] and response.json()["author"] == "claire"
    assert Note.objects.get(conversation=conversation).text == "Vu avec @paul"
    assert api.post(url(org, conversation, "notes"), key, {"text": "   "}).status_code == 400
    assert _api_events(org, "conversation.team") == 2
    assert _api_events(org, "conversation.labels") == 1
    assert _api_events(org, "conversation.note") == 1


# --- replies ---------------------------------------------------------------------------------


def test_a_reply_is_accepted_as_sending_and_its_key_makes_it_once(
    org: Any, thread: Thread, api: Any, key: str, django_capture_on_commit_callbacks: Any
) -> None:
    conversation = ask(thread, "alice")
    body = {"text": "Bonjour, c'est signalé.", "key": "draft-1", "resolve": True}
    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(url(org, conversation, "replies"), key, body)
    assert first.status_code == 202, first.content
    reply = first.json()
    assert reply["state"] == "sending" and reply["sent_at"] is None and reply["platform_id"] == ""
    job = Job.objects.get(name="conversations.send_reply")
    assert job.payload == {"reply_id": reply["id"], "resolve": True}
    conversation.refresh_from_db()
    assert conversation.state == "new"  # answered only once the platform confirms

    # The same key again (a retry after a timeout), even with other words: the same reply.
    again = api.post(url(org, conversation, "replies"), key, {**body, "text": "Autre"})
    assert again.status_code == 200 and again.json()["id"] == reply["id"]
    assert again.json()["text"] == "Bonjour, c'est signalé."
    assert Reply.objects.filter(organization=org).count() == 1
    assert _api_events(org, "reply.send") == 1

    other = ask(thread, "bruno")
    reused = api.post(url(org, other, "replies"), key, body)
    assert reused.status_code == 400 and reused.json()["detail"]
    empty = api.post(url(org, other, "replies"), key, {"text": "  ", "key": "draft-2"})
    assert empty.status_code == 400
    assert api.post(url(org, other, "replies"), key, {"text": "Oui"}).status_code == 422
    assert Reply.objects.filter(organization=org).count() == 1


def test_a_saved_reply_is_filled_for_the_conversation(
    org: Any, thread: Thread, api: Any, key: str
) -> None:
    conversation = ask(thread, "alice")
    voirie = Team.objects.create(organization=org, slug="voirie", name="Voirie")
    Conversation.objects.filter(pk=conversation.pk).update(team=voirie)
    saved = SavedReply.objects.create(
        organization=org,
        name="Pris en charge",
        text="Bonjour {prénom}, le service {service} s'en occupe {délai}.",
    )
    endpoint = url(org, conversation, "replies")

    # {délai} has nothing to fill it: refused, naming it.
    refused = api.post(endpoint, key, {"key": "s-1", "saved_reply_id": saved.pk})
    assert refused.status_code == 400 and "{délai}" in refused.json()["detail"]
    assert not Reply.objects.exists()

    filled = api.post(
        endpoint, key, {"key": "s-2", "saved_reply_id": saved.pk, "delay": "sous 5 jours"}
    )
    assert filled.status_code == 202, filled.content
    assert filled.json()["text"] == "Bonjour Alice, le service Voirie s'en occupe sous 5 jours."
    assert filled.json()["saved_reply_id"] == saved.pk

    # The person's own words win over the template.
    own = api.post(
        endpoint, key, {"key": "s-3", "saved_reply_id": saved.pk, "text": "Bonjour Alice !"}
    )
    assert own.status_code == 202 and own.json()["text"] == "Bonjour Alice !"
    assert Reply.objects.get(pk=own.json()["id"]).saved_reply == saved


# --- who may ---------------------------------------------------------------------------------

WRITES: list[tuple[str, dict[str, Any]]] = [
    ("assign", {"assignee": None}),
    ("state", {"state": "closed"}),
    ("team", {"team": None}),
    ("labels", {"labels": ["x"]}),
    ("notes", {"text": "Vu"}),
    ("replies", {"text": "Bonjour", "key": "viewer-1"}),
]


def test_a_viewer_reads_but_changes_nothing(
    org: Any, thread: Thread, api: Any, member_key: Callable[..., str]
) -> None:
    conversation = ask(thread, "alice")
    viewer = member_key(org, "viewer")
    assert api.get(url(org, conversation), viewer).status_code == 200
    assert api.get(url(org), viewer).status_code == 200
    for action, body in WRITES:
        response = api.post(url(org, conversation, action), viewer, body)
        assert response.status_code == 403, (action, response.content)
    assert not AuditEvent.objects.filter(organization=org, channel="api").exists()
    assert not Reply.objects.exists() and not Note.objects.exists()
    assert list(conversation.events.values_list("kind", flat=True)) == ["created"]


def test_another_organizations_conversation_and_saved_reply_are_not_found(
    org: Any, other_org: Any, thread: Thread, api: Any, key: str
) -> None:
    mine = ask(thread, "alice")
    theirs_source = Source.objects.create(organization=other_org, name="Page", platform="facebook")
    theirs = ask(Thread(other_org, theirs_source), "denis")
    their_saved = SavedReply.objects.create(organization=other_org, name="B", text="Bonjour")
    assert api.get(url(org, theirs), key).status_code == 404
    for action, body in WRITES:
        assert api.post(url(org, theirs, action), key, body).status_code == 404, action
    response = api.post(
        url(org, mine, "replies"), key, {"key": "b-1", "saved_reply_id": their_saved.pk}
    )
    assert response.status_code == 404
    assert api.get(url(other_org, theirs), key).status_code == 404  # not a member there
    assert not Reply.objects.exists()
    assert list(theirs.events.values_list("kind", flat=True)) == ["created"]


# --- the response-time report ----------------------------------------------------------------


def test_the_response_time_report(org: Any, thread: Thread, api: Any, key: str) -> None:
    # Office hours in Paris, targets of 8 and 40 business hours (the defaults).
    monday = datetime(2026, 3, 2, tzinfo=PARIS)
    # Answered after 2 hours; then Monday 16:00 answered Tuesday 16:00 (1 h + 7 h).
    ask(thread, "alice", at=monday + timedelta(hours=10), answered=monday + timedelta(hours=12))
    ask(thread, "bruno", at=monday + timedelta(hours=16), answered=monday + timedelta(hours=40))
    ask(thread, "chloe", at=monday + timedelta(days=7, hours=10))  # the next week
    endpoint = url(org) + "/response-times"
    body = api.get(endpoint, key, since="2026-03-02", until="2026-03-08").json()
    assert (body["since"], body["until"], body["timezone"]) == (
        "2026-03-02",
        "2026-03-08",
        "Europe/Paris",
    )
    assert body["first_response_target_hours"] == 8 and body["resolution_target_hours"] == 40
    overall = body["overall"]
    assert (overall["count"], overall["answered"], overall["resolved"]) == (2, 2, 0)
    first = overall["first_response"]
    assert first["median_hours"] == pytest.approx(5)  # 2 h and 8 h
    assert first["p90_hours"] == pytest.approx(7.4)
    assert (first["within_target"], first["overdue"], first["share_within_target"]) == (2, 0, 1)
    # Never resolved, and 40 business hours have long passed since March.
    resolution = overall["resolution"]
    assert resolution["median_hours"] is None and resolution["overdue"] == 2
    assert resolution["share_within_target"] == 0
    assert [(r["key"], r["count"]) for r in body["by_week"]] == [("2026-W10", 2)]
    assert [(r["key"], r["count"]) for r in body["by_platform"]] == [("facebook", 2)]
    assert [(r["key"], r["answered"]) for r in body["by_team"]] == [(None, 2)]

    default = api.get(endpoint, key).json()
    until = date.fromisoformat(default["until"])
    assert until == timezone.now().astimezone(PARIS).date()
    assert date.fromisoformat(default["since"]) == until - timedelta(days=27)
    assert default["overall"]["count"] == 0

    assert api.get(endpoint, key, since="2026-03-09", until="2026-03-02").status_code == 422
    assert api.get(endpoint, key, since="0001-01-01").status_code == 422
