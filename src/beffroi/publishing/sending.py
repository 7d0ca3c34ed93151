"""Publishing one variant of a post through its account's connector, exactly once.

As replies are sent (:mod:`beffroi.conversations.sending`): the variant's ``key`` names its
publication for every attempt (platforms that honour an idempotency key get it), and
``calling_since`` is committed just before the platform is called and cleared with its
answer. An attempt that finds it set follows one that died during the call, which may have
published: the variant becomes *unknown* (never published twice by itself). A call whose
answer was lost (:class:`~beffroi.connectors.base.OutcomeUnknown`) makes it *unknown* too.

Where the platform lists the account's own posts (``Connector.lists_own_posts``), a variant
of unknown outcome is not left to a person at once: Beffroi looks for it on the account
(:mod:`beffroi.publishing.reconciling`), and finds it published or sends it again. Elsewhere
(Telegram, or a text made only of links) a person checks, confirms it or sends it again.

Where the platform recognises a repeat of the same key (``Connector.idempotent_publish``:
Mastodon's ``Idempotency-Key``, Bluesky's record key), an interrupted attempt, or one whose
answer was lost, is simply made again: the platform answers with the post already there, or
publishes it once.

The pause is read *after* the mark is committed (:mod:`beffroi.publishing.pausing`): a pause
confirmed before the read stops the call; one written after it waits for the call's answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from beffroi.analysis.utm import add_utm
from beffroi.audit.actions import AuditAction
from beffroi.audit.services import Actor, record
from beffroi.connectors import reconcile
from beffroi.connectors.base import (
    ActionResult,
    AuthError,
    ConnectorError,
    Media,
    OutcomeUnknown,
)
from beffroi.core.logging import redact
from beffroi.publishing import limits, pausing
from beffroi.publishing.models import MediaAsset, Post, PostVariant, PublishingSettings
from beffroi.publishing.queue import request_check, request_metrics
from beffroi.publishing.signals import post_published
from beffroi.sources.credentials import credentials_refused, ready_connector
from beffroi.sources.failures import (
    REASON_REFUSED,
    REASON_UNCONFIRMED,
    REASON_UPLOAD,
    failure_of,
)

#: Why a variant was not published, beyond the platform reasons of
#: :mod:`beffroi.sources.failures`: an attempt stopped during the call (it may have
#: published), or a pause held it back.
REASON_INTERRUPTED = "interrupted"
REASON_PAUSED = "paused"
#: A platform without a publishing API (Snapchat): a package to post by hand.
REASON_MANUAL = "manual"

#: After an interrupted call, when the account is first looked at (a platform may take a
#: moment to list what it just published).
FIRST_LOOK = timedelta(minutes=1)
#: After a lost answer, when a platform that recognises a repeated key is asked again.
ASK_AGAIN_SECONDS = 30.0
#: Calls a variant may make before its unknown outcome goes to a person instead of another
#: look and another attempt.
MAX_CALLS_BEFORE_A_PERSON = 3

PLATFORM_ACTOR = Actor.system("platform")
AUDITED_DETAIL_CHARS = 500
#: How long a platform may take to fetch a media by its signed address.
MEDIA_LINK_SECONDS = 24 * 3600
MEDIA_SALT = "beffroi.publishing.media"


class PublishLater(Exception):
    """The platform asked to come back later; the variant waits its turn."""

    def __init__(self, message: str, delay: float) -> None:
        super().__init__(message)
        self.delay = delay


def media_url(media: MediaAsset) -> str:
    """A signed, expiring public address of a library file, for platforms that fetch media
    by address (Instagram, TikTok)."""
    token = signing.dumps({"media": media.pk, "sha": media.sha256}, salt=MEDIA_SALT)
    path = reverse("publishing_public:media", args=[token])
    return f"{settings.BEFFROI_PUBLIC_URL}{path}"


def media_of_token(token: str) -> MediaAsset | None:
    """The library file a signed address stands for, or None when forged or expired."""
    try:
        value = signing.loads(token, salt=MEDIA_SALT, max_age=MEDIA_LINK_SECONDS)
    except signing.BadSignature:
        return None
    return MediaAsset.objects.filter(pk=value.get("media"), sha256=value.get("sha")).first()


def _media(variant: PostVariant) -> tuple[Media, ...]:
    return tuple(
        Media(
            kind=attached.media.kind,
            url=media_url(attached.media),
            description=attached.media.alt_text,
        )
        for attached in variant.variantmedia_set.select_related("media").order_by("position", "id")
    )


def utm_parameters(variant: PostVariant, found: PublishingSettings) -> dict[str, str]:
    """The campaign parameters of the organization's settings: the source names the network
    unless set, the campaign is the post's own when it has one."""
    values = {
        "utm_source": found.utm_source or variant.source.platform,
        "utm_medium": found.utm_medium,
        "utm_campaign": variant.post.campaign or found.utm_campaign,
    }
    return {name: value for name, value in values.items() if value}


