"""The publishing desk's only writers: posts written, submitted, approved or sent back,
scheduled, suspended; the crisis pause; the time of each post coming.

Every change checks its rule here, writes, and records the audit trail. Posts are published by
jobs (:mod:`beffroi.publishing.sending`), never in a request.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from dateutil.rrule import rrulestr
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from beffroi.audit.actions import AuditAction
from beffroi.audit.services import Actor, record
from beffroi.organizations.models import Organization
from beffroi.publishing import approval, pausing, replies
from beffroi.publishing.limits import variant_problems
from beffroi.publishing.models import (
    Approval,
    ApprovalStep,
    ExternalApprovalLink,
    MediaAsset,
    Pause,
    PauseWindow,
    Post,
    PostComment,
    PostLabel,
    PostVariant,
    PublishingSettings,
    VariantMedia,
    snapshot,
)
from beffroi.publishing.queue import request_publish
from beffroi.publishing.signals import post_published
from beffroi.sources.models import Source

State = Post.State

#: States in which a post's content may still change (a change after approval sends it back
#: to review).
EDITABLE = (
    State.DRAFT,
    State.IN_REVIEW,
    State.APPROVED,
    State.SCHEDULED,
    State.APPROVAL_EXPIRED,
    State.SUSPENDED,
    State.UNATTEMPTED,
    State.FAILED,
)
#: States that wait for their time with a current approval.
READY = (State.APPROVED, State.SCHEDULED, State.UNATTEMPTED)

EXTERNAL_LINK_DAYS = 3


class PublishingError(Exception):
    """A refused action, with a sentence for the person (translated) and, where a caller
    answers differently by cause, a ``code`` (``invalid``, ``expired``, ``used``,
    ``changed``…)."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


@dataclass
class VariantInput:
    """What a person wrote for one account."""

    source: Source
    text: str = ""
    title: str = ""
    link: str = ""
    first_comment: str = ""
    media: Sequence[MediaAsset] = field(default_factory=tuple)


def settings_of(organization: Organization) -> PublishingSettings:
    found, _created = PublishingSettings.objects.get_or_create(organization=organization)
    return found


def _locked(post: Post) -> Post:
    return Post.objects.select_for_update().get(pk=post.pk)


def record_event(actor: Actor, action: AuditAction, post: Post, **after: Any) -> None:
    record(
        actor,
        action,
        organization=post.organization,
        obj=post,
        after={**snapshot(post), **after},
    )


# --- writing --------------------------------------------------------------------------------


def check_recurrence(rule: str, start: datetime | None) -> None:
    if not rule:
        return
    try:
        rrulestr(rule, dtstart=start or timezone.now())
    except (ValueError, TypeError) as exc:
        raise PublishingError(
            _("The repeat rule cannot be read (%(error)s).") % {"error": exc}
        ) from exc


def _check_inputs(organization: Organization, variants: Sequence[VariantInput]) -> None:
    if not variants:
        raise PublishingError(_("Choose at least one account to publish from."))
    seen: set[int] = set()
    for variant in variants:
        if variant.source.organization_id != organization.pk:
            raise PublishingError(_("This account is not one of the organization's."))
        if variant.source.pk in seen:
            raise PublishingError(_("Each account takes one variant of the post."))
        seen.add(variant.source.pk)
        for media in variant.media:
            if media.organization_id != organization.pk:
                raise PublishingError(_("This media is not in the organization's library."))


def _write_variants(post: Post, variants: Sequence[VariantInput]) -> None:
    kept = {variant.source.pk for variant in variants}
    post.variants.exclude(source_id__in=kept).delete()
    for wanted in variants:
        variant, _created = PostVariant.objects.get_or_create(post=post, source=wanted.source)
        variant.text = wanted.text
        variant.title = wanted.title
        variant.link = wanted.link
        variant.first_comment = wanted.first_comment
        variant.save()
        current = list(variant.variantmedia_set.order_by("position", "id"))
        if [attached.media_id for attached in current] != [media.pk for media in wanted.media]:
            variant.variantmedia_set.all().delete()
            VariantMedia.objects.bulk_create(
                VariantMedia(variant=variant, media=media, position=index)
                for index, media in enumerate(wanted.media)
            )


