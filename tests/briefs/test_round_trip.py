"""The brief round trip between two organizations of one Beffroi: the national cell prepares
a brief about the water hoax and sends it to the associative cell, which accepted its briefs;
the partner sees it in its desk and answers with its own accounts — from the answering desk,
with a published post, or outside Beffroi and declared by hand — and each answer is counted
back to the sender once (who, when, with what link)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from beffroi.audit.models import AuditEvent
from beffroi.audit.services import Actor
from beffroi.briefs import services
from beffroi.briefs.models import Brief, BriefDelivery, BriefResponse, Partnership
from beffroi.connectors.base import ActionResult
from beffroi.conversations.signals import reply_posted
from beffroi.sources.models import DEMO_SETTING
from tests.briefs import factories
from tests.briefs.conftest import Desk

pytestmark = pytest.mark.django_db


def _entry(desk: Desk) -> Any:
    """An approved counter-speech entry of ``desk``'s library."""
    from beffroi.counterspeech import services as library
    from beffroi.counterspeech.validation import EntryData

    data = EntryData(
        strategy="facts",
        title="Eau contrôlée",
        texts=[("fr", "L'eau est contrôlée chaque semaine."), ("en", "Water is tested weekly.")],
    )
    entry = library.create_entry(factories.system(desk.org), data, submit=True)
    return library.approve(desk.ctx(desk.approver), entry)


def _prepared(cell: Desk) -> Brief:
    from beffroi.veille.models import Narrative

    item = factories.hoax_item(cell.org)
    narrative = Narrative.objects.create(organization=cell.org, key="n1", name="Eau empoisonnée")
    data = services.BriefData(
        title="Rumeur de l'eau empoisonnée",
        summary="Une rumeur affirme que l'eau du robinet est empoisonnée.",
        narrative=narrative,
        dos=["Citer les analyses de l'ARS", "  ", "Rester calme"],
        donts=["Ne pas partager la capture"],
        posts=[
            services.PostData.of_item(item),
            services.PostData(url="https://x.example/status/77"),
        ],
        entries=[_entry(cell)],
    )
    return services.create_brief(cell.ctx(cell.approver), data)


def _reply_to(item: Any, key: str) -> Any:
    """A reply the platform has, to ``item``, by ``item``'s organization."""
    from beffroi.conversations.models import Conversation, Reply

    conversation = Conversation.objects.create(
        organization=item.organization,
        key=f"c-{key}",
        kind="public",
        source=item.source,
        platform=item.platform,
        author=item.author,
        root=item,
        opened_at=item.created_at,
        last_citizen_at=item.created_at,
    )
    return Reply.objects.create(
        organization=item.organization,
        conversation=conversation,
        item=item,
        key=key,
        text="Réponse",
        state=Reply.State.SENT,
        platform_id=f"r-{key}",
    )


def _partners(cell: Desk, asso: Desk) -> None:
    services.propose_partnership(cell.ctx(cell.admin), asso.org.slug)
    services.accept_partnership(asso.ctx(asso.admin), cell.org)