def published_text(variant: PostVariant) -> str:
    """What goes out: the text, its separate link (on networks without a link field), the
    organization's own links tagged with its campaign parameters."""
    text = variant.text
    connector = limits.connector_of(variant.source.platform)
    network = connector.post_limits if connector is not None else None
    if network is not None and network.title_max_length and variant.title.strip():
        # The connector reads the first line as the title (YouTube's video title).
        text = f"{variant.title.strip()}\n{text}"
    if variant.link and variant.link not in text:
        text = f"{text}\n{variant.link}".strip()
    found = PublishingSettings.objects.filter(organization_id=variant.post.organization_id).first()
    domains = found.domains() if found is not None else []
    if found is None or not domains:
        return text
    return add_utm(text, domains, utm_parameters(variant, found))


def check_time(variant: PostVariant) -> datetime | None:
    """When to look for a variant of unknown outcome on its account, or None when a person
    checks: the platform cannot list the account's posts, the text cannot be told apart
    from another, or it was sent too many times already."""
    connector = limits.connector_of(variant.source.platform)
    if (
        connector is None
        or variant.source.is_demo
        or variant.source.is_upload
        or not connector.lists_own_posts
        or variant.call_started_at is None
        or variant.attempts >= MAX_CALLS_BEFORE_A_PERSON
        or not reconcile.can_tell(published_text(variant))
    ):
        return None
    return timezone.now() + FIRST_LOOK


def _call(variant: PostVariant) -> ActionResult:
    connector = ready_connector(variant.source)
    try:
        return connector.publish(
            published_text(variant), _media(variant), idempotency_key=str(variant.key)
        )
    finally:
        connector.close()


def finish_variant(
    variant: PostVariant,
    state: str,
    *,
    reason: str = "",
    detail: str = "",
    result: ActionResult | None = None,
    check_at: datetime | None = None,
) -> None:
    now = timezone.now()
    with transaction.atomic():
        variant.state = state
        variant.reason = reason
        variant.detail = detail
        variant.calling_since = None
        variant.check_at = check_at
        if result is not None:
            variant.platform_id = result.platform_id or ""
            url = result.url
            variant.url = url[:1000] if url.startswith(("https://", "http://")) else ""
        if state in (PostVariant.State.PUBLISHED, PostVariant.State.SIMULATED):
            variant.published_at = now
            transaction.on_commit(
                lambda: post_published.send(sender=PostVariant, post=variant.post, variant=variant)
            )
        variant.save()
        outcomes: dict[str, AuditAction] = {
            PostVariant.State.PUBLISHED: AuditAction.POST_PUBLISHED,
            PostVariant.State.SIMULATED: AuditAction.POST_SIMULATED,
            PostVariant.State.FAILED: AuditAction.POST_FAILED,
            PostVariant.State.UNKNOWN: AuditAction.POST_UNKNOWN,
        }
        action = outcomes.get(state)
        if action is not None:
            post = variant.post
            record(
                PLATFORM_ACTOR,
                action,
                organization=post.organization,
                obj=post,
                after={
                    "variant": variant.pk,
                    "account": variant.source_id,
                    "state": state,
                    "reason": reason,
                    "detail": redact(detail)[:AUDITED_DETAIL_CHARS],
                    "platform_id": variant.platform_id,
                    "attempt": variant.attempts,
                    **({"check_at": check_at.isoformat()} if check_at is not None else {}),
                },
            )
    if check_at is not None:
        request_check(variant.pk, delay=(check_at - now).total_seconds())