def _labels(organization: Organization, names: Iterable[str]) -> list[PostLabel]:
    labels = []
    for name in {name.strip()[:60] for name in names if name.strip()}:
        label, _created = PostLabel.objects.get_or_create(organization=organization, name=name)
        labels.append(label)
    return labels


def save_post(
    actor: Actor,
    organization: Organization,
    variants: Sequence[VariantInput],
    *,
    post: Post | None = None,
    title: str = "",
    kind: str = Post.Kind.POST,
    scheduled_at: datetime | None = None,
    labels: Iterable[str] = (),
    campaign: str = "",
    recurrence: str = "",
    evergreen: bool = False,
    in_reply_to: Any = None,
) -> Post:
    """Write a new draft, or change a post; a change of content after its approval sends it
    back to review (the approval was given to what it said before)."""
    _check_inputs(organization, variants)
    check_recurrence(recurrence, scheduled_at)
    with transaction.atomic():
        if post is None:
            post = Post(organization=organization, author=actor.user, kind=kind)
            created = True
        else:
            post = _locked(post)
            if post.state not in EDITABLE:
                raise PublishingError(
                    _("A post that is being published or was published cannot change.")
                )
            created = False
        before = snapshot(post)
        post.title = (title or (variants[0].text if variants else "")).strip()[:200] or _(
            "Untitled post"
        )
        retimed = not created and post.scheduled_at != scheduled_at
        post.scheduled_at = scheduled_at
        post.campaign = campaign.strip()[:100]
        post.recurrence = recurrence.strip()
        post.evergreen = evergreen
        if in_reply_to is not None:
            post.in_reply_to = in_reply_to
        post.save()
        _write_variants(post, variants)
        post.labels.set(_labels(organization, labels))
        post.content_hash = approval.content_hash(post)
        sent_back = (
            not created
            and post.state in (State.IN_REVIEW, *READY)
            and before["content_hash"] != post.content_hash
        )
        if sent_back:
            post.state = State.IN_REVIEW if approval.needs_approval(post) else post.state
            post.review_step = 0
            post.approved_hash = ""
            post.approved_at = None
            if post.state != State.IN_REVIEW:
                # No workflow applies: the author's own word is the approval.
                _approve_for_content(post)
                if before["state"] == State.UNATTEMPTED and not retimed:
                    # Its time passed during a pause: it still waits for a person's "now"
                    # or a new time, not for the next sweep.
                    post.state = State.UNATTEMPTED
        if retimed and post.state in READY and post.approval_current:
            # A new time for an approved post: it waits for that time (or for a person).
            post.state = State.SCHEDULED if scheduled_at is not None else State.APPROVED
        if post.state == State.IN_REVIEW:
            post.approve_by = _approve_by(post)
        post.save()
        record_event(actor, AuditAction.POST_CREATE if created else AuditAction.POST_EDIT, post)
        if sent_back and post.state == State.IN_REVIEW:
            record_event(
                actor, AuditAction.POST_BACK_TO_REVIEW, post, before=before["content_hash"]
            )
    return post


def problems(post: Post) -> dict[int, list[Any]]:
    """What stops each variant from going out (length, media, alt text…), by variant id."""
    return {
        variant.pk: found
        for variant in post.variants.select_related("source")
        if (found := variant_problems(variant))
    }


def submit(actor: Actor, post: Post) -> Post:
    """Ask for approval (or approve at once where no workflow applies)."""
    with transaction.atomic():
        post = _locked(post)
        if post.state not in (State.DRAFT, State.APPROVAL_EXPIRED, State.FAILED):
            raise PublishingError(_("Only a draft can be submitted."))
        if problems(post):
            raise PublishingError(
                _("The post cannot go further: fix what is said under each account.")
            )
        now = timezone.now()
        post.content_hash = approval.content_hash(post)
        post.submitted_at = now
        post.review_step = 0
        post.state_reason = ""
        if approval.needs_approval(post):
            post.state = State.IN_REVIEW
            post.approve_by = _approve_by(post)
            post.save()
            record_event(actor, AuditAction.POST_SUBMIT, post)
        else:
            record_event(actor, AuditAction.POST_SUBMIT, post)
            _approve_for_content(post)
            post.save()
            record_event(actor, AuditAction.POST_APPROVE, post, without_workflow=True)
    return post


