"""The demo town's desk, `beffroi stats` of the desk, and the warning before a response
time is breached."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from beffroi.audit.services import Actor
from beffroi.conversations import services, tasks
from beffroi.conversations.models import (
    Conversation,
    Handoff,
    Reply,
    ResponseTargets,
    SavedReply,
    Team,
)
from beffroi.jobs.models import Job

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


def test_the_demo_town_has_a_desk_at_work(django_capture_on_commit_callbacks: Any) -> None:
    from beffroi.demo.desk import load_demo_desk
    from beffroi.demo.load import load_demo
    from beffroi.jobs.engine import run_pending
    from beffroi.overview.stats import organization_stats

    org = load_demo().organization
    with django_capture_on_commit_callbacks(execute=True):
        count = load_demo_desk(org)
    run_pending()
    conversations = Conversation.objects.filter(organization=org)
    assert count == conversations.count() >= 80
    assert Team.objects.filter(organization=org).count() == 12
    receipt = SavedReply.objects.get(organization=org, name="Accusé de réception")
    services.check_saved_reply(receipt.text, receipt.acknowledgement)  # what the law asks
    routed = conversations.exclude(team=None)
    assert routed.count() >= 30 and set(routed.values_list("team__slug", flat=True)) == {
        "voirie",
        "proprete",
        "etat-civil",
    }
    replies = Reply.objects.filter(organization=org)
    assert replies.exists() and set(replies.values_list("state", flat=True)) == {"simulated"}
    # One request handed off to the town's (demo) request system, simulated and said so.
    handed = Handoff.objects.get(organization=org)
    assert handed.state == "sent" and handed.system.demo and handed.external_id.startswith("DEMO")
    states = set(conversations.values_list("state", flat=True))
    assert {"new", "answered", "closed"} <= states
    # Loaded again: nothing added, nothing sent twice.
    assert load_demo_desk(org) == count and Reply.objects.count() == replies.count()
    stats = organization_stats(org)
    assert sum(stats["conversations_by_state"].values()) == count
    assert stats["requests"]["not_judged"] == count - stats["requests"]["total"]


def test_the_assignee_and_the_leads_are_warned_once_before_the_deadline(
    org: Any,
    thread: Any,
    member: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ResponseTargets.objects.create(organization=org, first_response_hours=2)
    claire, maire = member("claire"), member("maire", "admin")
    voirie = Team.objects.create(organization=org, slug="voirie", name="Voirie")
    voirie.leads.add(maire)
    # Written on Monday at 9:00; at 10:45, 1 h 45 of the 2 h are spent: due soon (80 %).
    asked_at = datetime(2026, 11, 30, 9, 0, tzinfo=PARIS)
    thread.item(thread._author("alice"), "Nid de poule", "comment", thread.post(), at=asked_at)
    services.attach_new_items(org)
    conversation = Conversation.objects.get(organization=org)
    services.assign(Actor(claire, "ui"), conversation, claire)
    services.set_team(Actor(claire, "ui"), conversation, voirie)
    monkeypatch.setattr(
        "django.utils.timezone.now", lambda: asked_at + timedelta(hours=1, minutes=45)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sla_watch() == 1
        assert tasks.sla_watch() == 0  # once per deadline
    job = Job.objects.get(name="conversations.sla_warning")
    sent: list[tuple[Any, list[str]]] = []
    monkeypatch.setattr("beffroi.core.mail.relay_configured", lambda: True)
    monkeypatch.setattr(
        "beffroi.core.mail.send_by_relay", lambda message, to: sent.append((message, list(to)))
    )
    assert tasks.sla_warning(**job.payload)["sent"]
    message, to = sent[0]
    assert to == ["claire@ville.example", "maire@ville.example"]
    assert f"/conversations/{conversation.pk}/" in message.url and "@alice" in message.title