def _into_the_inbox(variant: PostVariant, result: ActionResult) -> None:
    """The published post becomes an item of its account: the comments it gathers join it in
    the inbox, and the desk's conversations start from it."""
    if result.item is None:
        return
    from beffroi.items.ingest import ingest
    from beffroi.items.models import Item

    ingest(variant.source, [result.item])
    item = Item.objects.filter(source=variant.source, platform_id=result.item.platform_id).first()
    if item is not None:
        PostVariant.objects.filter(pk=variant.pk).update(item=item)


def _first_comment(variant: PostVariant, platform_id: str) -> None:
    """The first comment under the published post. The post is out whatever happens here:
    a refusal is kept beside it (shown on the post's page), never a reason to publish
    again."""
    connector = ready_connector(variant.source)
    try:
        answer = connector.comment_on_own_post(
            platform_id, variant.first_comment, idempotency_key=f"{variant.key}-comment"
        )
    except ConnectorError as exc:
        PostVariant.objects.filter(pk=variant.pk).update(first_comment_error=str(exc)[:2000])
    else:
        PostVariant.objects.filter(pk=variant.pk).update(
            first_comment_id=answer.platform_id or "",
            first_comment_error="" if answer.ok else answer.detail[:2000],
        )
    finally:
        connector.close()


def read_metrics(variant_id: int) -> dict[str, int]:
    """What the published post gathered so far, read back into its item in the inbox."""
    variant = PostVariant.objects.select_related("source", "item").filter(pk=variant_id).first()
    if variant is None or variant.item is None or not variant.platform_id:
        return {}
    connector = ready_connector(variant.source)
    try:
        metrics = connector.post_metrics(variant.platform_id)
    finally:
        connector.close()
    item = variant.item
    item.metrics = {**(item.metrics or {}), **metrics}
    item.save(update_fields=["metrics"])
    return metrics


def published(variant: PostVariant, result: ActionResult, *, detail: str) -> None:
    """The variant is on the platform: recorded, put in the inbox, its first comment posted
    and its first figures asked for."""
    finish_variant(variant, PostVariant.State.PUBLISHED, detail=detail, result=result)
    after_publication(variant, result)


def after_publication(variant: PostVariant, result: ActionResult) -> None:
    """What follows a publication (outside any lock: the first comment calls the platform)."""
    _into_the_inbox(variant, result)
    if variant.first_comment.strip() and result.platform_id and not variant.first_comment_id:
        _first_comment(variant, result.platform_id)
    request_metrics(variant.pk)


def _resend_is_safe(variant: PostVariant) -> bool:
    connector = limits.connector_of(variant.source.platform)
    return connector is not None and connector.idempotent_publish


def _held_back(variant: PostVariant, why: str) -> None:
    """A pause stopped the call: the variant waits for a person, the mark goes."""
    PostVariant.objects.filter(pk=variant.pk).update(
        state=PostVariant.State.PENDING, calling_since=None, reason=REASON_PAUSED, detail=why
    )


