"""A publication whose outcome is unknown is looked for on the account (issue 16): found, it is
published with its link; surely absent, it is sent again once (unless a pause holds it); the
platform refusing the look leaves it to a person. Never two posts on the platform.

The platform is the loopback Mastodon, told to behave as a platform without an idempotency
key (X, Facebook, Instagram, YouTube): its connector's ``idempotent_publish`` is switched off,
so only the look on the account can settle an interrupted publication.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from beffroi.audit.models import AuditEvent
from beffroi.audit.services import Actor
from beffroi.connectors.mastodon import MastodonConnector
from beffroi.items.models import Item
from beffroi.jobs import engine
from beffroi.jobs.models import Job
from beffroi.publishing import reconciling, sending, services
from beffroi.publishing.models import Post, PostVariant
from beffroi.publishing.services import VariantInput
from beffroi.sources.failures import REASON_UNCONFIRMED
from beffroi.sources.models import Source
from tests.publishing.support_platform import TimedMastodon, mastodon_source

pytestmark = pytest.mark.django_db(transaction=True)

VariantState = PostVariant.State
TEXT = "Coupure d'eau rue Victor Hugo demain de 8 h à 12 h : https://ville.example/travaux"
CHECK = "publishing.check_variant"
PUBLISH = "publishing.publish_variant"


@dataclass
class Desk:
    org: Any
    author: Any
    server: TimedMastodon
    source: Any

    def due_post(self, text: str = TEXT) -> Post:
        actor = Actor(self.author, "ui")
        post = services.save_post(
            actor, self.org, [VariantInput(self.source, text=text)], scheduled_at=timezone.now()
        )
        return services.submit(actor, post)

    def job(self, name: str, variant: PostVariant) -> Job:
        return Job.objects.filter(name=name, payload__variant_id=variant.pk).latest("id")

    def run(self, name: str, variant: PostVariant) -> str:
        return engine.run_job(self.job(name, variant).pk)


@pytest.fixture
def desk(org: Any, make_user: Any, monkeypatch: Any) -> Iterator[Desk]:
    monkeypatch.setattr(MastodonConnector, "idempotent_publish", False)
    with TimedMastodon() as server:
        source = mastodon_source(org, server, "Mairie sur Mastodon")
        yield Desk(org, make_user("lucas", org=org, role="publisher"), server, source)


def _lost_answer(desk: Desk) -> tuple[Post, PostVariant]:
    """A post the platform published, whose answer never came back."""
    post = desk.due_post()
    variant = post.variants.get()
    desk.server.lose(1)
    assert services.release_due() == 1
    assert desk.run(PUBLISH, variant) == "done"
    variant.refresh_from_db()
    return post, variant


def _interrupted_before_the_platform(desk: Desk, minutes_ago: float) -> PostVariant:
    """A worker died after its mark, before its call reached the platform."""
    post = services.publish_now(Actor(desk.author, "ui"), desk.due_post())
    variant = post.variants.get()
    started = timezone.now() - timedelta(minutes=minutes_ago)
    PostVariant.objects.filter(pk=variant.pk).update(
        state=VariantState.PUBLISHING, calling_since=started, call_started_at=started, attempts=1
    )
    Job.objects.filter(name=PUBLISH).delete()  # the dead worker's job, gone with it
    assert sending.publish(variant.pk) == VariantState.UNKNOWN
    variant.refresh_from_db()
    return variant


def test_a_lost_answer_is_found_on_the_account_and_published_once(desk: Desk) -> None:
    post, variant = _lost_answer(desk)
    assert (variant.state, variant.reason) == (VariantState.UNKNOWN, REASON_UNCONFIRMED)
    assert variant.check_at is not None and variant.calling_since is None
    job = desk.job(CHECK, variant)
    assert job.run_after is not None
    assert 50 <= (job.run_after - timezone.now()).total_seconds() <= 61, "a minute later"
    post.refresh_from_db()
    assert post.state == Post.State.PUBLISHING, "not settled while Beffroi will look"
    Job.objects.filter(pk=job.pk).update(run_after=timezone.now())
    assert desk.run(CHECK, variant) == "done"
    variant.refresh_from_db()
    post.refresh_from_db()
    published = desk.server.published()
    assert len(published) == 1 and len(desk.server.creations()) == 1, "never sent again"
    assert (variant.state, variant.check_at) == (VariantState.PUBLISHED, None)
    assert variant.platform_id == published[0]["id"] and variant.url
    assert post.state == Post.State.PUBLISHED
    assert Item.objects.filter(source=desk.source, platform_id=variant.platform_id).exists()
    event = AuditEvent.objects.filter(action="post.published", object_id=str(post.pk)).get()
    assert "Found on the account" in event.after["detail"]


def test_absent_once_the_call_is_surely_over_it_is_sent_again_once(desk: Desk) -> None:
    variant = _interrupted_before_the_platform(desk, minutes_ago=0.1)
    assert variant.reason == sending.REASON_INTERRUPTED and variant.check_at is not None
    # Not there yet, and the call might still be running: looked at again later.
    with pytest.raises(sending.PublishLater) as later:
        reconciling.check(variant.pk)
    variant.refresh_from_db()
    assert variant.state == VariantState.UNKNOWN
    assert variant.call_started_at is not None and variant.check_at is not None
    assert variant.check_at == variant.call_started_at + reconciling.CALL_IS_OVER
    assert 280 <= later.value.delay <= 300
    assert desk.server.creations() == []
    # Once the call is surely over, still absent: the platform did not publish it.
    PostVariant.objects.filter(pk=variant.pk).update(
        call_started_at=timezone.now() - timedelta(minutes=6)
    )
    assert reconciling.check(variant.pk) == VariantState.PENDING
    variant.refresh_from_db()
    assert variant.reason == reconciling.REASON_NOT_ON_ACCOUNT and variant.check_at is None
    assert desk.run(PUBLISH, variant) == "done"
    variant.refresh_from_db()
    assert variant.state == VariantState.PUBLISHED
    assert len(desk.server.published()) == 1 and len(desk.server.creations()) == 1
    looks = AuditEvent.objects.filter(action="post.looked_up").values_list("after", flat=True)
    assert [look["looked"] for look in looks] == ["absent"]


def test_a_pause_confirmed_meanwhile_holds_back_the_new_attempt(desk: Desk) -> None:
    variant = _interrupted_before_the_platform(desk, minutes_ago=6)
    admin_actor = Actor(desk.author, "ui")
    services.pause(admin_actor, desk.org, "Crise : tout s'arrête")
    assert reconciling.check(variant.pk) == VariantState.PENDING
    variant.refresh_from_db()
    post = Post.objects.get(pk=variant.post_id)
    assert (variant.reason, post.state) == (sending.REASON_PAUSED, Post.State.UNATTEMPTED)
    assert not Job.objects.filter(name=PUBLISH, state=Job.State.PENDING).exists()
    assert desk.server.creations() == []


def test_a_refused_look_leaves_it_to_a_person(desk: Desk) -> None:
    post, variant = _lost_answer(desk)
    desk.server.revoke_token()
    assert reconciling.check(variant.pk) == VariantState.UNKNOWN
    variant.refresh_from_db()
    post.refresh_from_db()
    assert variant.check_at is None and "could not look for it" in variant.detail
    assert post.state == Post.State.FAILED, "settled: a person checks, confirms or resends"
    desk.source.refresh_from_db()
    assert desk.source.status == Source.Status.AUTH_FAILED, "shown on the account"
    assert len(desk.server.creations()) == 1


def test_a_rate_limited_look_is_made_later(desk: Desk) -> None:
    _post, variant = _lost_answer(desk)
    desk.server.rate_limit(1, reset_in=30, path_prefix="/api/v1/accounts")
    with pytest.raises(sending.PublishLater) as later:
        reconciling.check(variant.pk)
    assert 1 <= later.value.delay <= 31
    variant.refresh_from_db()
    assert variant.state == VariantState.UNKNOWN and variant.check_at is not None


def test_a_person_who_settled_it_first_is_not_overruled(desk: Desk) -> None:
    _post, variant = _lost_answer(desk)
    services.confirm_published(Actor(desk.author, "ui"), variant, "https://social.example/1")
    assert reconciling.check(variant.pk) == "settled"
    variant.refresh_from_db()
    assert (variant.state, variant.url, variant.check_at) == (
        VariantState.PUBLISHED,
        "https://social.example/1",
        None,
    )


def test_a_text_of_links_only_is_left_to_a_person(desk: Desk) -> None:
    post = desk.due_post(text="https://ville.example/travaux")
    variant = post.variants.get()
    desk.server.lose(1)
    services.release_due()
    desk.run(PUBLISH, variant)
    variant.refresh_from_db()
    assert variant.state == VariantState.UNKNOWN and variant.check_at is None
    assert not Job.objects.filter(name=CHECK).exists()


def test_the_post_page_says_when_beffroi_looks(desk: Desk, client: Any) -> None:
    post, _variant = _lost_answer(desk)
    client.force_login(desk.author)
    url = f"/o/{desk.org.slug}/publishing/{post.pk}/"
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Beffroi looks for it on the account at" in english
    french = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Beffroi le cherche sur le compte à" in french


def test_an_idempotent_platform_is_simply_asked_again_after_a_lost_answer(
    desk: Desk, monkeypatch: Any
) -> None:
    # Mastodon as it is: it recognises the repeated Idempotency-Key.
    monkeypatch.setattr(MastodonConnector, "idempotent_publish", True)
    post = desk.due_post()
    variant = post.variants.get()
    desk.server.lose(1)
    services.release_due()
    assert desk.run(PUBLISH, variant) == "retry"
    variant.refresh_from_db()
    assert (variant.state, variant.reason) == (VariantState.PENDING, REASON_UNCONFIRMED)
    job = desk.job(PUBLISH, variant)
    Job.objects.filter(pk=job.pk).update(run_after=timezone.now())
    assert desk.run(PUBLISH, variant) == "done"
    variant.refresh_from_db()
    post.refresh_from_db()
    assert (variant.state, post.state) == (VariantState.PUBLISHED, Post.State.PUBLISHED)
    assert len(desk.server.published()) == 1
    keys = {arrival.key for arrival in desk.server.arrivals}
    assert keys == {str(variant.key)} and len(desk.server.arrivals) == 2
