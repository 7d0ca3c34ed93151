"""Automatic judgement by the charter: hide at once, queue the doubtful, keep the rest,
shadow versions that only record, each item judged exactly once, and what the charter did
written to the audit trail with the charter as the actor."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from django.utils import timezone

from beffroi.audit.models import AuditEvent
from beffroi.audit.services import Actor
from beffroi.connectors.base import ItemKind, NormalizedAuthor, NormalizedItem
from beffroi.items.ingest import ingest
from beffroi.items.models import Item
from beffroi.jobs.engine import run_pending
from beffroi.moderation import services
from beffroi.moderation.detectors import forget
from beffroi.moderation.models import Case, Decision, Evidence

# Invented words, so only the organization's own rules (not the shipped lists or the
# classifier) can make these texts violate the charter.
THREAT = "zorglub attaque la mairie"
DOUBT = "quel bidulon ce conseil"
FINE = "La piscine rouvre lundi à 9 h ?"


@pytest.fixture
def charter(org: Any) -> Any:
    from beffroi.charter import services as charter_services

    actor = Actor.system("test")
    charter_services.ensure_default_charter(org)
    draft = charter_services.create_draft(actor, org)
    charter_services.save_rule(
        actor,
        draft,
        category="threat",
        language="fr",
        kind="phrase",
        pattern="zorglub attaque",
        weight=1.0,
    )
    charter_services.save_rule(
        actor,
        draft,
        category="insult",
        language="fr",
        kind="keyword",
        pattern="bidulon",
        weight=0.7,
    )
    forget()
    return charter_services.publish(actor, draft)


def _items(texts: list[str], start: int = 0) -> list[NormalizedItem]:
    author = NormalizedAuthor(platform_id="u1", handle="citoyen")
    return [
        NormalizedItem(
            platform_id=f"c{start + n}",
            kind=ItemKind.COMMENT,
            author=author,
            text=text,
            created_at=timezone.now(),
            language="fr",
        )
        for n, text in enumerate(texts)
    ]


def _by_text(source: Any, text: str) -> Item:
    return Item.objects.get(source=source, text=text)


@pytest.mark.django_db(transaction=True)
def test_items_are_judged_as_soon_as_they_arrive(org: Any, source: Any, charter: Any) -> None:
    ingest(source, _items([THREAT, DOUBT, FINE]))
    run_pending()  # the job that ingestion asked for
    threat, doubt, fine = (_by_text(source, t) for t in (THREAT, DOUBT, FINE))

    # A file import has no platform to hide it on: decided, but still visible (the truth).
    assert threat.visibility == Item.Visibility.VISIBLE
    hide = Decision.objects.get(item=threat, action="hide")
    assert hide.automated and hide.status == "applied" and hide.category == "threat"
    assert hide.evidence is not None and hide.evidence.bundle["item"]["text"] == THREAT
    assert hide.charter_version == charter.number and hide.clause
    assert any("zorglub attaque" in line for line in hide.explanation)
    assert "rules" in hide.detectors and "classifier" in hide.detectors
    assert hide.platform_status == Decision.PlatformStatus.UNSUPPORTED  # a file: no platform

    assert doubt.state == Item.State.IN_REVIEW and doubt.visibility == Item.Visibility.VISIBLE
    case = Case.objects.get(item=doubt)
    assert case.category == "insult" and case.decision.status == "proposed"

    assert fine.state == Item.State.PROCESSED and fine.visibility == Item.Visibility.VISIBLE
    assert fine.analysis["verdict"] == "keep" and not fine.decisions.exists()
    assert fine.analysis["charter_version"] == charter.number


def _charter_events() -> Any:
    """The audit events of decisions the charter took by itself."""
    return AuditEvent.objects.filter(channel=AuditEvent.Channel.SYSTEM, actor_label="charter")


@pytest.mark.django_db
@pytest.mark.parametrize("auto_delete", [False, True], ids=["hide", "delete"])
def test_automatic_decisions_are_audited_as_the_charter(
    org: Any, source: Any, charter: Any, auto_delete: bool
) -> None:
    charter.categories.filter(slug="threat").update(auto_delete=auto_delete)
    ingest(source, _items([THREAT, DOUBT, FINE]))
    services.moderate_pending(org)
    threat, doubt = _by_text(source, THREAT), _by_text(source, DOUBT)
    restriction = Decision.objects.get(item=threat, automated=True)
    proposal = Decision.objects.get(item=doubt, action="queue")
    events = {event.action: event for event in _charter_events()}
    assert set(events) == {f"moderation.{restriction.action}", "moderation.queue"}
    assert restriction.action == ("delete" if auto_delete else "hide")

    removed = events[f"moderation.{restriction.action}"]
    assert removed.actor is None and removed.organization == org
    assert removed.object_type == "moderation.decision"
    assert removed.object_id == str(restriction.pk)
    assert removed.before == {"visibility": "visible", "state": "new"}
    # Requested, not done: the item changes only when the platform answers.
    assert removed.after["visibility"] == "visible"
    assert removed.after["decision"] == restriction.pk
    assert removed.after["category"] == "threat" and removed.after["score"] == restriction.score
    assert removed.after["charter_version"] == charter.number

    queued = events["moderation.queue"]
    assert queued.object_id == str(proposal.pk) and queued.after["state"] == "in_review"
    assert queued.after["category"] == "insult"
    # A comment simply kept has no decision, and no event (most comments are kept).
    assert _charter_events().count() == 2


@pytest.mark.django_db
def test_each_item_is_judged_once(org: Any, source: Any, charter: Any) -> None:
    ingest(source, _items([THREAT, DOUBT]))
    items = list(Item.objects.filter(source=source))
    first = services.moderate_items(items)
    second = services.moderate_items(items)  # e.g. a second worker with the same batch
    assert first.judged == 2 and second.judged == 0
    assert Decision.objects.count() == 2 and Case.objects.count() == 1
    assert Evidence.objects.count() == 1


@pytest.mark.django_db
def test_an_interrupted_run_leaves_the_rest_for_the_next(
    org: Any, source: Any, charter: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest(source, _items([THREAT, DOUBT, FINE]))
    calls = {"n": 0}
    real = services._apply_judgement

    def crash_on_second(*args: Any) -> str:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return real(*args)

    monkeypatch.setattr(services, "_apply_judgement", crash_on_second)
    with pytest.raises(RuntimeError):
        services.moderate_pending(org)
    # The chunk's transaction is rolled back: nothing half-recorded, everything still new.
    assert Item.objects.filter(source=source, state=Item.State.NEW).count() == 3
    assert not Decision.objects.exists() and not Evidence.objects.exists()
    monkeypatch.setattr(services, "_apply_judgement", real)
    services.moderate_pending(org)
    assert not Item.objects.filter(source=source, state=Item.State.NEW).exists()
    assert Decision.objects.filter(action__in=["hide", "queue"]).count() == 2


@pytest.mark.django_db
def test_a_shadow_version_records_without_acting(org: Any, source: Any, charter: Any) -> None:
    from beffroi.charter import services as charter_services

    actor = Actor.system("test")
    draft = charter_services.create_draft(actor, org)
    charter_services.save_rule(
        actor,
        draft,
        category="spam",
        language="fr",
        kind="keyword",
        pattern="piscine",
        weight=1.0,
    )
    charter_services.start_shadow(actor, draft)
    forget()
    ingest(source, _items([FINE]))
    services.moderate_pending(org)
    fine = _by_text(source, FINE)
    assert fine.visibility == Item.Visibility.VISIBLE and fine.state == Item.State.PROCESSED
    shadow = Decision.objects.get(item=fine)
    assert shadow.status == "shadow" and shadow.action == "hide" and shadow.category == "spam"
    assert shadow.charter_version == draft.number
    assert not Evidence.objects.exists() and not Case.objects.exists()
    assert not _charter_events().exists()  # never acted on: nothing to audit


@pytest.mark.django_db
def test_a_category_in_shadow_mode_does_not_act(org: Any, source: Any, charter: Any) -> None:
    charter.categories.filter(slug="threat").update(shadow=True)
    ingest(source, _items([THREAT]))
    services.moderate_pending(org)
    threat = _by_text(source, THREAT)
    assert threat.visibility == Item.Visibility.VISIBLE
    assert Decision.objects.get(item=threat).status == "shadow"
    assert not Evidence.objects.exists()
    assert not _charter_events().exists()


@pytest.mark.django_db
def test_own_posts_are_not_judged_and_no_charter_means_no_judgement(org: Any, source: Any) -> None:
    post = _items([THREAT])[0]
    ingest(source, [dataclasses.replace(post, kind=ItemKind.POST, platform_id="p")])
    ingest(source, _items([THREAT]))
    services.moderate_pending(org)
    assert Item.objects.get(platform_id="p").state == Item.State.PROCESSED
    # Without a live charter nothing is decided: the comment waits for one.
    assert Item.objects.get(platform_id="c0").state == Item.State.NEW
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_items_of_an_organization_without_charter_do_not_stop_the_others(
    org: Any, source: Any, other_org: Any
) -> None:
    """The uncharted organization's items stay new; the batches go on past them (the job
    once looped on them forever) and the other organization's items are judged."""
    from beffroi.charter import services as charter_services
    from beffroi.charter.models import CharterVersion
    from beffroi.sources.models import Source

    assert not CharterVersion.objects.filter(organization=org).exists()
    ingest(source, _items([f"Bonjour {n}" for n in range(5)]))
    charter_services.ensure_default_charter(other_org)
    other_source = Source.objects.create(organization=other_org, name="autre", platform="file")
    ingest(other_source, _items(["Merci pour la piscine"], start=100))
    assert services.moderate_all_pending(batch_size=2) == 6
    assert Item.objects.filter(organization=org, state=Item.State.NEW).count() == 5
    assert not Item.objects.filter(organization=other_org, state=Item.State.NEW).exists()