def _approve_by(post: Post) -> datetime | None:
    if post.scheduled_at is None:
        return None
    hours = settings_of(post.organization).approval_hours
    return post.scheduled_at - timedelta(hours=hours)


def _approve_for_content(post: Post) -> None:
    post.approved_hash = post.content_hash
    post.approved_at = timezone.now()
    post.approve_by = None
    post.state = State.SCHEDULED if post.scheduled_at is not None else State.APPROVED


def _current_step(post: Post) -> tuple[list[ApprovalStep], ApprovalStep]:
    steps = approval.steps_for(post)
    if post.review_step >= len(steps):
        raise PublishingError(_("This post has no approval step left to give."))
    return steps, steps[post.review_step]


def decide(
    actor: Actor,
    post: Post,
    approve: bool,
    comment: str = "",
    *,
    seen_hash: str | None = None,
    external_name: str = "",
) -> Post:
    """An approver's decision on the post's current step, bound to the content they saw
    (``seen_hash``: refused when the post changed since)."""
    with transaction.atomic():
        post = _locked(post)
        if post.state != State.IN_REVIEW:
            raise PublishingError(_("This post is not waiting for an approval."))
        if seen_hash is not None and seen_hash != post.content_hash:
            raise PublishingError(
                _("The post changed since you opened it: read it again before deciding.")
            )
        steps, step = _current_step(post)
        if not external_name:
            why = approval.refusal(actor.user, post, approve)
            if why is not None:
                raise PublishingError(why)
        Approval.objects.create(
            post=post,
            step=step,
            step_index=post.review_step,
            user=actor.user if not external_name else None,
            external_name=external_name,
            decision=Approval.Decision.APPROVE if approve else Approval.Decision.REJECT,
            content_hash=post.content_hash,
            comment=comment,
        )
        if not approve:
            post.state = State.DRAFT
            post.review_step = 0
            post.state_reason = comment
            post.save()
            record_event(actor, AuditAction.POST_REJECT, post, comment=comment)
        else:
            if approval.step_passed(step, approval.approvals_of_step(post, post.review_step)):
                post.review_step += 1
                if post.review_step >= len(steps):
                    _approve_for_content(post)
            post.save()
            record_event(actor, AuditAction.POST_APPROVE, post, step=step.name, comment=comment)
        replies.on_decided(actor, post)
    return post


def schedule(actor: Actor, post: Post, when: datetime | None) -> Post:
    """Set or change a post's time (a drag in the calendar). An approved post keeps its
    approval: the time is not its content."""
    with transaction.atomic():
        post = _locked(post)
        if post.state in (State.PUBLISHING, State.PUBLISHED):
            raise PublishingError(_("This post is already out: its time cannot change."))
        post.scheduled_at = when
        if post.state in READY and post.approval_current:
            post.state = State.SCHEDULED if when is not None else State.APPROVED
            post.state_reason = ""
        if post.state == State.IN_REVIEW:
            post.approve_by = _approve_by(post)
        post.save()
        record_event(actor, AuditAction.POST_SCHEDULE, post)
    return post


def publish_now(actor: Actor, post: Post) -> Post:
    """Put an approved post (one left unattempted by a pause included) out now."""
    post.refresh_from_db()
    if post.state not in READY or not post.approval_current:
        raise PublishingError(_("Only an approved post can be published."))
    post = schedule(actor, post, timezone.now())
    release_due()
    post.refresh_from_db()
    return post


def suspend(actor: Actor, post: Post, reason: str) -> Post:
    with transaction.atomic():
        post = _locked(post)
        if post.state not in (State.IN_REVIEW, *READY):
            raise PublishingError(_("Only a post waiting for approval or its time is suspended."))
        post.state = State.SUSPENDED
        post.state_reason = reason
        post.save()
        record_event(actor, AuditAction.POST_SUSPEND, post, reason=reason)
    return post


