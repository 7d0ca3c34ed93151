"""The crisis pause under real concurrency (issue 16): 1,000 posts due over the next minute
on real Mastodon accounts (a loopback fake that notes when each publication reached it),
published by two workers (the embedded runner's two threads; two Celery worker processes
on Redis and PostgreSQL), the pause switched on midway from the test's own thread.

Once the pause is confirmed, nothing more reaches the platform; every post is accounted for
(published once, or left unattempted, or still scheduled), none lost, none published twice.
The count and the spread are parameters (``BEFFROI_RACE_POSTS``,
``BEFFROI_RACE_SPREAD_SECONDS``): the issue's "few minutes" shortened for CI.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from beffroi.audit.services import Actor
from beffroi.jobs import engine
from beffroi.publishing import approval, sending, services
from beffroi.publishing.models import Pause, Post, PostVariant
from beffroi.publishing.services import VariantInput
from beffroi.sources.models import Source
from tests.publishing import support_timings
from tests.publishing.support_platform import TimedMastodon, mastodon_source
from tests.publishing.support_workers import (
    broker_or_skip_reason,
    celery_broker,
    wait_for,
    worker_processes,
)

pytestmark = pytest.mark.django_db(transaction=True)

POSTS = int(os.environ.get("BEFFROI_RACE_POSTS", "1000"))
SPREAD_SECONDS = float(os.environ.get("BEFFROI_RACE_SPREAD_SECONDS", "12"))
#: The pause is switched on once this many posts reached the platform (about 40 %), or at
#: the latest when this share of the spread has passed (a machine slower than the schedule).
PAUSE_AFTER = POSTS * 2 // 5
PAUSE_AT_THE_LATEST = 0.7
#: After the last post's time: for the last release, and for the jobs to settle.
SETTLE_SECONDS = 30.0

State = Post.State
VariantState = PostVariant.State


@dataclass
class Race:
    org: Any
    admin: Any
    server: TimedMastodon
    sources: list[Source]
    first_at: datetime | None = None
    last_at: datetime | None = None

    @property
    def actor(self) -> Actor:
        return Actor(self.admin, "ui")


@dataclass
class Outcome:
    pause: Pause
    seconds: float
    published_before: int


@pytest.fixture
def race(org: Any, make_user: Any) -> Iterator[Race]:
    with TimedMastodon() as server:
        sources = [
            mastodon_source(org, server, "Mairie sur Mastodon"),
            mastodon_source(org, server, "Médiathèque sur Mastodon"),
        ]
        yield Race(org, make_user("crise", org=org, role="admin"), server, sources)


def _text(index: int) -> str:
    return f"Publication {index:04d} : horaires de la piscine municipale cette semaine."


def schedule_posts(
    race: Race, start: datetime, count: int = POSTS, spread: float = SPREAD_SECONDS
) -> None:
    """``count`` approved posts of one variant each (distinct texts, the accounts in turn),
    due one after the other from ``start`` over ``spread`` seconds.

    The first goes through the services (written, submitted: without a workflow, submitting
    approves it); the others are its copies written in bulk, each with the fingerprint of
    its own content as ``content_hash`` *and* ``approved_hash`` (``approval.content_hash``),
    so that they are approved for what they say as the first is, and released as it is.
    """
    first = services.save_post(
        race.actor,
        race.org,
        [VariantInput(race.sources[0], text=_text(0))],
        scheduled_at=start,
    )
    first = services.submit(race.actor, first)
    assert first.state == State.SCHEDULED and first.approval_current
    when = [start + timedelta(seconds=spread * index / count) for index in range(count)]
    posts, variants = [], []
    for index in range(1, count):
        post = Post(
            organization=race.org,
            author=race.admin,
            title=_text(index)[:200],
            kind=first.kind,
            state=State.SCHEDULED,
            scheduled_at=when[index],
            submitted_at=first.submitted_at,
            approved_at=first.approved_at,
        )
        variant = PostVariant(source=race.sources[index % len(race.sources)], text=_text(index))
        post.content_hash = post.approved_hash = approval.content_hash(post, [variant])
        posts.append(post)
        variants.append(variant)
    Post.objects.bulk_create(posts, batch_size=500)
    for post, variant in zip(posts, variants, strict=True):
        variant.post = post
    PostVariant.objects.bulk_create(variants, batch_size=500)
    # The copies' fingerprints are those the services compute from the rows.
    copy = Post.objects.get(pk=posts[-1].pk)
    assert approval.content_hash(copy) == copy.content_hash and copy.approval_current
    race.first_at, race.last_at = when[0], when[-1]


def _unsettled(race: Race) -> bool:
    now = timezone.now()
    posts = Post.objects.for_org(race.org)
    return (
        now <= race.last_at + timedelta(seconds=1)
        or posts.filter(state=State.PUBLISHING).exists()
        or posts.filter(state=State.SCHEDULED, scheduled_at__lte=now).exists()
    )


def run_race(race: Race) -> Outcome:
    """Wait until ``PAUSE_AFTER`` posts reached the platform, pause (from this thread: it
    returns once confirmed), then let every post's time pass and the workers settle."""
    assert race.first_at is not None and race.last_at is not None
    latest = race.first_at + (race.last_at - race.first_at) * PAUSE_AT_THE_LATEST
    wait_for(
        lambda: len(race.server.arrivals) >= PAUSE_AFTER or timezone.now() >= latest,
        timeout=(latest - timezone.now()).total_seconds() + 1,
        step=0.01,
    )
    published_before = len(race.server.arrivals)
    paused = services.pause(race.actor, race.org, "Événement grave : publications suspendues")
    ending = (race.last_at - timezone.now()).total_seconds() + SETTLE_SECONDS
    assert wait_for(lambda: not _unsettled(race), timeout=max(ending, SETTLE_SECONDS), step=0.2), (
        Counter(Post.objects.for_org(race.org).values_list("state", flat=True))
    )
    paused.refresh_from_db()
    return Outcome(paused, (timezone.now() - race.first_at).total_seconds(), published_before)


