"""Assignment: two moderators never get the same case, a forgotten assignment can be taken
over, an appeal never goes to the person who decided, and "next case" follows the queue's
filters."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from beffroi.audit.services import Actor
from beffroi.moderation import services
from beffroi.moderation.models import Case
from beffroi.moderation.services import ASSIGNMENT_TIMEOUT, claim_case, next_case
from tests.moderation.test_views import SLUG, case_url, login, make_case

pytestmark = pytest.mark.django_db

NEXT = f"/o/{SLUG}/moderation/queue/next/"


@pytest.fixture
def charter(org: Any) -> Any:
    from beffroi.charter.services import ensure_default_charter

    return ensure_default_charter(org)


@pytest.fixture
def moderators(org: Any, make_user: Any) -> dict[str, Actor]:
    return {
        name: Actor(make_user(name, org=org, role="moderator"), "ui")
        for name in ("alice", "bruno", "chloe")
    }


def test_next_case_never_gives_the_same_case_twice(
    org: Any, source: Any, moderators: dict[str, Actor]
) -> None:
    cases = [make_case(org, source, n, priority=n % 3) for n in range(1, 8)]
    taken: dict[str, list[int]] = {name: [] for name in moderators}
    names = list(moderators)
    turn = 0
    # The moderators take turns until the queue is dry. Each first asks twice (the case they
    # hold comes back, it is not handed to anyone else) and then settles it.
    while True:
        name = names[turn % len(names)]
        case = next_case(moderators[name], org, services.open_cases(org))
        if case is None:
            break
        again = next_case(moderators[name], org, services.open_cases(org))
        assert again is not None and again.pk == case.pk
        taken[name].append(case.pk)
        Case.objects.filter(pk=case.pk).update(state=Case.State.CLOSED)
        turn += 1
        assert turn <= len(cases), "a case was handed out twice"
    everyone = [pk for pks in taken.values() for pk in pks]
    assert sorted(everyone) == sorted(c.pk for c in cases)  # each case once, none lost
    assert len(everyone) == len(set(everyone))
    for name, pks in taken.items():
        assert set(
            Case.objects.filter(pk__in=pks).values_list("assignee__username", flat=True)
        ) <= {name}


def test_a_claim_lost_to_a_race_is_refused(
    org: Any, source: Any, moderators: dict[str, Actor]
) -> None:
    case = make_case(org, source, 1)
    # Both saw the case open; Alice's conditional update wins, Bruno's changes nothing.
    seen_by_bruno = Case.objects.get(pk=case.pk)
    assert claim_case(moderators["alice"], case)
    assert not claim_case(moderators["bruno"], seen_by_bruno)
    case.refresh_from_db()
    assert case.assignee == moderators["alice"].user
    # And Bruno's next case skips it.
    assert next_case(moderators["bruno"], org, services.open_cases(org)) is None


def test_two_moderators_pressing_next_get_different_cases(
    org: Any, source: Any, charter: Any, moderators: dict[str, Actor]
) -> None:
    first, second = make_case(org, source, 1, priority=5), make_case(org, source, 2)
    alice, bruno = login(moderators["alice"].user), login(moderators["bruno"].user)
    assert alice.post(NEXT)["Location"] == case_url(first)
    assert bruno.post(NEXT)["Location"] == case_url(second)
    assert bruno.post(NEXT)["Location"] == case_url(second)  # still his
    chloe = login(moderators["chloe"].user)
    response = chloe.post(NEXT)
    assert response["Location"] == f"/o/{SLUG}/moderation/queue/"
    assert "No more cases for you in the queue." in chloe.get(response["Location"]).content.decode()


def test_a_stale_assignment_can_be_taken_over(
    org: Any, source: Any, charter: Any, moderators: dict[str, Actor]
) -> None:
    case = make_case(org, source, 1)
    assert claim_case(moderators["alice"], case)
    bruno = login(moderators["bruno"].user)
    # Within the timeout, the case is Alice's.
    page = bruno.get(case_url(case))
    assert page.context["held_by"] == moderators["alice"].user and not page.context["can_act"]
    queue = bruno.get(f"/o/{SLUG}/moderation/queue/")
    assert [row["held"] for row in queue.context["rows"]] == [True]
    # Bruno cannot take it (the lock holds).
    response = bruno.post(case_url(case, "take/"))
    case.refresh_from_db()
    assert case.assignee == moderators["alice"].user
    # Alice left for lunch: past the timeout, the lock has expired; opening the case still
    # takes nothing, Take does.
    Case.objects.filter(pk=case.pk).update(
        assigned_at=timezone.now() - ASSIGNMENT_TIMEOUT - timezone.timedelta(minutes=1)
    )
    assert [row["held"] for row in bruno.get(f"/o/{SLUG}/moderation/queue/").context["rows"]] == [
        False
    ]
    page = bruno.get(case_url(case))
    assert page.context["can_act"] and page.context["can_take"]
    case.refresh_from_db()
    assert case.assignee == moderators["alice"].user  # not taken by looking
    assert bruno.post(case_url(case, "take/")).status_code == 302
    case.refresh_from_db()
    assert case.assignee == moderators["bruno"].user
    response = bruno.post(case_url(case, "decide/"), {"action": "keep"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == "closed"


def test_an_appeal_never_goes_to_the_person_who_decided(
    org: Any, source: Any, charter: Any, moderators: dict[str, Actor]
) -> None:
    case = make_case(org, source, 1)
    decision = services.decide(moderators["alice"], case.item, "hide")
    services.file_appeal(moderators["alice"], decision, "Ce n'était pas une insulte.")
    appeal_case = Case.objects.get(kind="appeal")
    assert next_case(moderators["alice"], org, services.open_cases(org)) is None
    assert not claim_case(moderators["alice"], appeal_case)
    assert next_case(moderators["bruno"], org, services.open_cases(org)) == appeal_case


def test_release_and_next_follows_the_queue_filters(
    org: Any, source: Any, charter: Any, moderators: dict[str, Actor]
) -> None:
    urgent = make_case(org, source, 1, category="insult", priority=9)
    threat = make_case(org, source, 2, category="threat", severity=4)
    alice: Client = login(moderators["alice"].user)
    alice.get(f"/o/{SLUG}/moderation/queue/", {"category": "threat"})
    assert alice.post(NEXT)["Location"] == case_url(threat)  # not the more urgent insult
    alice.post(case_url(threat, "release/"))
    threat.refresh_from_db()
    assert threat.state == "open" and threat.assignee is None
    alice.get(f"/o/{SLUG}/moderation/queue/")  # no filter any more
    assert alice.post(NEXT)["Location"] == case_url(urgent)


def test_the_lock_runs_thirty_minutes_from_the_holders_last_activity() -> None:
    assert ASSIGNMENT_TIMEOUT == timezone.timedelta(minutes=30)  # as docs/moderation.md says


def test_the_holder_opening_the_case_renews_the_lock(
    org: Any, source: Any, charter: Any, moderators: dict[str, Actor]
) -> None:
    case = make_case(org, source, 1)
    assert claim_case(moderators["alice"], case)
    almost = timezone.now() - ASSIGNMENT_TIMEOUT + timezone.timedelta(minutes=1)
    Case.objects.filter(pk=case.pk).update(assigned_at=almost)
    page = login(moderators["alice"].user).get(case_url(case))
    assert page.context["held_by_me"] and not page.context["can_take"]
    case.refresh_from_db()
    assert case.assigned_at > almost + timezone.timedelta(minutes=20)
    # Someone else opening it changes nothing.
    Case.objects.filter(pk=case.pk).update(assigned_at=almost)
    login(moderators["bruno"].user).get(case_url(case))
    case.refresh_from_db()
    assert case.assigned_at == almost


def test_take_is_explicit_and_a_moderator_cannot_take_over(
    org: Any, source: Any, charter: Any, moderators: dict[str, Actor]
) -> None:
    case = make_case(org, source, 1)
    alice, bruno = login(moderators["alice"].user), login(moderators["bruno"].user)
    html = alice.get(case_url(case)).content.decode()
    assert f"/moderation/cases/{case.pk}/take/" in html and 'data-key="t"' in html
    alice.post(case_url(case, "take/"))
    case.refresh_from_db()
    assert case.state == "assigned" and case.assignee == moderators["alice"].user
    # Bruno, a moderator, sees who holds it and cannot take it over (403 if he tries).
    page = bruno.get(case_url(case))
    assert not page.context["can_take"] and not page.context["can_take_over"]
    assert "take-over/" not in page.content.decode()
    assert bruno.post(case_url(case, "take-over/")).status_code == 403
    response = bruno.post(case_url(case, "take/"), follow=True)
    assert any("alice has taken this case" in str(m) for m in response.context["messages"])


def test_an_administrator_takes_over_and_it_is_audited(
    org: Any, source: Any, charter: Any, moderators: dict[str, Actor], make_user: Any
) -> None:
    from beffroi.audit.models import AuditEvent

    case = make_case(org, source, 1)
    assert claim_case(moderators["alice"], case)
    chef = login(make_user("chef", org=org, role="admin"))
    page = chef.get(case_url(case))
    assert page.context["held_by"] == moderators["alice"].user and page.context["can_take_over"]
    assert f"/moderation/cases/{case.pk}/take-over/" in page.content.decode()
    response = chef.post(case_url(case, "take-over/"))
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.assignee == chef.user  # type: ignore[attr-defined]
    event = AuditEvent.objects.get(action="moderation.case.taken_over")
    assert event.before["assignee"] == "alice" and event.after["assignee"] == "chef"
    # Alice's next decision on it is refused: it is the administrator's now.
    with pytest.raises(services.ModerationError, match="chef has taken this case"):
        services.decide_case(moderators["alice"], case, "keep")


# --- escalation -------------------------------------------------------------------------------


@pytest.fixture
def chef(org: Any, make_user: Any) -> Actor:
    return Actor(make_user("chef", org=org, role="admin", email="chef@ville.test"), "ui")


def test_escalating_to_oneself_is_refused(
    org: Any, source: Any, charter: Any, moderators: dict[str, Actor], chef: Actor
) -> None:
    case = make_case(org, source, 1)
    alice = moderators["alice"]
    with pytest.raises(services.ModerationError, match="cannot escalate a case to yourself"):
        services.escalate_case(alice, case, to=alice.user)
    # Through the page: the same sentence, and nothing escalated.
    client = login(alice.user)
    response = client.post(
        case_url(case, "decide/"),
        {"action": "escalate", "escalate_to": str(alice.user.pk)},
        follow=True,
    )
    assert any("cannot escalate a case to yourself" in str(m) for m in response.context["messages"])
    assert not Case.objects.filter(kind="escalation").exists()
    # The only administrator cannot send it "to the administrators": that is themselves.
    with pytest.raises(services.ModerationError, match="no other administrator"):
        services.escalate_case(chef, case)


def test_escalation_to_a_member_is_theirs_and_they_are_told(
    org: Any,
    source: Any,
    charter: Any,
    moderators: dict[str, Actor],
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from beffroi.jobs.models import Job

    settings.BEFFROI_SMTP = {**settings.BEFFROI_SMTP, "host": "smtp.ville.test"}
    bruno = moderators["bruno"]
    bruno.user.email = "bruno@ville.test"
    bruno.user.save()
    case = make_case(org, source, 1)
    client = login(moderators["alice"].user)
    page = client.get(case_url(case))
    options = page.content.decode()
    assert f'<option value="{bruno.user.pk}">' in options
    assert f'<option value="{moderators["alice"].user.pk}">' not in options  # not oneself
    response = client.post(
        case_url(case, "decide/"),
        {"action": "escalate", "escalate_to": str(bruno.user.pk), "note": "Menace ?"},
    )
    assert response.status_code == 302
    escalation = Case.objects.get(kind="escalation")
    assert escalation.escalated_to == bruno.user and escalation.state == "open"
    assert escalation.excluded_user == moderators["alice"].user
    # Never back to Alice, not to Chloé; Bruno's next case is this one.
    assert next_case(moderators["alice"], org, services.open_cases(org)) is None
    assert next_case(moderators["chloe"], org, services.open_cases(org)) is None
    assert not claim_case(moderators["chloe"], escalation)
    # Bruno's queue tells him; Alice's does not.
    queue = f"/o/{SLUG}/moderation/queue/"
    page = login(bruno.user).get(queue)
    assert page.context["escalated_to_me"] == 1
    assert "1 escalated case waits for you." in page.content.decode()
    assert client.get(queue).context["escalated_to_me"] == 0
    assert next_case(bruno, org, services.open_cases(org)) == escalation
    # Bruno is told by e-mail (a job, sent through the relay).
    job = Job.objects.get(name=services.ESCALATION_EMAIL_TASK)
    assert job.payload["case_id"] == escalation.pk
    sent: list[tuple[Any, list[str]]] = []
    monkeypatch.setattr(
        "beffroi.core.mail.send_by_relay", lambda message, to: sent.append((message, list(to)))
    )
    from beffroi.moderation import tasks

    assert tasks.email_escalation(**job.payload)["sent"]
    message, to = sent[0]
    assert to == ["bruno@ville.test"] and f"/cases/{escalation.pk}/" in message.url
    assert "alice" in message.title and "Menace ?" in message.plain()


def test_escalation_to_the_administrators_is_for_them_only(
    org: Any, source: Any, charter: Any, moderators: dict[str, Actor], chef: Actor
) -> None:
    case = make_case(org, source, 1)
    decision = services.escalate_case(moderators["alice"], case, note="Diffamation ?")
    assert decision.action == "escalate"
    escalation = Case.objects.get(kind="escalation")
    assert escalation.escalated_to is None
    assert services.escalation_recipients(escalation) == [chef.user]
    assert next_case(moderators["bruno"], org, services.open_cases(org)) is None
    with pytest.raises(services.ModerationError, match="escalated to the administrators"):
        services.take_case(moderators["bruno"], escalation)
    page = login(moderators["bruno"].user).get(case_url(escalation))
    assert not page.context["can_act"]
    assert "escalated to the administrators" in page.content.decode()
    assert services.take_case(chef, escalation).assignee == chef.user


def test_skipping_a_case_one_only_looked_at_goes_to_another(
    org: Any, source: Any, charter: Any, moderators: dict[str, Actor]
) -> None:
    first, second = make_case(org, source, 1, priority=5), make_case(org, source, 2)
    alice = login(moderators["alice"].user)
    html = alice.get(case_url(first)).content.decode()  # looked at, not taken
    assert f'name="skip" value="{first.pk}"' in html
    assert alice.post(NEXT, {"skip": first.pk})["Location"] == case_url(second)