def reinstate(actor: Actor, post: Post) -> Post:
    """A suspended post goes back where it was: waiting for its time if its approval holds,
    to review otherwise."""
    with transaction.atomic():
        post = _locked(post)
        if post.state != State.SUSPENDED:
            raise PublishingError(_("This post is not suspended."))
        if post.approval_current:
            post.state = State.SCHEDULED if post.scheduled_at else State.APPROVED
        elif approval.needs_approval(post):
            post.state = State.IN_REVIEW
        else:
            post.state = State.DRAFT
        post.state_reason = ""
        post.save()
        record_event(actor, AuditAction.POST_SCHEDULE, post)
    return post


def add_comment(actor: Actor, post: Post, body: str, *, external_name: str = "") -> PostComment:
    body = body.strip()
    if not body:
        raise PublishingError(_("Write a comment first."))
    comment = PostComment.objects.create(
        post=post,
        author=actor.user if not external_name else None,
        external_name=external_name,
        body=body[:5000],
    )
    record_event(actor, AuditAction.POST_COMMENT, post)
    return comment


# --- the external approval link ----------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_external_link(
    actor: Actor, post: Post, name: str, email: str = "", days: int = EXTERNAL_LINK_DAYS
) -> tuple[ExternalApprovalLink, str]:
    """A link for someone without an account to approve the current step; the token is
    returned once (only its hash is kept) and is bound to the content it shows."""
    if post.state != State.IN_REVIEW:
        raise PublishingError(_("This post is not waiting for an approval."))
    _steps, step = _current_step(post)
    if not step.allow_external:
        raise PublishingError(_("This step is approved by members only."))
    if not name.strip():
        raise PublishingError(_("Say who the link is for."))
    token = secrets.token_urlsafe(32)
    link = ExternalApprovalLink.objects.create(
        post=post,
        step_index=post.review_step,
        name=name.strip()[:120],
        email=email,
        token_hash=_token_hash(token),
        content_hash=post.content_hash,
        expires_at=timezone.now() + timedelta(days=days),
        created_by=actor.user,
    )
    record_event(actor, AuditAction.POST_EXTERNAL_LINK, post, link_for=link.name)
    return link, token


def external_link(token: str) -> ExternalApprovalLink:
    """The live link of ``token``, or a refusal that says why (expired, used, changed)."""
    link = (
        ExternalApprovalLink.objects.select_related("post", "post__organization")
        .filter(token_hash=_token_hash(token))
        .first()
    )
    if link is None or link.revoked_at is not None:
        raise PublishingError(_("This approval link is not valid."), "invalid")
    if link.used_at is not None:
        raise PublishingError(_("This approval link was already used."), "used")
    if link.expires_at <= timezone.now():
        raise PublishingError(_("This approval link has expired: ask for a new one."), "expired")
    post = link.post
    if (
        post.state != State.IN_REVIEW
        or post.content_hash != link.content_hash
        or post.review_step != link.step_index
    ):
        raise PublishingError(
            _("The post changed since this link was made: ask for a new one to see it as it is."),
            "changed",
        )
    return link


def external_decide(token: str, approve: bool, comment: str = "") -> Post:
    with transaction.atomic():
        link = external_link(token)
        link = ExternalApprovalLink.objects.select_for_update().get(pk=link.pk)
        if link.used_at is not None:
            raise PublishingError(_("This approval link was already used."), "used")
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
        actor = Actor(None, "ui", f"{link.name} (external link)")
        return decide(
            actor,
            link.post,
            approve,
            comment,
            seen_hash=link.content_hash,
            external_name=link.name,
        )


# --- the time of each post -----------------------------------------------------------------