def publish(variant_id: int) -> str:
    """Publish the variant if it is still to be published; returns its state. Raises
    :class:`PublishLater` when the platform asks to come back later."""
    from beffroi.publishing.services import settle

    with transaction.atomic():
        variant = (
            PostVariant.objects.select_for_update()
            .select_related("source", "post", "post__organization")
            .filter(pk=variant_id)
            .first()
        )
        if variant is None:
            return "gone"
        if variant.post.state != Post.State.PUBLISHING or variant.state not in (
            PostVariant.State.PENDING,
            PostVariant.State.PUBLISHING,
        ):
            return variant.state
        interrupted = variant.calling_since is not None
        if interrupted and _resend_is_safe(variant):
            # The platform recognises the same key: sending again cannot make a second post.
            interrupted = False
        if not interrupted:
            # Committed before the pause is read and the platform called (see the module).
            variant.calling_since = variant.call_started_at = timezone.now()
            variant.attempts += 1
            variant.state = PostVariant.State.PUBLISHING
            variant.save(update_fields=["calling_since", "call_started_at", "attempts", "state"])
    if interrupted:
        variant.call_started_at = variant.call_started_at or variant.calling_since
        finish_variant(
            variant,
            PostVariant.State.UNKNOWN,
            reason=REASON_INTERRUPTED,
            detail="The previous attempt stopped during the call to the platform.",
            check_at=check_time(variant),
        )
        settle(variant.post_id)
        return variant.state
    block = pausing.block_for(variant.post, timezone.now(), variant.source_id)
    if block is not None:
        _held_back(variant, block.reason)
        settle(variant.post_id)
        return PostVariant.State.PENDING
    source = variant.source
    try:
        if limits.by_hand(source):
            finish_variant(
                variant,
                PostVariant.State.EXPORTED,
                reason=REASON_MANUAL,
                detail="This network has no publishing interface: the package is ready to be "
                "posted by hand.",
            )
        elif source.is_upload:
            finish_variant(
                variant,
                PostVariant.State.FAILED,
                reason=REASON_UPLOAD,
                detail="Imported from a file: there is no platform account to publish from.",
            )
        elif source.is_demo:
            finish_variant(
                variant,
                PostVariant.State.SIMULATED,
                detail="Demo account: simulated, nothing was sent to a platform.",
            )
        else:
            _publish_for_real(variant)
    finally:
        settle(variant.post_id)
    return variant.state


def _publish_for_real(variant: PostVariant) -> None:
    try:
        result = _call(variant)
    except OutcomeUnknown as exc:
        if _resend_is_safe(variant):
            # The platform recognises the same key: asked again, it answers with the post
            # if it made one.
            PostVariant.objects.filter(pk=variant.pk).update(
                calling_since=None,
                state=PostVariant.State.PENDING,
                reason=REASON_UNCONFIRMED,
                detail=str(exc),
            )
            raise PublishLater(str(exc), ASK_AGAIN_SECONDS) from exc
        # Sent, and perhaps published: sending it again by itself could publish twice.
        finish_variant(
            variant,
            PostVariant.State.UNKNOWN,
            reason=REASON_UNCONFIRMED,
            detail=str(exc),
            check_at=check_time(variant),
        )
    except ConnectorError as exc:
        failure = failure_of(exc)
        if failure.retry_after is not None:
            # The platform said it did not act: the mark goes, the variant waits its turn.
            PostVariant.objects.filter(pk=variant.pk).update(
                calling_since=None,
                state=PostVariant.State.PENDING,
                reason=failure.reason,
                detail=str(exc),
            )
            raise PublishLater(str(exc), failure.retry_after) from exc
        finish_variant(variant, PostVariant.State.FAILED, reason=failure.reason, detail=str(exc))
        if isinstance(exc, AuthError):
            credentials_refused(variant.source, exc)
    else:
        if result.ok:
            published(variant, result, detail=result.detail)
        else:
            finish_variant(
                variant, PostVariant.State.FAILED, reason=REASON_REFUSED, detail=result.detail
            )