def test_prepare_send_and_the_partner_sees_it(cell: Desk, asso: Desk, town: Desk) -> None:
    brief = _prepared(cell)
    assert brief.state == Brief.State.DRAFT and brief.subject == "Eau empoisonnée"
    assert brief.dos == ["Citer les analyses de l'ARS", "Rester calme"]
    assert [p.platform_id for p in brief.posts.all()] == [factories.HOAX_ID, ""]
    (suggested,) = brief.entries.all()
    assert suggested.texts == {
        "en": "Water is tested weekly.",
        "fr": "L'eau est contrôlée chaque semaine.",
    }

    # Nothing is sent to an organization that has not accepted our briefs.
    with pytest.raises(services.BriefError, match="accepted"):
        services.send_brief(cell.ctx(cell.approver), brief, [asso.org])
    services.propose_partnership(cell.ctx(cell.admin), asso.org.slug)
    with pytest.raises(services.BriefError, match="accepted"):
        services.send_brief(cell.ctx(cell.approver), brief, [asso.org])
    services.accept_partnership(asso.ctx(asso.admin), cell.org)

    (delivery,) = services.send_brief(cell.ctx(cell.approver), brief, [asso.org])
    brief.refresh_from_db()
    assert brief.state == Brief.State.SENT and brief.sent_at is not None
    assert delivery.organization == asso.org and delivery.state == BriefDelivery.State.RECEIVED
    # Sent again: nothing doubles.
    assert services.send_brief(cell.ctx(cell.approver), brief, [asso.org]) == []
    assert BriefDelivery.objects.count() == 1

    # The partner sees it in its desk; the town, no one's partner, sees nothing.
    assert list(services.received(asso.org)) == [delivery]
    assert not services.received(town.org).exists()
    assert not services.received(cell.org).exists()
    assert list(services.sent_briefs(cell.org)) == [brief]
    assert AuditEvent.objects.filter(organization=asso.org, action="brief.receive").count() == 1
    assert list(
        AuditEvent.objects.filter(organization=cell.org, action__startswith="brief.")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["brief.create", "brief.partner.propose", "brief.send", "brief.send"]

    # Its own copy of the post leads to its inbox; the other one to the platform.
    own = factories.hoax_item(asso.org)
    found = services.matching_items(asso.org, list(brief.posts.all()))
    assert found == {brief.posts.get(platform_id=factories.HOAX_ID).pk: own}

    services.acknowledge(asso.ctx(asso.publisher), delivery)
    delivery.refresh_from_db()
    assert delivery.state == BriefDelivery.State.ACKNOWLEDGED


@pytest.fixture
def delivered(cell: Desk, asso: Desk) -> BriefDelivery:
    _partners(cell, asso)
    brief = _prepared(cell)
    return services.send_brief(cell.ctx(cell.approver), brief, [asso.org])[0]


def test_a_desk_reply_is_counted_back_with_who_and_when(
    cell: Desk, asso: Desk, delivered: BriefDelivery, django_capture_on_commit_callbacks: Any
) -> None:
    from beffroi.conversations import sending
    from beffroi.conversations import services as desk
    from beffroi.conversations.models import Conversation, Reply

    page = factories.source_of(asso.org, "Page de l'association", **{DEMO_SETTING: True})
    factories.hoax_item(asso.org, source=page)
    desk.attach_new_items(asso.org)
    conversation = Conversation.objects.for_org(asso.org).get()
    with django_capture_on_commit_callbacks(execute=True):
        reply = desk.send_reply(
            Actor(asso.publisher, "ui"),
            conversation,
            "L'eau est contrôlée chaque semaine : voici les analyses.",
            key="k1",
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert sending.send(reply.pk) == Reply.State.SIMULATED
    reply.refresh_from_db()
    (response,) = BriefResponse.objects.all()
    assert response.delivery == delivered
    assert response.post == delivered.brief.posts.get(platform_id=factories.HOAX_ID)
    assert response.how == BriefResponse.How.DESK_REPLY
    assert response.user == asso.publisher and response.answered_by == "asso-publisher"
    assert response.answered_at == reply.sent_at
    # The sender reads it through its brief: the partner, who, when.
    (seen,) = services.responses_of(delivered.brief)
    assert seen.delivery.partner_name == "Cellule associative"
    assert services.response_counts(delivered.brief) == {(response.post_id, delivered.pk): 1}
    assert AuditEvent.objects.filter(organization=asso.org, action="brief.response").count() == 1

    # The signal fires again (a job run twice, a confirmation): counted once.
    reply_posted.send(sender=Reply, reply=reply)
    reply_posted.send(sender=Reply, reply=reply)
    assert BriefResponse.objects.count() == 1


def test_a_reply_to_another_post_or_by_another_organization_is_not_counted(
    cell: Desk, asso: Desk, town: Desk, delivered: BriefDelivery
) -> None:
    from beffroi.conversations.models import Reply

    other = factories.hoax_item(asso.org, platform_id="another-post", url="")
    reply_posted.send(sender=Reply, reply=_reply_to(other, "a"))
    # The town answers the same post: it was not sent the brief.
    reply_posted.send(sender=Reply, reply=_reply_to(factories.hoax_item(town.org), "b"))
    assert not BriefResponse.objects.exists()
    # The same post, answered by the partner: counted, named by the reply's platform id.
    reply_posted.send(sender=Reply, reply=_reply_to(factories.hoax_item(asso.org), "c"))
    assert list(BriefResponse.objects.values_list("reference", flat=True)) == ["facebook:r-c"]


def test_a_published_post_in_answer_is_counted(
    cell: Desk, asso: Desk, delivered: BriefDelivery, django_capture_on_commit_callbacks: Any
) -> None:
    from beffroi.publishing import sending
    from beffroi.publishing.models import Post, PostVariant

    item = factories.hoax_item(asso.org)
    account = factories.source_of(asso.org, "Compte de l'association", **{DEMO_SETTING: True})
    post = Post.objects.create(
        organization=asso.org,
        author=asso.publisher,
        title="Réponse à la rumeur",
        kind=Post.Kind.COUNTER_SPEECH,
        in_reply_to=item,
    )
    variant = PostVariant.objects.create(post=post, source=account, text="Les analyses : …")
    result = ActionResult(ok=True, platform_id="789", url="https://facebook.example/posts/789")
    with django_capture_on_commit_callbacks(execute=True):
        sending.finish_variant(variant, PostVariant.State.SIMULATED, result=result)
    (response,) = BriefResponse.objects.all()
    assert response.how == BriefResponse.How.PUBLISHED_POST
    assert response.url == "https://facebook.example/posts/789"
    assert response.answered_by == "asso-publisher" and response.answered_at == variant.published_at
    # A failure is not an answer; the same publication announced again counts once.
    with django_capture_on_commit_callbacks(execute=True):
        sending.finish_variant(variant, PostVariant.State.SIMULATED, result=result)
        sending.finish_variant(variant, PostVariant.State.FAILED, reason="refused")
    assert BriefResponse.objects.count() == 1


def test_an_answer_declared_by_hand_counts_once(
    cell: Desk, asso: Desk, delivered: BriefDelivery
) -> None:
    post = delivered.brief.posts.get(platform_id="")
    url = "https://x.example/asso/status/1"
    with pytest.raises(PermissionDenied):
        services.declare_response(asso.ctx(asso.viewer), delivered, post, url)
    response = services.declare_response(asso.ctx(asso.moderator), delivered, post, url)
    assert (response.how, response.answered_by, response.user) == (
        "declared",
        "asso-moderator",
        asso.moderator,
    )
    with pytest.raises(services.BriefError, match="already counted") as twice:
        services.declare_response(asso.ctx(asso.publisher), delivered, post, url)
    assert twice.value.code == "duplicate"
    with pytest.raises(services.BriefError, match="http"):
        services.declare_response(asso.ctx(asso.publisher), delivered, post, "javascript:alert(1)")
    # Only the partner declares, on its own delivery.
    with pytest.raises(services.BriefError, match="desk"):
        services.declare_response(cell.ctx(cell.admin), delivered, post, url + "2")
    assert BriefResponse.objects.count() == 1


def test_a_closed_brief_counts_no_more(cell: Desk, asso: Desk, delivered: BriefDelivery) -> None:
    from beffroi.conversations.models import Reply

    brief = services.close_brief(cell.ctx(cell.approver), delivered.brief)
    assert brief.state == Brief.State.CLOSED and brief.closed_at is not None
    reply_posted.send(sender=Reply, reply=_reply_to(factories.hoax_item(asso.org), "k"))
    with pytest.raises(services.BriefError, match="closed"):
        services.declare_response(
            asso.ctx(asso.publisher), delivered, brief.posts.first(), "https://x.example/1"
        )
    assert not BriefResponse.objects.exists()
    with pytest.raises(services.BriefError, match="closed"):
        services.send_brief(cell.ctx(cell.approver), brief, [asso.org])
    with pytest.raises(services.BriefError, match="closed"):
        services.update_brief(cell.ctx(cell.approver), brief, services.BriefData(title="Autre"))


def test_a_post_already_answered_stays_in_the_brief(
    cell: Desk, asso: Desk, delivered: BriefDelivery
) -> None:
    post = delivered.brief.posts.get(platform_id="")
    services.declare_response(asso.ctx(asso.publisher), delivered, post, "https://x.example/9")
    with pytest.raises(services.BriefError, match="answered"):
        services.update_brief(
            cell.ctx(cell.approver),
            delivered.brief,
            services.BriefData(title="Sans le second message"),
        )
    # Changing the rest keeps the posts and their answers.
    kept = [services.PostData.of_item(factories.hoax_item(cell.org, platform_id="other"))]
    data = services.BriefData(
        title="Rumeur (mise à jour)", posts=[services.PostData(url=post.url), *kept]
    )
    brief = services.update_brief(cell.ctx(cell.approver), delivered.brief, data)
    assert brief.title == "Rumeur (mise à jour)"
    assert brief.posts.count() == 2 and BriefResponse.objects.get().post_id == post.pk


def test_partnerships_are_made_by_both_administrators(cell: Desk, asso: Desk) -> None:
    for user in (cell.approver, cell.publisher, cell.viewer):
        with pytest.raises(PermissionDenied):
            services.propose_partnership(cell.ctx(user), asso.org.slug)
    with pytest.raises(services.BriefError, match="No organization"):
        services.propose_partnership(cell.ctx(cell.admin), "nulle-part")
    with pytest.raises(services.BriefError, match="itself"):
        services.propose_partnership(cell.ctx(cell.admin), cell.org.slug)
    with pytest.raises(services.BriefError, match="not proposed"):
        services.accept_partnership(asso.ctx(asso.admin), cell.org)
    proposed = services.propose_partnership(cell.ctx(cell.admin), asso.org.slug)
    assert proposed.state == Partnership.State.PROPOSED
    # The sender cannot accept in the partner's stead.
    with pytest.raises(services.BriefError, match="not proposed"):
        services.accept_partnership(cell.ctx(cell.admin), asso.org)
    with pytest.raises(PermissionDenied):
        services.accept_partnership(asso.ctx(asso.approver), cell.org)
    accepted = services.accept_partnership(asso.ctx(asso.admin), cell.org)
    assert accepted.state == Partnership.State.ACCEPTED and accepted.accepted_by == asso.admin
    assert list(services.accepted_partners(cell.org)) == [asso.org]
    # Either side ends it; what was delivered stays.
    _brief, delivery = factories.sent_brief(cell.org, asso.org)
    services.stop_receiving(asso.ctx(asso.admin), cell.org)
    assert not services.accepted_partners(cell.org).exists()
    assert BriefDelivery.objects.filter(pk=delivery.pk).exists()
    with pytest.raises(services.BriefError, match="no partnership"):
        services.stop_sending(cell.ctx(cell.admin), asso.org)


def test_what_followed_the_partners_answers_is_shown_per_brief(
    cell: Desk, asso: Desk, delivered: BriefDelivery
) -> None:
    """The partner's answered post was then removed by its author, and its thread drew two
    hateful replies before the answer and none after: the sender's brief reads it, per
    partner, with the caveat."""
    from datetime import timedelta

    from django.urls import reverse
    from django.utils import timezone

    from beffroi.briefs.outcomes import brief_outcomes
    from beffroi.items.models import Item
    from tests.briefs.test_pages import _client

    page = factories.source_of(asso.org, "Page de l'association", **{DEMO_SETTING: True})
    item = factories.hoax_item(asso.org, source=page)
    # Three days ago: the 24 hours after the answer are over.
    item.created_at = timezone.now() - timedelta(days=3)
    item.save(update_fields=["created_at"])
    answered_at = item.created_at + timedelta(hours=30)
    for number, hours in enumerate((2, 5)):
        Item.objects.create(
            organization=asso.org,
            source=page,
            platform=item.platform,
            platform_id=f"hate-{number}",
            kind=Item.Kind.REPLY,
            author=item.author,
            text="Honte à vous",
            parent=item,
            parent_platform_id=item.platform_id,
            thread_id=item.thread_id or item.platform_id,
            created_at=answered_at - timedelta(hours=hours),
            analysis={"verdict": "review", "category": "insult"},
        )
    Item.objects.filter(pk=item.pk).update(visibility=Item.Visibility.DELETED)
    post = delivered.brief.posts.get(platform_id=factories.HOAX_ID)
    services.declare_response(
        asso.ctx(asso.publisher), delivered, post, "https://x.example/r/1", answered_at=answered_at
    )
    (row,), together = brief_outcomes(delivered.brief)
    assert together is None  # one partner: no total row
    assert row.label == "Cellule associative" and row.answered == 1
    assert row.removed_by_author == 1
    assert row.hateful_replies.measured == 1 and row.hateful_replies.slowed == 1
    html = (
        _client(cell.approver)
        .get(reverse("briefs:detail", args=[cell.org.slug, delivered.brief.pk]))
        .content.decode()
    )
    assert "What followed the answers" in html and "Observations, not experiments" in html
    assert "Cellule associative" in html