def release_due(now: datetime | None = None, organization_id: int | None = None) -> int:
    """Posts whose time came: published unless a pause or window stops them (then left
    *unattempted* for a person: no burst when it ends); posts still in review when their
    approval was due expire (never published). Returns how many were handed to publishing."""
    now = now or timezone.now()
    posts = Post.objects.all()
    if organization_id is not None:
        posts = posts.filter(organization_id=organization_id)
    expired = posts.filter(state=State.IN_REVIEW).filter(
        Q(approve_by__lte=now) | Q(approve_by__isnull=True, scheduled_at__lte=now)
    )
    for post in expired.select_related("organization"):
        with transaction.atomic():
            if Post.objects.filter(pk=post.pk, state=State.IN_REVIEW).update(
                state=State.APPROVAL_EXPIRED, state_reason="not approved in time"
            ):
                post.state = State.APPROVAL_EXPIRED
                record_event(Actor.system("publishing"), AuditAction.POST_EXPIRED, post)
    released = 0
    due = posts.filter(state=State.SCHEDULED, scheduled_at__lte=now).select_related("organization")
    for post in due.order_by("scheduled_at", "id"):
        released += _release(post, now)
    return released


def _release(post: Post, now: datetime) -> int:
    if post.reply_id is not None:
        return 0  # sent by the answering desk once approved
    with transaction.atomic():
        if not post.approval_current:
            # Changed since its approval without passing review: never out as it is.
            Post.objects.filter(pk=post.pk, state=State.SCHEDULED).update(
                state=State.IN_REVIEW, review_step=0
            )
            return 0
        block = pausing.block_for(post, now)
        if block is not None:
            if Post.objects.filter(pk=post.pk, state=State.SCHEDULED).update(
                state=State.UNATTEMPTED, state_reason=block.reason
            ):
                post.state = State.UNATTEMPTED
                record_event(
                    Actor.system("publishing"), AuditAction.POST_UNATTEMPTED, post, why=block.reason
                )
            return 0
        # One winner when sweeps overlap (two workers).
        if not Post.objects.filter(pk=post.pk, state=State.SCHEDULED).update(
            state=State.PUBLISHING
        ):
            return 0
        post.state = State.PUBLISHING
        record_event(Actor.system("publishing"), AuditAction.POST_PUBLISHING, post)
        variant_ids = list(
            post.variants.filter(
                state__in=(PostVariant.State.PENDING, PostVariant.State.FAILED)
            ).values_list("id", flat=True)
        )
        PostVariant.objects.filter(pk__in=variant_ids).update(state=PostVariant.State.PENDING)
        for variant_id in variant_ids:
            transaction.on_commit(partial(request_publish, variant_id))
    return 1


def settle(post_id: int) -> str:
    """The post's state from its variants' once none is being sent: published when all went
    out, unattempted when a pause held some back, failed otherwise."""
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=post_id)
        if post.state != State.PUBLISHING:
            return post.state
        states = list(post.variants.values_list("state", "reason"))
        # Still being sent, looked for on its account, or waiting for a person to post it
        # by hand and say so.
        if post.variants.filter(
            Q(state__in=(PostVariant.State.PUBLISHING, PostVariant.State.EXPORTED))
            | Q(state=PostVariant.State.UNKNOWN, check_at__isnull=False)
        ).exists():
            return post.state
        pending = [reason for state, reason in states if state == PostVariant.State.PENDING]
        if pending and all(reason == "paused" for reason in pending):
            post.state = State.UNATTEMPTED
            post.state_reason = "paused"
        elif pending:
            return post.state
        elif all(
            state in (PostVariant.State.PUBLISHED, PostVariant.State.SIMULATED)
            for state, _reason in states
        ):
            post.state = State.PUBLISHED
            post.published_at = timezone.now()
            post.state_reason = ""
        else:
            post.state = State.FAILED
        post.save()
    if post.state == State.PUBLISHED and post.recurrence:
        _next_occurrence(post)
    return post.state


def _next_occurrence(post: Post) -> Post | None:
    """A repeating post (the weekly market) gets its next occurrence, approved as the
    series was: the same content."""
    assert post.scheduled_at is not None
    # Counted in local wall-clock time: the 17:00 market stays at 17:00 across a DST change.
    zone = timezone.get_default_timezone()
    start = timezone.localtime(post.scheduled_at, zone).replace(tzinfo=None, microsecond=0)
    rule = rrulestr(post.recurrence, dtstart=start)
    local_next = rule.after(start)
    if local_next is None:
        return None
    following = timezone.make_aware(local_next, zone)
    return _copy(post, following, series=post.series or post, recurrence=post.recurrence)