@pytest.mark.django_db
def test_a_new_organization_starts_with_the_default_charter_live() -> None:
    from beffroi.charter.models import CharterVersion
    from beffroi.organizations.services import create_organization

    created = create_organization(Actor.system("test"), slug="ville-neuve", name="Ville neuve")
    live = CharterVersion.objects.get(organization=created, status="live")
    assert live.categories.filter(slug="hate").exists()


@pytest.mark.django_db
def test_a_judgement_asked_while_one_runs_queues_one_more(
    org: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An item arriving while the organization's judging job runs is not left to the
    stragglers' sweep: one more job (at most one) is queued behind the running one."""
    from beffroi.jobs.models import Job
    from beffroi.moderation.queue import request_judgement

    monkeypatch.setenv("BEFFROI_JUDGING_JOBS", "1")
    request_judgement(org)
    running = Job.objects.get(dedupe_key=f"moderation.judge:{org.pk}")
    Job.objects.filter(pk=running.pk).update(state=Job.State.RUNNING)
    request_judgement(org)
    request_judgement(org)
    names = list(Job.objects.filter(name="moderation.judge").values_list("dedupe_key", "state"))
    assert sorted(names) == [
        (f"moderation.judge:{org.pk}", "running"),
        (f"moderation.judge:{org.pk}:next", "pending"),
    ]


@pytest.mark.django_db
def test_judging_jobs_per_organization_follow_what_the_database_can(
    org: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: as many pending jobs as ``BEFFROI_JUDGING_JOBS`` (workers judge side by
    side); SQLite, which cannot skip locked rows: one, whatever the setting."""
    from django.db import connection

    from beffroi.jobs.models import Job
    from beffroi.moderation.queue import request_judgement

    monkeypatch.setenv("BEFFROI_JUDGING_JOBS", "3")
    request_judgement(org)
    request_judgement(org)
    keys = sorted(Job.objects.filter(name="moderation.judge").values_list("dedupe_key", flat=True))
    if connection.vendor == "postgresql":
        assert keys == [
            f"moderation.judge:{org.pk}",
            f"moderation.judge:{org.pk}:1",
            f"moderation.judge:{org.pk}:2",
        ]
    else:
        assert keys == [f"moderation.judge:{org.pk}"]
    monkeypatch.setenv("BEFFROI_JUDGING_JOBS", "zero")
    with pytest.raises(ValueError, match="BEFFROI_JUDGING_JOBS"):
        from beffroi import config

        config.judging_jobs()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_judging_takes_disjoint_batches(
    org: Any, source: Any, charter: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two jobs judging one organization at once (PostgreSQL): each batch is claimed by
    locking its rows and skipping those the other holds, so together they look at every
    item exactly once, both do a share, and every item gets one verdict."""
    import threading
    import time

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (SKIP LOCKED); SQLite judges with one job at a time")
    monkeypatch.setenv("BEFFROI_JUDGING_JOBS", "1")
    texts = [f"{THREAT} {n}" if n % 3 == 0 else f"{FINE} {n}" for n in range(60)]
    ingest(source, _items(texts))
    judge_items = services.moderate_items

    def slow_judging(items: Any, **options: Any) -> Any:
        time.sleep(0.1)  # holding the batch's row locks, as a real model's time would
        return judge_items(items, **options)

    monkeypatch.setattr(services, "moderate_items", slow_judging)
    start = threading.Barrier(2)
    looked_at: list[int] = []
    errors: list[BaseException] = []

    def job() -> None:
        try:
            start.wait()
            looked_at.append(services.moderate_all_pending(org, batch_size=5))
        except BaseException as exc:  # shown by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=job) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sorted(looked_at)[0] > 0, f"one job did all the work: {looked_at}"
    assert sum(looked_at) == 60, f"an item was looked at twice or never: {looked_at}"
    assert not Item.objects.filter(source=source, state=Item.State.NEW).exists()
    hidden = Decision.objects.filter(item__source=source).exclude(status=Decision.Status.SHADOW)
    assert hidden.count() == 20
    assert hidden.values("item").distinct().count() == 20
