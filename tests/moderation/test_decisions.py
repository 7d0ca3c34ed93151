"""A person's decisions: evidence first, cases closed, undo, appeals before another person,
assignment so two moderators never get the same case, and the audit trail of each."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from beffroi.audit.models import AuditEvent
from beffroi.audit.services import Actor
from beffroi.items.models import Author, Item
from beffroi.moderation import services
from beffroi.moderation.models import Appeal, Case, Decision, Evidence
from beffroi.moderation.services import ModerationError


@pytest.fixture
def charter(org: Any) -> Any:
    from beffroi.charter.services import ensure_default_charter

    return ensure_default_charter(org)


@pytest.fixture
def people(org: Any, make_user: Any) -> dict[str, Actor]:
    return {
        name: Actor(make_user(name, org=org, role=role), "ui")
        for name, role in (("alice", "moderator"), ("bruno", "moderator"), ("chef", "admin"))
    }


def _item(org: Any, source: Any, n: int, text: str = "un commentaire") -> Item:
    author, _ = Author.objects.get_or_create(
        organization=org, platform="file", platform_id="a1", defaults={"handle": "a1"}
    )
    return Item.objects.create(
        organization=org,
        source=source,
        platform="file",
        platform_id=str(n),
        kind="comment",
        author=author,
        text=text,
        created_at=timezone.now(),
        state=Item.State.IN_REVIEW,
    )


def _queued(org: Any, source: Any, n: int, category: str = "insult") -> Item:
    item = _item(org, source, n)
    proposal = Decision.objects.create(
        organization=org,
        item=item,
        action="queue",
        status="proposed",
        automated=True,
        category=category,
        score=0.7,
        detectors={"rules": "v1"},
    )
    Case.objects.create(organization=org, item=item, decision=proposal, category=category)
    return item


@pytest.mark.django_db
def test_hide_preserves_evidence_first_and_confirms_the_proposal(
    org: Any, source: Any, charter: Any, people: dict[str, Actor]
) -> None:
    item = _queued(org, source, 1)
    decision = services.decide(people["alice"], item, "hide", note="Insulte")
    item.refresh_from_db()
    # Decided and settled, but not hidden before the platform has hidden it.
    assert item.visibility == Item.Visibility.VISIBLE and item.state == Item.State.DONE
    assert decision.platform_effect == Decision.PlatformEffect.PENDING
    assert decision.evidence is not None and len(decision.evidence.sha256) == 64
    assert decision.evidence.bundle["item"]["text"] == item.text
    assert decision.confirmed_by == people["alice"].user and not decision.automated
    assert decision.category == "insult" and decision.clause  # the charter's clause is cited
    assert decision.charter_version == charter.number
    assert Decision.objects.get(item=item, action="queue").status == "superseded"
    assert not services.open_cases(org).filter(item=item).exists()
    event = AuditEvent.objects.get(action="moderation.hide")
    assert event.before["visibility"] == "visible" and event.after["visibility"] == "visible"
    # File imports have no platform: the action is recorded as not supported, not lost.
    from beffroi.jobs.engine import run_pending

    run_pending()
    decision.refresh_from_db()
    item.refresh_from_db()
    assert decision.platform_status == Decision.PlatformStatus.UNSUPPORTED
    assert item.visibility == Item.Visibility.VISIBLE  # still there: nothing hid it


@pytest.mark.django_db
def test_evidence_is_kept_even_when_the_platform_refuses(
    org: Any, charter: Any, people: dict[str, Actor]
) -> None:
    from beffroi.jobs.engine import run_pending
    from beffroi.sources.models import Source

    # A Mastodon source whose server cannot be reached: the action fails, the evidence stays.
    unreachable = Source(
        organization=org,
        name="Mastodon",
        platform="mastodon",
        settings={"base_url": "http://127.0.0.1:9"},
    )
    unreachable.set_credentials({"access_token": "x"})
    unreachable.save()
    item = _item(org, unreachable, 1)
    decision = services.decide(people["alice"], item, "delete")
    run_pending()
    decision.refresh_from_db()
    assert decision.platform_status in (
        Decision.PlatformStatus.PENDING,
        Decision.PlatformStatus.FAILED,
        Decision.PlatformStatus.UNSUPPORTED,
    )
    assert decision.platform_status != Decision.PlatformStatus.DONE
    assert Evidence.objects.filter(item=item).count() == 1
    assert decision.evidence is not None and decision.evidence.item_id == item.pk


@pytest.mark.django_db
def test_undo_restores_the_item_and_reopens_a_keep(
    org: Any, source: Any, charter: Any, people: dict[str, Actor]
) -> None:
    hidden = _queued(org, source, 1)
    decision = services.decide(people["alice"], hidden, "hide")
    assert services.last_undoable(people["alice"], org) == decision
    reversal = services.undo(people["alice"], decision)
    hidden.refresh_from_db()
    decision.refresh_from_db()
    assert hidden.visibility == Item.Visibility.VISIBLE
    assert decision.status == Decision.Status.UNDONE
    assert reversal.action == Decision.Action.UNHIDE and reversal.reverses == decision
    with pytest.raises(ModerationError):
        services.undo(people["alice"], decision)

    kept = _queued(org, source, 2)
    keep = services.decide(people["alice"], kept, "keep")
    assert not services.open_cases(org).filter(item=kept).exists()
    services.undo(people["alice"], keep)
    assert services.open_cases(org).filter(item=kept).exists()
    assert AuditEvent.objects.filter(action="moderation.undo").count() == 2


@pytest.mark.django_db
def test_only_what_a_person_decided_and_may_undo_is_undone(
    org: Any, source: Any, charter: Any, people: dict[str, Actor]
) -> None:
    # One rule (Decision.undoable) for the undo key, the buttons and the service: an
    # automatic hide is contested by appeal, a reply cannot be taken back by "undo".
    automatic = Decision.objects.create(
        organization=org,
        item=_item(org, source, 1),
        action="hide",
        status="applied",
        automated=True,
        category="spam",
    )
    reply = Decision.objects.create(
        organization=org,
        item=_item(org, source, 2),
        action="reply",
        status="applied",
        actor=people["alice"].user,
        reply_text="Merci",
    )
    for decision in (automatic, reply):
        assert not decision.undoable
        with pytest.raises(ModerationError):
            services.undo(people["alice"], decision)
        decision.refresh_from_db()
        assert decision.status == Decision.Status.APPLIED
    assert services.last_undoable(people["alice"], org) is None
    assert not Decision.objects.filter(reverses__in=[automatic, reply]).exists()
    # An appeal still reverses an automatic hide.
    appeal = services.file_appeal(people["chef"], automatic, "Ce n'était pas une publicité.")
    services.decide_appeal(people["bruno"], appeal, Appeal.Outcome.REVERSED, "Erreur.")
    automatic.refresh_from_db()
    assert automatic.status == Decision.Status.OVERTURNED


@pytest.mark.django_db
def test_escalation_opens_a_priority_case(
    org: Any, source: Any, charter: Any, people: dict[str, Actor]
) -> None:
    item = _queued(org, source, 1)
    services.decide(people["alice"], item, "escalate", note="Avis juridique")
    cases = services.open_cases(org).filter(item=item)
    assert [case.kind for case in cases] == [Case.Kind.ESCALATION]
    assert cases[0].priority == 5


@pytest.mark.django_db
def test_reply_needs_a_text_and_unknown_actions_are_refused(
    org: Any, source: Any, charter: Any, people: dict[str, Actor]
) -> None:
    item = _queued(org, source, 1)
    with pytest.raises(ModerationError):
        services.decide(people["alice"], item, "reply")
    with pytest.raises(ModerationError):
        services.decide(people["alice"], item, "ban")


@pytest.mark.django_db
def test_appeal_goes_to_someone_else_and_can_reverse(
    org: Any, source: Any, charter: Any, people: dict[str, Actor]
) -> None:
    item = _queued(org, source, 1)
    decision = services.decide(people["alice"], item, "hide")
    with pytest.raises(ModerationError):
        services.file_appeal(people["chef"], decision, "  ")
    appeal = services.file_appeal(
        people["chef"], decision, "Je ne faisais que citer le maire.", received_via="courriel"
    )
    case = Case.objects.get(appeal=appeal)
    assert case.kind == Case.Kind.APPEAL and case.excluded_user == people["alice"].user
    # One appeal waits at a time: a second one would never reach a moderator.
    assert not decision.appealable
    with pytest.raises(ModerationError, match=r"already waits|attend déjà"):
        services.file_appeal(people["chef"], decision, "Je le redis.")
    assert Appeal.objects.filter(decision=decision).count() == 1
    # Alice decided: she may neither take nor judge the appeal.
    assert services.next_case(people["alice"], org, services.open_cases(org)) is None
    with pytest.raises(ModerationError):
        services.decide_appeal(people["alice"], appeal, Appeal.Outcome.REVERSED, "ok")
    assert services.next_case(people["bruno"], org, services.open_cases(org)) == case
    services.decide_appeal(people["bruno"], appeal, Appeal.Outcome.REVERSED, "Citation.")
    appeal.refresh_from_db()
    decision.refresh_from_db()
    item.refresh_from_db()
    assert appeal.outcome == Appeal.Outcome.REVERSED and appeal.decided_by == people["bruno"].user
    assert decision.status == Decision.Status.OVERTURNED
    assert item.visibility == Item.Visibility.VISIBLE
    assert not services.open_cases(org).filter(item=item).exists()
    with pytest.raises(ModerationError):
        services.decide_appeal(people["chef"], appeal, Appeal.Outcome.UPHELD, "non")


@pytest.mark.django_db
def test_two_moderators_never_get_the_same_case(
    org: Any, source: Any, charter: Any, people: dict[str, Actor]
) -> None:
    for n in range(3):
        _queued(org, source, n)
    alice = services.next_case(people["alice"], org, services.open_cases(org))
    bruno = services.next_case(people["bruno"], org, services.open_cases(org))
    assert alice is not None and bruno is not None and alice.pk != bruno.pk
    assert not services.claim_case(people["bruno"], alice)
    # Asking again gives Alice her own case back, not a third one.
    assert services.next_case(people["alice"], org, services.open_cases(org)) == alice
    # An assignment left untouched for too long can be taken over.
    Case.objects.filter(pk=alice.pk).update(
        assigned_at=timezone.now() - services.ASSIGNMENT_TIMEOUT * 2
    )
    assert services.claim_case(people["bruno"], alice)
    services.release_case(people["bruno"], alice)
    alice.refresh_from_db()
    assert alice.state == Case.State.OPEN and alice.assignee is None


@pytest.mark.django_db
def test_bulk_decisions_are_recorded_one_by_one(
    org: Any, source: Any, charter: Any, people: dict[str, Actor]
) -> None:
    items = [_queued(org, source, n) for n in range(4)]
    decisions = services.decide_many(people["alice"], items, "hide", note="spam")
    assert len(decisions) == 4 and Evidence.objects.count() == 4
    assert AuditEvent.objects.filter(action="moderation.hide").count() == 4