def check_outcome(race: Race, outcome: Outcome, backend: str) -> None:
    paused = outcome.pause
    assert paused.confirmed_at is not None
    assert paused.in_flight == 0, "every call under way was answered before the confirmation"
    confirmed = paused.confirmed_at.timestamp()
    arrivals = race.server.arrivals
    late = [arrival for arrival in arrivals if arrival.at > confirmed]
    assert late == [], f"{len(late)} publications reached the platform after the confirmation"

    statuses = race.server.published()
    texts = [status["text"] for status in statuses]
    variants = PostVariant.objects.for_org(race.org)
    published = variants.filter(state=VariantState.PUBLISHED)
    assert len(set(texts)) == len(texts), "a post was published twice"
    assert sorted(texts) == sorted(published.values_list("text", flat=True))
    assert len(arrivals) == len(statuses), "each publication was sent once"
    assert not published.filter(published_at__gt=paused.confirmed_at).exists()

    posts = Counter(Post.objects.for_org(race.org).values_list("state", flat=True))
    assert sum(posts.values()) == POSTS
    assert set(posts) <= {State.PUBLISHED, State.UNATTEMPTED, State.SCHEDULED}, posts
    assert posts[State.PUBLISHED] == len(statuses)
    assert not variants.exclude(state__in=(VariantState.PUBLISHED, VariantState.PENDING)).exists()
    assert not variants.filter(calling_since__isnull=False).exists()
    # The pause came midway: posts were published before it, and some were held back.
    assert posts[State.PUBLISHED] >= outcome.published_before > 0
    assert posts[State.UNATTEMPTED] + posts[State.SCHEDULED] > 0

    # The calls under way when the pause was written: answered while it waited.
    waited_for = published.filter(
        published_at__gt=paused.started_at, published_at__lte=paused.confirmed_at
    ).count()
    assert race.first_at is not None
    print(
        f"\npause race [{backend}, {connection.vendor}]: {POSTS} posts due over"
        f" {SPREAD_SECONDS:.0f} s; the pause asked"
        f" {(paused.started_at - race.first_at).total_seconds():.1f} s in, when"
        f" {outcome.published_before} had reached the platform; {waited_for} call(s) under way"
        f" when it was written, answered before its confirmation"
        f" {(paused.confirmed_at - paused.started_at).total_seconds() * 1000:.0f} ms later;"
        f" {posts[State.PUBLISHED]} published, {posts[State.UNATTEMPTED]} unattempted,"
        f" {posts[State.SCHEDULED]} scheduled; 0 reached the platform after the confirmation;"
        f" {outcome.seconds:.1f} s from the first post's time to settled"
    )