def _copy(post: Post, when: datetime, *, series: Post, recurrence: str = "") -> Post:
    """Another publication of ``post``'s content at ``when``: the same content, so the same
    approval holds (the copy's hash is computed, not assumed)."""
    occurrence = Post.objects.create(
        organization=post.organization,
        author=post.author,
        title=post.title,
        kind=post.kind,
        state=State.SCHEDULED,
        approved_hash=post.approved_hash,
        approved_at=post.approved_at,
        scheduled_at=when,
        campaign=post.campaign,
        recurrence=recurrence,
        series=series,
        evergreen=post.evergreen,
    )
    occurrence.labels.set(post.labels.all())
    for variant in post.variants.all():
        copy = PostVariant.objects.create(
            post=occurrence,
            source=variant.source,
            text=variant.text,
            title=variant.title,
            link=variant.link,
            first_comment=variant.first_comment,
        )
        VariantMedia.objects.bulk_create(
            VariantMedia(variant=copy, media_id=attached.media_id, position=attached.position)
            for attached in variant.variantmedia_set.all()
        )
    occurrence.content_hash = approval.content_hash(occurrence)
    if not occurrence.approval_current:
        occurrence.state = State.IN_REVIEW if approval.needs_approval(occurrence) else State.DRAFT
    occurrence.save(update_fields=["content_hash", "state"])
    return occurrence


def publish_again(actor: Actor, post: Post, when: datetime) -> Post:
    """An evergreen post, published before, goes out again in an empty slot: a copy at
    ``when``, under the approval its content has."""
    if not post.evergreen or post.state != State.PUBLISHED:
        raise PublishingError(_("Only a published evergreen post is published again."))
    if when <= timezone.now():
        raise PublishingError(_("Choose a time to come."))
    with transaction.atomic():
        copy = _copy(post, when, series=post.series or post)
        record_event(actor, AuditAction.POST_SCHEDULE, copy, again_from=post.pk)
    return copy


def retry_variant(actor: Actor, variant: PostVariant) -> PostVariant:
    """Send a failed variant again, or one whose outcome was unknown once a person checked
    the platform and did not find it."""
    with transaction.atomic():
        variant = PostVariant.objects.select_for_update().select_related("post").get(pk=variant.pk)
        if variant.state not in (PostVariant.State.FAILED, PostVariant.State.UNKNOWN):
            raise PublishingError(
                _("Only a failed post, or one of unknown outcome, is sent again.")
            )
        post = _locked(variant.post)
        block = pausing.block_for(post, timezone.now(), variant.source_id)
        if block is not None:
            raise PublishingError(
                _("Publishing is paused (%(reason)s): nothing goes out until it resumes.")
                % {"reason": block.reason}
            )
        variant.state = PostVariant.State.PENDING
        variant.reason = ""
        variant.detail = ""
        variant.check_at = None
        variant.save(update_fields=["state", "reason", "detail", "check_at"])
        post.state = State.PUBLISHING
        post.save(update_fields=["state"])
        record_event(actor, AuditAction.POST_RETRY, post, variant=variant.pk)
        transaction.on_commit(lambda: request_publish(variant.pk))
    return variant


def confirm_published(actor: Actor, variant: PostVariant, url: str = "") -> PostVariant:
    """A person checked the platform: the post of unknown outcome is there (or they posted
    by hand the package of a network without a publishing interface)."""
    with transaction.atomic():
        variant = PostVariant.objects.select_for_update().get(pk=variant.pk)
        if variant.state not in (PostVariant.State.UNKNOWN, PostVariant.State.EXPORTED):
            raise PublishingError(
                _("Only a post of unknown outcome, or one to post by hand, is confirmed.")
            )
        variant.state = PostVariant.State.PUBLISHED
        variant.check_at = None
        variant.published_at = timezone.now()
        if url.startswith(("https://", "http://")):
            variant.url = url[:1000]
        variant.save()
        post = Post.objects.get(pk=variant.post_id)
        if post.state == State.FAILED:
            Post.objects.filter(pk=post.pk).update(state=State.PUBLISHING)
        record_event(actor, AuditAction.POST_CONFIRM, post, variant=variant.pk)
        confirmed = variant
        transaction.on_commit(
            lambda: post_published.send(sender=PostVariant, post=post, variant=confirmed)
        )
    settle(variant.post_id)
    return variant


