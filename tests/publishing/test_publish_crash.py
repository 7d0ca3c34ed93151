"""Publishing exactly once when things break (issue 16): a worker process killed (SIGKILL)
while the platform was publishing, an answer lost after the platform published, a rate
limit. Never two posts on the platform, never a post lost: each ends published, or of
unknown outcome for a person to check, and is never left *being sent*.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from beffroi.audit.services import Actor
from beffroi.jobs import engine
from beffroi.jobs.models import Job
from beffroi.publishing import services
from beffroi.publishing.models import Post, PostVariant
from beffroi.publishing.services import VariantInput
from beffroi.sources.failures import REASON_RATE_LIMITED, REASON_UNCONFIRMED
from tests.publishing import support_timings
from tests.publishing.support_platform import TimedMastodon, mastodon_source
from tests.publishing.support_workers import (
    broker_or_skip_reason,
    celery_broker,
    wait_for,
    worker_processes,
)

pytestmark = pytest.mark.django_db(transaction=True)

VariantState = PostVariant.State
#: The publishing job's lease in the worker processes (production: 300 s).
LEASE_SECONDS = 3
TEXT = "Coupure d'eau rue Victor Hugo demain de 8 h à 12 h."


@dataclass
class Desk:
    org: Any
    author: Any
    server: TimedMastodon
    source: Any

    def due_post(self) -> Post:
        """An approved post (no workflow: submitting approves it) whose time has come."""
        actor = Actor(self.author, "ui")
        post = services.save_post(
            actor, self.org, [VariantInput(self.source, text=TEXT)], scheduled_at=timezone.now()
        )
        return services.submit(actor, post)

    def job(self, variant: PostVariant) -> Job:
        """The variant's publishing job (the latest: one per variant at a time)."""
        jobs = Job.objects.filter(name=support_timings.PUBLISH, payload__variant_id=variant.pk)
        return jobs.latest("id")

    def run_job(self, variant: PostVariant) -> str:
        """Run the variant's job here, as a worker would: ``done``, ``retry``, ``skipped``."""
        return engine.run_job(self.job(variant).pk)


@pytest.fixture
def desk(org: Any, make_user: Any) -> Iterator[Desk]:
    with TimedMastodon() as server:
        source = mastodon_source(org, server, "Mairie sur Mastodon")
        yield Desk(org, make_user("lucas", org=org, role="publisher"), server, source)


# --- a worker killed during the call ------------------------------------------------------


@pytest.fixture(
    params=["embedded", pytest.param("celery", marks=[pytest.mark.postgres, pytest.mark.redis])]
)
def worker_env(request: Any, settings: Any) -> Iterator[dict[str, str]]:
    """The environment of ``beffroi worker`` processes: the embedded runner (any database) or
    Celery on Redis and PostgreSQL; the publishing job's lease shortened."""
    shorter = support_timings.worker_env(lease_seconds=LEASE_SECONDS)
    if request.param == "embedded":
        yield {"BEFFROI_BROKER_URL": "", **shorter}
        return
    broker, why = broker_or_skip_reason()
    if broker is None:
        pytest.skip(why)
    settings.BEFFROI_BROKER_URL = broker  # the job enqueued here goes to the workers
    with celery_broker(broker):
        yield {"BEFFROI_BROKER_URL": broker, "BEFFROI_SWEEP_SECONDS": "1", **shorter}


def test_a_worker_killed_during_the_call_publishes_once(
    desk: Desk, worker_env: dict[str, str], tmp_path: Path
) -> None:
    post = desk.due_post()
    variant = post.variants.get()
    desk.server.hold(1)  # the status is created, its answer waits
    with worker_processes(tmp_path, worker_env) as workers:
        doomed = workers.start("doomed")
        services.release_due()
        assert desk.server.reached.wait(60), workers.log("doomed")
        workers.kill(doomed)  # mid-call: the platform published, the worker never heard
        desk.server.release()
        variant.refresh_from_db()
        job = desk.job(variant)
        assert (variant.state, job.state) == (VariantState.PUBLISHING, Job.State.RUNNING)
        assert variant.calling_since is not None
        assert job.lease_expires_at is not None
        # Another worker takes the job once its lease has run out.
        time.sleep(max(0.0, (job.lease_expires_at - timezone.now()).total_seconds()) + 0.2)
        workers.start("rescuer")
        finished = wait_for(lambda: desk.job(variant).state == Job.State.DONE, 60, step=0.2)
        assert finished, workers.log("rescuer")
    variant.refresh_from_db()
    post.refresh_from_db()
    published = desk.server.published()
    assert len(published) == 1, "one status on the platform, never two"
    assert (variant.state, variant.reason) == (VariantState.PUBLISHED, "")
    assert variant.platform_id == published[0]["id"] and variant.calling_since is None
    assert post.state == Post.State.PUBLISHED
    # Sent again with the same key: the platform answered with the status already there.
    assert [arrival.key for arrival in desk.server.arrivals] == [str(variant.key)] * 2
    assert (variant.attempts, desk.job(variant).attempts) == (2, 2)


# --- in one process -------------------------------------------------------------------------


def test_an_answer_lost_after_publishing_is_asked_again_with_the_same_key(
    desk: Desk,
) -> None:
    post = desk.due_post()
    variant = post.variants.get()
    desk.server.lose(1)  # the status is created, then the connection is cut
    assert services.release_due() == 1
    assert desk.run_job(variant) == "retry"
    variant.refresh_from_db()
    assert (variant.state, variant.reason) == (VariantState.PENDING, REASON_UNCONFIRMED)
    assert variant.detail and variant.calling_since is None
    assert len(desk.server.published()) == 1
    post.refresh_from_db()
    assert post.state == Post.State.PUBLISHING, "not settled: it is asked again"
    Job.objects.filter(pk=desk.job(variant).pk).update(run_after=timezone.now())
    assert desk.run_job(variant) == "done"
    variant.refresh_from_db()
    assert variant.state == VariantState.PUBLISHED
    assert variant.platform_id == desk.server.published()[0]["id"]
    # Mastodon answered the repeated key with the status already there: one status.
    assert len(desk.server.creations()) == 2 and len(desk.server.published()) == 1


def test_a_rate_limited_post_waits_its_turn_then_is_published_once(desk: Desk) -> None:
    post = desk.due_post()
    variant = post.variants.get()
    desk.server.rate_limit(1, reset_in=2, path_prefix="/api/v1/statuses")
    assert services.release_due() == 1
    asked = timezone.now()
    assert desk.run_job(variant) == "retry"
    variant.refresh_from_db()
    job = desk.job(variant)
    assert (variant.state, variant.reason) == (VariantState.PENDING, REASON_RATE_LIMITED)
    assert job.state == Job.State.PENDING and job.run_after is not None
    assert 1 <= (job.run_after - asked).total_seconds() <= 5, "the wait the platform gave"
    assert desk.server.published() == []
    assert desk.run_job(variant) == "skipped", "not before its turn"
    time.sleep(max(0.0, (job.run_after - timezone.now()).total_seconds()) + 0.1)
    assert desk.run_job(variant) == "done"
    variant.refresh_from_db()
    post.refresh_from_db()
    assert (variant.state, post.state) == (VariantState.PUBLISHED, Post.State.PUBLISHED)
    assert len(desk.server.published()) == 1
    assert len(desk.server.creations()) == 2  # the refused one, then the one published
