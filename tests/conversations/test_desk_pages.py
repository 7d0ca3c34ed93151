"""The desk's pages: the list with its saved views and response-time badges, a conversation
with its reply box, saved replies and presence; who may do what."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from beffroi.audit.services import Actor
from beffroi.conversations import services, sla
from beffroi.conversations.models import Conversation, Reply, ResponseTargets, SavedReply

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


def _login(user: Any, language: str = "en") -> Client:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def conversation(org: Any, thread: Any) -> Conversation:
    thread.say(
        "alice", "Le lampadaire de la rue des Écoles est éteint <b>depuis</b>", thread.post()
    )
    services.attach_new_items(org)
    return Conversation.objects.get(organization=org)


def test_the_list_shows_states_badges_and_saved_views(
    org: Any, conversation: Conversation, member: Callable[..., Any]
) -> None:
    claire = member("claire")
    client = _login(claire)
    html = client.get(f"/o/{org.slug}/conversations/").content.decode()
    assert "@alice" in html and "Le lampadaire" in html
    assert "&lt;b&gt;depuis&lt;/b&gt;" in html  # the platform's text, escaped
    assert "Unassigned" in html and "Breaching" in html
    mine = client.get(f"/o/{org.slug}/conversations/?view=mine").content.decode()
    assert "@alice" not in mine
    services.assign(Actor(claire, "ui"), conversation, claire)
    mine = client.get(f"/o/{org.slug}/conversations/?view=mine").content.decode()
    assert "@alice" in mine
    french = _login(member("david"), "fr").get(f"/o/{org.slug}/conversations/").content.decode()
    assert "Non assignées" in french and "Nouvelle" in french


def test_replying_from_the_page_shows_sending_and_never_sends_twice(
    org: Any,
    conversation: Conversation,
    member: Callable[..., Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    claire = member("claire")
    client = _login(claire)
    url = f"/o/{org.slug}/conversations/{conversation.pk}/"
    page = client.get(url)
    key = page.context["reply_form"].initial["key"]
    body = {"text": "Bonjour Alice, c'est signalé.", "key": key}
    with django_capture_on_commit_callbacks(execute=False):
        first = client.post(url + "reply/", body)
        second = client.post(url + "reply/", body)
    assert first.status_code == second.status_code == 302
    assert Reply.objects.count() == 1
    html = client.get(url).content.decode()
    assert "Bonjour Alice, c&#x27;est signalé." in html and "Sending to Facebook" in html
    assert "Posted on" not in html


def test_a_viewer_reads_but_cannot_answer_and_another_organization_gets_404(
    org: Any,
    other_org: Any,
    conversation: Conversation,
    make_user: Callable[..., Any],
) -> None:
    viewer = _login(make_user("vera", org=org, role="viewer"))
    url = f"/o/{org.slug}/conversations/{conversation.pk}/"
    html = viewer.get(url).content.decode()
    assert "Le lampadaire" in html and f"{url}reply/" not in html and f"{url}state/" not in html
    assert viewer.post(url + "reply/", {"text": "x", "key": "k"}).status_code == 403
    assert viewer.post(url + "state/", {"state": "closed"}).status_code == 403
    outsider = _login(make_user("otto", org=other_org, role="admin"))
    assert outsider.get(url).status_code == 404
    assert outsider.get(f"/o/{other_org.slug}/conversations/{conversation.pk}/").status_code == 404


def test_two_people_on_one_conversation_see_each_other(
    org: Any, conversation: Conversation, member: Callable[..., Any]
) -> None:
    claire, david = _login(member("claire")), _login(member("david"))
    url = f"/o/{org.slug}/conversations/{conversation.pk}/"
    response = claire.post(url + "presence/", {"activity": "replying"})
    assert response.status_code == 200
    html = david.get(url).content.decode()  # reading the page writes nothing
    assert "claire is replying" in html
    assert "david" not in claire.post(url + "presence/").content.decode()
    david.post(url + "presence/", {"activity": "viewing"})  # the page's heartbeat
    assert "david is looking at it" in claire.post(url + "presence/").content.decode()
    assert claire.post(url + "presence/", {"activity": "sleeping"}).status_code == 400


def test_a_saved_reply_opens_in_the_reply_box_filled(
    org: Any, conversation: Conversation, member: Callable[..., Any]
) -> None:
    client = _login(member("claire"))
    created = client.post(
        f"/o/{org.slug}/conversations/saved-replies/new/",
        {"name": "Lampadaire", "language": "fr", "text": "Bonjour {prénom}, c'est noté."},
    )
    assert created.status_code == 302
    refused = client.post(
        f"/o/{org.slug}/conversations/saved-replies/new/",
        {"name": "AR", "language": "fr", "text": "Reçu.", "acknowledgement": "on"},
    )
    assert (
        refused.status_code == 200 and "acknowledgement of receipt must" in refused.content.decode()
    )
    assert SavedReply.objects.count() == 1
    client.post(
        f"/o/{org.slug}/conversations/saved-replies/new/",
        {"name": "Délai", "language": "fr", "text": "Réponse sous {délai}."},
    )
    client.post(
        f"/o/{org.slug}/conversations/saved-replies/new/",
        {"name": "Delay", "language": "en", "text": "Answer within {délai}."},
    )
    html = client.get(f"/o/{org.slug}/conversations/{conversation.pk}/").content.decode()
    assert 'data-text="Bonjour Alice, c&#x27;est noté."' in html
    # {délai}: the resolution target (40 business hours, 8 a day) in the reply's language.
    assert 'data-text="Réponse sous 5 jours ouvrés."' in html
    assert 'data-text="Answer within 5 business days."' in html


def test_response_time_badges_count_business_hours(org: Any, thread: Any) -> None:
    ResponseTargets.objects.create(organization=org, first_response_hours=2)
    # Friday 16:30 in Paris: due Monday 10:30 (two business hours, 9:00-17:00).
    friday = datetime(2026, 12, 4, 16, 30, tzinfo=PARIS)
    thread.item(thread._author("alice"), "Bonjour ?", "comment", thread.post(), at=friday)
    services.attach_new_items(org)
    conversation = Conversation.objects.get(organization=org)
    saturday = datetime(2026, 12, 5, 12, 0, tzinfo=PARIS)
    clock = sla.clock(conversation, now=saturday)
    assert clock is not None and clock.target == "first"
    assert clock.deadline == datetime(2026, 12, 7, 10, 30, tzinfo=PARIS)
    assert clock.status == "on_time" and clock.elapsed == timedelta(minutes=30)
    monday = datetime(2026, 12, 7, 10, 15, tzinfo=PARIS)
    assert sla.clock(conversation, now=monday).status == "due_soon"  # type: ignore[union-attr]
    late = datetime(2026, 12, 7, 11, 0, tzinfo=PARIS)
    assert sla.clock(conversation, now=late).status == "breached"  # type: ignore[union-attr]
    # Waiting for the citizen: paused, and the pause moves the deadline.
    conversation.pauses = [[monday.isoformat(), None]]
    conversation.state = Conversation.State.WAITING
    conversation.save()
    paused = sla.clock(conversation, now=monday + timedelta(hours=3))
    assert paused is not None and paused.status == "paused" and paused.deadline is None
    # Resolved: no clock.
    conversation.state = Conversation.State.RESOLVED
    assert sla.clock(conversation, now=timezone.now()) is None


def test_the_response_time_report_page_and_its_csv(
    org: Any, thread: Any, member: Callable[..., Any], django_capture_on_commit_callbacks: Any
) -> None:
    import csv
    import io

    from beffroi.conversations import sending

    post = thread.post()
    thread.say("alice", "Quand passe la balayeuse ?", post)
    thread.say("bruno", "Le lampadaire est éteint", post)
    services.attach_new_items(org)
    first = Conversation.objects.get(organization=org, author__handle="alice")
    claire = member("claire")
    with django_capture_on_commit_callbacks(execute=False):
        reply = services.send_reply(Actor(claire, "ui"), first, "Mardi matin.", key="r1")
    sending.Reply.objects.filter(pk=reply.pk).update(state="sent")
    first.first_response_at = first.opened_at + timedelta(hours=1)
    first.save()
    client = _login(claire)
    url = f"/o/{org.slug}/conversations/response-times/"
    html = client.get(url).content.decode()
    assert "Conversations opened each week" in html and "By team" in html
    assert "<svg" in html  # the chart, and its numbers in the tables
    rows = list(
        csv.DictReader(
            io.StringIO(
                b"".join(client.get(url + "?format=csv").streaming_content)
                .decode()
                .lstrip("\ufeff")
            )
        )
    )
    overall = rows[0]
    assert overall["group"] == "overall" and overall["conversations"] == "2"
    assert overall["answered"] == "1"
    assert client.get(url + "?since=nonsense").status_code == 200  # the default period


def test_the_breaching_view_lists_only_those_past_their_target(
    org: Any, thread: Any, member: Callable[..., Any]
) -> None:
    post = thread.post()
    thread.item(
        thread._author("alice"),
        "Toujours pas de réponse",
        "comment",
        post,
        at=timezone.now() - timedelta(days=20),
    )
    thread.item(thread._author("bruno"), "Question du jour", "comment", post, at=timezone.now())
    services.attach_new_items(org)
    client = _login(member("claire"))
    page = client.get(f"/o/{org.slug}/conversations/?view=breaching")
    shown = [c.author.handle for c in page.context["page_obj"].object_list]
    assert shown == ["alice"]
    html = page.content.decode()
    assert "@alice" in html and "@bruno" not in html and "Breached" in html
    counts = client.get(f"/o/{org.slug}/conversations/").context["counts"]
    assert counts == {"mine": 0, "team": 0, "unassigned": 2, "open": 2}
    # A team of three: its conversation is counted once in every view.
    from beffroi.conversations.models import Team

    voirie = Team.objects.create(organization=org, slug="voirie", name="Voirie")
    voirie.members.add(*[member(name) for name in ("xavier", "yves", "zoe")])
    Conversation.objects.filter(author__handle="alice").update(team=voirie)
    counts = client.get(f"/o/{org.slug}/conversations/").context["counts"]
    assert counts == {"mine": 0, "team": 0, "unassigned": 2, "open": 2}
    xavier = _login(Team.objects.get(pk=voirie.pk).members.get(username="xavier"))
    assert xavier.get(f"/o/{org.slug}/conversations/").context["counts"]["team"] == 1