# --- the pause -------------------------------------------------------------------------------


def pause(
    actor: Actor,
    organization: Organization,
    reason: str,
    *,
    source: Source | None = None,
    label: PostLabel | None = None,
    wait_seconds: float = pausing.WAIT_FOR_CALLS_SECONDS,
) -> Pause:
    """Stop publishing (the organization, one account, or a label's posts). Returns once it
    is confirmed: from ``confirmed_at`` on, nothing more reaches a platform."""
    reason = reason.strip()
    if not reason:
        raise PublishingError(_("Say why publishing is paused: everyone will read it."))
    if source is not None and source.organization_id != organization.pk:
        raise PublishingError(_("This account is not one of the organization's."))
    if label is not None and label.organization_id != organization.pk:
        raise PublishingError(_("This label is not one of the organization's."))
    scope = (
        Pause.Scope.SOURCE
        if source is not None
        else Pause.Scope.LABEL
        if label is not None
        else Pause.Scope.ORGANIZATION
    )
    with transaction.atomic():
        paused = Pause.objects.create(
            organization=organization,
            scope=scope,
            source=source,
            label=label,
            reason=reason[:2000],
            started_by=actor.user,
            started_at=timezone.now(),
        )
    # Committed: from here no publisher starts a call; those already calling get their answer.
    paused.in_flight = pausing.wait_for_calls(paused, wait_seconds)
    paused.confirmed_at = timezone.now()
    paused.save(update_fields=["in_flight", "confirmed_at"])
    record(
        actor,
        AuditAction.PUBLISHING_PAUSE,
        organization=organization,
        obj=paused,
        after={
            "scope": scope,
            "source": source.pk if source else None,
            "label": label.name if label else None,
            "reason": paused.reason,
            "confirmed_at": paused.confirmed_at.isoformat(),
            "in_flight": paused.in_flight,
        },
    )
    return paused


def resume(actor: Actor, paused: Pause) -> Pause:
    """End a pause. The posts whose time passed meanwhile stay *unattempted* until a person
    publishes or reschedules each."""
    with transaction.atomic():
        paused = Pause.objects.select_for_update().get(pk=paused.pk)
        if paused.ended_at is not None:
            raise PublishingError(_("This pause has already ended."))
        paused.ended_at = timezone.now()
        paused.ended_by = actor.user
        paused.save(update_fields=["ended_at", "ended_by"])
        record(
            actor,
            AuditAction.PUBLISHING_RESUME,
            organization=paused.organization,
            obj=paused,
            after={"scope": paused.scope, "reason": paused.reason},
        )
    return paused


def save_window(
    actor: Actor,
    organization: Organization,
    name: str,
    starts_at: datetime,
    ends_at: datetime,
    reason: str = "",
    window: PauseWindow | None = None,
) -> PauseWindow:
    if ends_at <= starts_at:
        raise PublishingError(_("The period must end after it starts."))
    window = window or PauseWindow(organization=organization, created_by=actor.user)
    window.name = name.strip()[:120] or _("Period without publishing")
    window.starts_at = starts_at
    window.ends_at = ends_at
    window.reason = reason
    window.save()
    record(
        actor,
        AuditAction.PAUSE_WINDOW_SAVE,
        organization=organization,
        obj=window,
        after={"name": window.name, "from": starts_at.isoformat(), "until": ends_at.isoformat()},
    )
    return window


def delete_window(actor: Actor, window: PauseWindow) -> None:
    record(
        actor,
        AuditAction.PAUSE_WINDOW_DELETE,
        organization=window.organization,
        obj=window,
        before={"name": window.name},
    )
    window.delete()
