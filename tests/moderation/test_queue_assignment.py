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


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
    # Alice left for lunch: past the timeout, the case goes to whoever opens it.
    Case.objects.filter(pk=case.pk).update(
        assigned_at=timezone.now() - ASSIGNMENT_TIMEOUT - timezone.timedelta(minutes=1)
    )
    assert [row["held"] for row in bruno.get(f"/o/{SLUG}/moderation/queue/").context["rows"]] == [
        False
    ]
    page = bruno.get(case_url(case))
    assert page.context["can_act"]
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
