"""The publishing desk's rules: approval bound to content, no self-approval, steps any/all/N,
the time of each post, the pause, publishing exactly once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from beffroi.audit.models import AuditEvent
from beffroi.publishing import services
from beffroi.publishing.models import (
    Approval,
    ApprovalStep,
    ApprovalWorkflow,
    PauseWindow,
    Post,
    PostVariant,
)
from beffroi.publishing.services import PublishingError, VariantInput

pytestmark = pytest.mark.django_db(transaction=True)

State = Post.State


def _write(desk: Any, text: str = "Marché de Noël samedi place de la mairie.", **kw: Any) -> Post:
    return services.save_post(
        desk.actor(desk.author),
        desk.org,
        [VariantInput(desk.page, text=text), VariantInput(desk.mastodon, text=text)],
        title="Marché de Noël",
        **kw,
    )


def _run_jobs() -> None:
    from beffroi.jobs.engine import run_pending

    run_pending()


def test_a_post_without_workflow_is_approved_on_submit_and_published_at_its_time(
    desk: Any,
) -> None:
    when = timezone.now() + timedelta(hours=2)
    post = _write(desk, scheduled_at=when)
    assert post.state == State.DRAFT
    post = services.submit(desk.actor(desk.author), post)
    assert post.state == State.SCHEDULED and post.approval_current
    assert services.release_due(now=timezone.now()) == 0  # not its time yet
    assert services.release_due(now=when + timedelta(seconds=1)) == 1
    _run_jobs()
    post.refresh_from_db()
    assert post.state == State.PUBLISHED
    assert set(post.variants.values_list("state", flat=True)) == {PostVariant.State.SIMULATED}
    actions = set(
        AuditEvent.objects.filter(object_id=str(post.pk)).values_list("action", flat=True)
    )
    assert {"post.create", "post.submit", "post.approve", "post.publishing"} <= actions
    assert "post.simulated" in actions


def test_no_one_approves_their_own_post(desk: Any, cabinet_workflow: Any) -> None:
    step = cabinet_workflow.steps.get()
    step.approvers.add(desk.author)
    post = services.submit(desk.actor(desk.author), _write(desk))
    assert post.state == State.IN_REVIEW
    with pytest.raises(PublishingError, match="own post"):
        services.decide(desk.actor(desk.author), post, True)
    assert not Approval.objects.exists()


def test_only_the_steps_approvers_approve(desk: Any, cabinet_workflow: Any) -> None:
    post = services.submit(desk.actor(desk.author), _write(desk))
    with pytest.raises(PublishingError, match="not among the approvers"):
        services.decide(desk.actor(desk.admin), post, True)
    post = services.decide(desk.actor(desk.cabinet[0]), post, True)
    assert post.state == State.APPROVED  # no time: waits for one or for "publish now"


def test_an_edit_after_approval_goes_back_to_review_and_the_old_approval_no_longer_counts(
    desk: Any, cabinet_workflow: Any
) -> None:
    when = timezone.now() + timedelta(days=1)
    post = services.submit(desk.actor(desk.author), _write(desk, scheduled_at=when))
    post = services.decide(desk.actor(desk.cabinet[0]), post, True)
    assert post.state == State.SCHEDULED
    post = _write_again(desk, post, "Marché de Noël dimanche (changé).", scheduled_at=when)
    assert post.state == State.IN_REVIEW
    assert not post.approval_current
    assert AuditEvent.objects.filter(action="post.back_to_review", object_id=str(post.pk)).exists()
    # Even if it were forced back to scheduled, its time would not publish the changed text.
    Post.objects.filter(pk=post.pk).update(state=State.SCHEDULED)
    assert services.release_due(now=when + timedelta(minutes=1)) == 0
    post.refresh_from_db()
    assert post.state == State.IN_REVIEW


def _write_again(desk: Any, post: Post, text: str, **kw: Any) -> Post:
    return services.save_post(
        desk.actor(desk.author),
        desk.org,
        [VariantInput(desk.page, text=text), VariantInput(desk.mastodon, text=text)],
        post=post,
        title=post.title,
        **kw,
    )


def test_a_change_of_time_keeps_the_approval(desk: Any, cabinet_workflow: Any) -> None:
    post = services.submit(
        desk.actor(desk.author), _write(desk, scheduled_at=timezone.now() + timedelta(days=1))
    )
    post = services.decide(desk.actor(desk.cabinet[0]), post, True)
    post = services.schedule(desk.actor(desk.author), post, timezone.now() + timedelta(days=2))
    assert post.state == State.SCHEDULED and post.approval_current


def test_an_approval_given_to_content_seen_before_an_edit_is_refused(
    desk: Any, cabinet_workflow: Any
) -> None:
    post = services.submit(desk.actor(desk.author), _write(desk))
    seen = post.content_hash
    _write_again(desk, post, "Autre texte.")
    post.refresh_from_db()
    with pytest.raises(PublishingError, match="changed since you opened it"):
        services.decide(desk.actor(desk.cabinet[0]), post, True, seen_hash=seen)


@pytest.mark.parametrize(
    ("rule", "required", "approvers_needed"),
    [(ApprovalStep.Rule.ANY, 1, 1), (ApprovalStep.Rule.ALL, 1, 2), (ApprovalStep.Rule.N_OF, 2, 2)],
)
def test_any_all_and_n_of(
    desk: Any, cabinet_workflow: Any, rule: str, required: int, approvers_needed: int
) -> None:
    cabinet_workflow.steps.update(rule=rule, required=required)
    post = services.submit(desk.actor(desk.author), _write(desk))
    for index, approver in enumerate(desk.cabinet[:approvers_needed]):
        assert post.state == State.IN_REVIEW, index
        post = services.decide(desk.actor(approver), post, True)
    assert post.state == State.APPROVED


def test_the_same_approver_twice_does_not_pass_an_all_step(
    desk: Any, cabinet_workflow: Any
) -> None:
    cabinet_workflow.steps.update(rule=ApprovalStep.Rule.ALL)
    post = services.submit(desk.actor(desk.author), _write(desk))
    post = services.decide(desk.actor(desk.cabinet[0]), post, True)
    with pytest.raises(PublishingError, match="already approved"):
        services.decide(desk.actor(desk.cabinet[0]), post, True)
    assert post.state == State.IN_REVIEW


def test_two_steps_in_order_and_a_rejection_returns_the_draft(
    desk: Any, cabinet_workflow: Any
) -> None:
    second = ApprovalStep.objects.create(workflow=cabinet_workflow, position=2, name="DGS")
    second.approvers.set([desk.admin])
    post = services.submit(desk.actor(desk.author), _write(desk))
    with pytest.raises(PublishingError, match="not among the approvers"):
        services.decide(desk.actor(desk.admin), post, True)  # not the first step's
    post = services.decide(desk.actor(desk.cabinet[1]), post, True)
    assert (post.state, post.review_step) == (State.IN_REVIEW, 1)
    post = services.decide(desk.actor(desk.admin), post, False, "Trop long.")
    assert post.state == State.DRAFT and post.state_reason == "Trop long."


def test_an_accounts_own_workflow_applies_with_the_default_for_the_others(
    desk: Any, cabinet_workflow: Any
) -> None:
    own = ApprovalWorkflow.objects.create(
        organization=desk.org, name="Mastodon", source=desk.mastodon
    )
    step = ApprovalStep.objects.create(workflow=own, position=1, name="Com")
    step.approvers.set([desk.admin])
    post = services.submit(desk.actor(desk.author), _write(desk))
    post = services.decide(desk.actor(desk.cabinet[0]), post, True)
    assert post.state == State.IN_REVIEW  # the account's own step is left
    post = services.decide(desk.actor(desk.admin), post, True)
    assert post.state == State.APPROVED


def test_replies_need_approval_only_where_the_workflow_says(
    desk: Any, cabinet_workflow: Any
) -> None:
    post = services.submit(desk.actor(desk.author), _write(desk, kind=Post.Kind.REPLY))
    assert post.state == State.APPROVED
    cabinet_workflow.for_replies = True
    cabinet_workflow.save()
    post = services.submit(desk.actor(desk.author), _write(desk, kind=Post.Kind.REPLY))
    assert post.state == State.IN_REVIEW


def test_a_post_not_approved_in_time_expires_and_is_never_published(
    desk: Any, cabinet_workflow: Any
) -> None:
    when = timezone.now() + timedelta(hours=1)
    post = services.submit(desk.actor(desk.author), _write(desk, scheduled_at=when))
    services.release_due(now=when + timedelta(seconds=1))
    post.refresh_from_db()
    assert post.state == State.APPROVAL_EXPIRED
    with pytest.raises(PublishingError):
        services.decide(desk.actor(desk.cabinet[0]), post, True)
    _run_jobs()
    assert not PostVariant.objects.exclude(state=PostVariant.State.PENDING).exists()


def test_a_pause_leaves_posts_unattempted_and_its_end_does_not_publish_them(desk: Any) -> None:
    when = timezone.now() + timedelta(minutes=5)
    post = services.submit(desk.actor(desk.author), _write(desk, scheduled_at=when))
    paused = services.pause(desk.actor(desk.admin), desk.org, "Attentat : deuil national")
    assert paused.confirmed_at is not None and paused.in_flight == 0
    services.release_due(now=when + timedelta(seconds=1))
    post.refresh_from_db()
    assert post.state == State.UNATTEMPTED
    assert post.state_reason == "Attentat : deuil national"
    services.resume(desk.actor(desk.admin), paused)
    services.release_due(now=when + timedelta(minutes=10))
    _run_jobs()
    post.refresh_from_db()
    assert post.state == State.UNATTEMPTED  # no burst on resume: a person decides
    post = services.publish_now(desk.actor(desk.author), post)
    _run_jobs()
    post.refresh_from_db()
    assert post.state == State.PUBLISHED


def test_a_pause_needs_a_reason(desk: Any) -> None:
    with pytest.raises(PublishingError, match="Say why"):
        services.pause(desk.actor(desk.admin), desk.org, "   ")


def test_a_pause_of_one_account_or_one_label_stops_only_those(desk: Any) -> None:
    when = timezone.now() + timedelta(minutes=5)
    labelled = services.submit(
        desk.actor(desk.author), _write(desk, scheduled_at=when, labels=["élections"])
    )
    other = services.submit(desk.actor(desk.author), _write(desk, "Autre", scheduled_at=when))
    label = labelled.labels.get()
    services.pause(desk.actor(desk.admin), desk.org, "Réserve", label=label)
    services.release_due(now=when + timedelta(seconds=1))
    _run_jobs()
    labelled.refresh_from_db()
    other.refresh_from_db()
    assert (labelled.state, other.state) == (State.UNATTEMPTED, State.PUBLISHED)


def test_a_planned_window_holds_posts_in_it(desk: Any) -> None:
    when = timezone.now() + timedelta(days=3)
    PauseWindow.objects.create(
        organization=desk.org,
        name="Réserve électorale",
        starts_at=when - timedelta(days=1),
        ends_at=when + timedelta(days=1),
    )
    post = services.submit(desk.actor(desk.author), _write(desk, scheduled_at=when))
    services.release_due(now=when + timedelta(seconds=1))
    post.refresh_from_db()
    assert post.state == State.UNATTEMPTED and "Réserve électorale" in post.state_reason


def test_a_variant_whose_call_was_interrupted_becomes_unknown_and_is_not_sent_again(
    desk: Any,
) -> None:
    from beffroi.publishing import sending

    post = services.submit(desk.actor(desk.author), _write(desk))
    post = services.publish_now(desk.actor(desk.author), post)
    variant = post.variants.get(source=desk.page)
    # A worker died during its call: the mark was committed, the answer never written.
    PostVariant.objects.filter(pk=variant.pk).update(
        state=PostVariant.State.PUBLISHING, calling_since=timezone.now()
    )
    assert sending.publish(variant.pk) == PostVariant.State.UNKNOWN
    variant.refresh_from_db()
    assert variant.reason == sending.REASON_INTERRUPTED and variant.attempts == 0
    _run_jobs()
    post.refresh_from_db()
    assert post.state == State.FAILED  # one unknown, one simulated: a person checks
    services.confirm_published(desk.actor(desk.author), variant, "https://facebook.com/p/1")
    post.refresh_from_db()
    assert post.state == State.PUBLISHED


def test_a_weekly_post_gets_its_next_occurrence_once_published(desk: Any) -> None:
    when = timezone.now() + timedelta(minutes=1)
    post = services.submit(
        desk.actor(desk.author), _write(desk, scheduled_at=when, recurrence="FREQ=WEEKLY")
    )
    services.release_due(now=when + timedelta(seconds=1))
    _run_jobs()
    post.refresh_from_db()
    assert post.state == State.PUBLISHED
    following = Post.objects.get(series=post)
    assert following.state == State.SCHEDULED and following.approval_current
    assert following.scheduled_at == (when + timedelta(weeks=1)).replace(microsecond=0)
    assert following.variants.count() == 2


def test_a_weekly_post_keeps_its_local_time_across_the_change_to_winter_time(desk: Any) -> None:
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    saturday = datetime(2026, 10, 24, 17, 0, tzinfo=paris)  # summer time; the 25th: winter
    post = services.submit(
        desk.actor(desk.author), _write(desk, scheduled_at=saturday, recurrence="FREQ=WEEKLY")
    )
    services.release_due(now=saturday + timedelta(seconds=1))
    _run_jobs()
    following = Post.objects.get(series=post)
    assert following.scheduled_at.astimezone(paris) == datetime(2026, 10, 31, 17, 0, tzinfo=paris)


def test_an_unreadable_repeat_rule_is_refused(desk: Any) -> None:
    with pytest.raises(PublishingError, match="repeat rule"):
        _write(desk, recurrence="EVERY SATURDAY")


def test_another_organizations_account_is_refused(desk: Any, other_org: Any) -> None:
    from beffroi.sources.models import Source

    theirs = Source.objects.create(organization=other_org, name="P", platform="facebook")
    with pytest.raises(PublishingError, match="not one of the organization's"):
        services.save_post(desk.actor(desk.author), desk.org, [VariantInput(theirs, text="x")])


def test_campaign_parameters_go_only_on_the_organizations_own_links(desk: Any) -> None:
    from beffroi.publishing.sending import published_text

    settings_row = services.settings_of(desk.org)
    settings_row.own_domains = "ville-test.fr"
    settings_row.utm_medium = "social"
    settings_row.save()
    post = _write(
        desk,
        "Inscriptions : https://www.ville-test.fr/famille?x=1 et https://autre.fr/page",
        campaign="rentree",
    )
    text = published_text(post.variants.get(source=desk.mastodon))
    assert "https://www.ville-test.fr/famille?x=1&utm_source=mastodon&utm_medium=social" in text
    assert "utm_campaign=rentree" in text
    assert "https://autre.fr/page" in text and "autre.fr/page?" not in text


def test_a_video_title_goes_out_as_the_first_line_where_the_network_has_titles(
    desk: Any,
) -> None:
    from beffroi.publishing.sending import published_text
    from beffroi.sources.models import DEMO_SETTING, Source

    channel = Source.objects.create(
        organization=desk.org, name="Chaîne", platform="youtube", settings={DEMO_SETTING: True}
    )
    post = services.save_post(
        desk.actor(desk.author),
        desk.org,
        [
            VariantInput(channel, text="Le conseil en direct.", title="Conseil municipal"),
            VariantInput(desk.mastodon, text="Le conseil en direct.", title="Conseil municipal"),
        ],
    )
    # YouTube reads its video's title from the first line; Mastodon has no title.
    assert published_text(post.variants.get(source=channel)) == (
        "Conseil municipal\nLe conseil en direct."
    )
    assert published_text(post.variants.get(source=desk.mastodon)) == "Le conseil en direct."


def test_an_evergreen_post_goes_out_again_in_an_empty_slot_under_its_approval(
    desk: Any, cabinet_workflow: Any
) -> None:
    when = timezone.now() + timedelta(minutes=1)
    post = services.submit(desk.actor(desk.author), _write(desk, scheduled_at=when, evergreen=True))
    post = services.decide(desk.actor(desk.cabinet[0]), post, True)
    with pytest.raises(PublishingError, match="published evergreen"):
        services.publish_again(desk.actor(desk.author), post, when + timedelta(days=7))
    services.release_due(now=when + timedelta(seconds=1))
    _run_jobs()
    post.refresh_from_db()
    again = services.publish_again(desk.actor(desk.author), post, when + timedelta(days=7))
    assert (again.state, again.series_id) == (State.SCHEDULED, post.pk)
    assert again.approval_current and again.content_hash == post.content_hash


def test_a_network_without_publishing_interface_waits_for_a_person_to_post_by_hand(
    desk: Any,
) -> None:
    from beffroi.publishing import sending
    from beffroi.sources.models import Source

    snapchat = Source.objects.create(organization=desk.org, name="Snap", platform="snapchat")
    post = services.save_post(
        desk.actor(desk.author), desk.org, [VariantInput(snapchat, text="Marché de Noël")]
    )
    # Its time came (set directly: the package path is what is shown here).
    Post.objects.filter(pk=post.pk).update(state=State.PUBLISHING)
    variant = post.variants.get()
    assert sending.publish(variant.pk) == PostVariant.State.EXPORTED
    post.refresh_from_db()
    assert post.state == State.PUBLISHING  # not published until a person says so
    services.confirm_published(desk.actor(desk.author), variant, "https://snapchat.com/x")
    post.refresh_from_db()
    variant.refresh_from_db()
    assert (post.state, variant.state) == (State.PUBLISHED, PostVariant.State.PUBLISHED)


def test_an_unattempted_post_edited_still_waits_for_a_person(desk: Any) -> None:
    when = timezone.now() + timedelta(minutes=5)
    post = services.submit(desk.actor(desk.author), _write(desk, scheduled_at=when))
    paused = services.pause(desk.actor(desk.admin), desk.org, "Deuil")
    services.release_due(now=when + timedelta(seconds=1))
    services.resume(desk.actor(desk.admin), paused)
    post.refresh_from_db()
    assert post.state == State.UNATTEMPTED
    post = _write_again(desk, post, "Texte corrigé.", scheduled_at=when)
    assert post.state == State.UNATTEMPTED and post.approval_current
    assert services.release_due(now=when + timedelta(minutes=1)) == 0


def test_an_account_set_up_without_publishing_gets_the_package_its_page_offers(
    desk: Any,
) -> None:
    """The post page offers the package to post by hand where the connector does not publish
    as the source is set up (Telegram read through its web preview); publishing agrees."""
    from beffroi.publishing import limits, sending
    from beffroi.sources.models import Source

    channel = Source.objects.create(
        organization=desk.org,
        name="Canal",
        platform="telegram",
        settings={"method": "web", "channels": "mairie"},
    )
    assert limits.by_hand(channel) and not limits.publishes_by_api(channel)
    post = services.save_post(
        desk.actor(desk.author), desk.org, [VariantInput(channel, text="Marché de Noël")]
    )
    Post.objects.filter(pk=post.pk).update(state=State.PUBLISHING)
    assert sending.publish(post.variants.get().pk) == PostVariant.State.EXPORTED
