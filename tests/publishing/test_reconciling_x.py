"""On X (no idempotency key), a post whose answer was lost is found on the account's timeline,
though X rewrote its link as ``t.co`` and its ``&`` as ``&amp;``: published once, with its link
(issue 16). Against X's loopback fake."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from beffroi.audit.services import Actor
from beffroi.connectors.http import RATE_GATE
from beffroi.jobs import engine
from beffroi.jobs.models import Job
from beffroi.publishing import services
from beffroi.publishing.models import Post, PostVariant
from beffroi.publishing.services import VariantInput
from beffroi.sources.failures import REASON_UNCONFIRMED
from beffroi.sources.models import Source
from tests.fakes.loopback import Reply
from tests.fakes.x_server import SERVICE_UNAVAILABLE, FakeX

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = "Travaux & coupure d'eau rue Victor Hugo demain : https://ville.example/travaux"
AS_X_KEEPS_IT = "Travaux &amp; coupure d'eau rue Victor Hugo demain : https://t.co/Tr4v4ux"


@pytest.fixture
def x() -> Iterator[FakeX]:
    RATE_GATE.clear()
    with FakeX() as fake:
        yield fake
    RATE_GATE.clear()


def _run(name: str, variant: PostVariant) -> str:
    job = Job.objects.filter(name=name, payload__variant_id=variant.pk).latest("id")
    Job.objects.filter(pk=job.pk).update(run_after=timezone.now())
    return engine.run_job(job.pk)


def test_a_lost_answer_on_x_is_found_on_the_timeline(org: Any, make_user: Any, x: FakeX) -> None:
    source = Source(
        organization=org,
        name="@mairie",
        platform="x",
        settings={"user_id": x.me["id"], "username": "mairie", "base_url": x.base_url},
        last_synced_at=timezone.now(),
    )
    source.set_credentials({"access_token": x.token})
    source.save()
    actor = Actor(make_user("lucas", org=org, role="publisher"), "ui")
    post = services.save_post(actor, org, [VariantInput(source, text=TEXT)])
    post = services.publish_now(actor, services.submit(actor, post))
    variant = post.variants.get()
    # X made the post, then its answer was a 502: the desk cannot know it was made.
    x.script("/2/tweets", Reply(502, SERVICE_UNAVAILABLE), method="POST")
    assert _run("publishing.publish_variant", variant) == "done"
    made = x.add_tweet(AS_X_KEEPS_IT)
    variant.refresh_from_db()
    assert (variant.state, variant.reason) == (PostVariant.State.UNKNOWN, REASON_UNCONFIRMED)
    assert variant.check_at is not None
    assert _run("publishing.check_variant", variant) == "done"
    variant.refresh_from_db()
    post.refresh_from_db()
    assert (variant.state, post.state) == (PostVariant.State.PUBLISHED, Post.State.PUBLISHED)
    assert variant.platform_id == made["id"]
    assert variant.url == f"https://x.com/mairie/status/{made['id']}"
    assert len(x.requests_to("POST", "/2/tweets")) == 1, "never sent again"
    assert x.requests_to("GET", f"/2/users/{x.me['id']}/tweets"), "looked on the timeline"