def test_pause_midway_with_the_embedded_runner(race: Race, monkeypatch: Any) -> None:
    monkeypatch.setitem(engine.PERIODIC, support_timings.RELEASE, support_timings.release_every(0))
    schedule_posts(race, timezone.now() + timedelta(seconds=1))
    runner = engine.EmbeddedRunner(threads=2, poll_seconds=0.05, sweep_seconds=0.5)
    runner.start()
    try:
        outcome = run_race(race)
    finally:
        runner.stop()
    check_outcome(race, outcome, "embedded runner, 2 threads")


#: Time for two Celery workers to start before the first post is due.
CELERY_START_SECONDS = 8.0


@pytest.mark.postgres
@pytest.mark.redis
def test_pause_midway_with_two_celery_workers(race: Race, settings: Any, tmp_path: Path) -> None:
    broker, why = broker_or_skip_reason()
    if broker is None:
        pytest.skip(why)
    settings.BEFFROI_BROKER_URL = broker
    env = {
        "BEFFROI_BROKER_URL": broker,
        "BEFFROI_SWEEP_SECONDS": "1",
        **support_timings.worker_env(release_seconds=1),
    }
    with celery_broker(broker), worker_processes(tmp_path, env) as workers:
        workers.start("w1")
        workers.start("w2")
        schedule_posts(race, timezone.now() + timedelta(seconds=CELERY_START_SECONDS))
        try:
            outcome = run_race(race)
        except AssertionError:
            print(workers.log("w1"), workers.log("w2"))
            raise
    check_outcome(race, outcome, "2 Celery workers")


def _due_post(race: Race) -> PostVariant:
    """One approved post whose time came, handed to publishing (its job is not run)."""
    post = services.save_post(
        race.actor,
        race.org,
        [VariantInput(race.sources[0], text=_text(0))],
        scheduled_at=timezone.now(),
    )
    services.submit(race.actor, post)
    assert services.release_due() == 1
    return PostVariant.objects.get(post=post)


@pytest.mark.postgres
def test_a_call_marked_while_the_pause_is_written_is_waited_for(race: Race) -> None:
    """The narrowest interleaving, made to happen: the pause takes its start time, then a
    publisher marks its call and reads the pauses before the pause is committed (it finds
    none, and calls the platform), then the pause is committed. The pause must not be
    confirmed before that call's answer."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "on SQLite the pause's transaction holds the one write lock that the publisher's"
            " mark needs: this interleaving cannot happen there"
        )
    variant = _due_post(race)
    race.server.hold(1)
    stamped, called = threading.Event(), threading.Event()
    done: dict[str, Any] = {}

    def before_the_pause_is_written(execute: Any, sql: str, *args: Any) -> Any:
        if sql.startswith('INSERT INTO "publishing_pause"'):
            stamped.set()  # ``started_at`` is taken; the row is not written yet
            called.wait(10)
        return execute(sql, *args)

    def pause() -> None:
        try:
            with connection.execute_wrapper(before_the_pause_is_written):
                done["pause"] = services.pause(race.actor, race.org, "Événement grave")
        finally:
            connection.close()

    def publish() -> None:
        try:
            done["state"] = sending.publish(variant.pk)
        finally:
            connection.close()

    pausing_thread = threading.Thread(target=pause)
    publishing_thread = threading.Thread(target=publish)
    pausing_thread.start()
    try:
        assert stamped.wait(10)
        publishing_thread.start()
        assert race.server.reached.wait(10), "the publisher read no pause and called"
        called.set()  # the pause is written now, with the call under way
        pausing_thread.join(1.0)
        confirmed_during_the_call = not pausing_thread.is_alive()
    finally:
        called.set()
        race.server.release()
        pausing_thread.join(20)
        if publishing_thread.ident is not None:  # started
            publishing_thread.join(20)
    variant.refresh_from_db()
    paused = done["pause"]
    assert done["state"] == VariantState.PUBLISHED
    assert not confirmed_during_the_call, (
        "the pause was confirmed while a call it had not stopped was waiting for its answer"
    )
    assert variant.published_at is not None and variant.published_at <= paused.confirmed_at
    assert paused.in_flight == 0
