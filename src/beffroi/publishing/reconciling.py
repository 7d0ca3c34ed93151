"""Settling a publication whose outcome is unknown by looking at the account.

A call to a platform without an idempotency key may publish and then lose its answer (the
worker was killed during the call, the connection dropped). Sending it again could publish
twice; leaving it could leave it unpublished. Where the platform lists the account's own
posts (``Connector.lists_own_posts``), the variant's ``check_at`` plans a look:

- a post created since the call began with the same text (:mod:`beffroi.connectors.reconcile`)
  is the publication: the variant is published, with its link, and joins the inbox;
- none, once the call is surely over (:data:`~beffroi.publishing.pausing.LONGEST_CALL` after
  it began), means the platform did not publish it: it is sent again, unless a pause now
  holds it back (then it waits for a person, as every post its pause stopped);
- none yet, before that: looked at again then;
- the platform refusing the look (a permission, a revoked token): a person checks, told why.

Every outcome is audited as the publication's outcomes are (:func:`sending.finish_variant`).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from beffroi.audit.actions import AuditAction
from beffroi.audit.services import record
from beffroi.connectors import reconcile
from beffroi.connectors.base import ActionResult, AuthError, ConnectorError
from beffroi.core.logging import redact
from beffroi.publishing import pausing
from beffroi.publishing.models import Post, PostVariant
from beffroi.publishing.queue import request_publish
from beffroi.publishing.sending import (
    AUDITED_DETAIL_CHARS,
    PLATFORM_ACTOR,
    REASON_PAUSED,
    PublishLater,
    after_publication,
    finish_variant,
    published_text,
)
from beffroi.sources.credentials import credentials_refused, ready_connector
from beffroi.sources.failures import failure_of

#: Why a variant waits to be sent again: looked for on the account, it was not there.
REASON_NOT_ON_ACCOUNT = "not_on_account"
#: A call is surely over this long after it began (its job's lease).
CALL_IS_OVER = timedelta(seconds=pausing.LONGEST_CALL)


def _locked(variant_id: int) -> PostVariant | None:
    """The variant, locked, while its look is still planned (a person may have settled it
    meanwhile: confirmed it, or sent it again)."""
    return (
        PostVariant.objects.select_for_update()
        .select_related("source", "post", "post__organization")
        .filter(pk=variant_id, state=PostVariant.State.UNKNOWN, check_at__isnull=False)
        .first()
    )


def check(variant_id: int) -> str:
    """Look for the variant on its account; returns its state after the look. Raises
    :class:`~beffroi.publishing.sending.PublishLater` when it is to be looked at again."""
    from beffroi.publishing.services import settle

    variant = (
        PostVariant.objects.select_related("source", "post")
        .filter(pk=variant_id, state=PostVariant.State.UNKNOWN, check_at__isnull=False)
        .first()
    )
    if variant is None or variant.call_started_at is None:
        return "settled"
    started = variant.call_started_at
    connector = ready_connector(variant.source)
    try:
        posts = connector.own_posts_since(started - reconcile.CLOCK_MARGIN)
    except ConnectorError as exc:
        failure = failure_of(exc)
        if failure.retry_after is not None:
            when = timezone.now() + timedelta(seconds=failure.retry_after)
            PostVariant.objects.filter(pk=variant.pk).update(check_at=when)
            raise PublishLater(str(exc), failure.retry_after) from exc
        _to_a_person(variant.pk, exc)
        if isinstance(exc, AuthError):
            credentials_refused(variant.source, exc)
        settle(variant.post_id)
        return PostVariant.State.UNKNOWN
    finally:
        connector.close()
    found = reconcile.find_published(published_text(variant), posts, started)
    now = timezone.now()
    result: ActionResult | None = None
    with transaction.atomic():
        locked = _locked(variant.pk)
        if locked is None:
            return "settled"
        if found is not None:
            result = ActionResult(
                ok=True, platform_id=found.platform_id, url=found.url, item=found.item
            )
            finish_variant(
                locked,
                PostVariant.State.PUBLISHED,
                detail="Found on the account after the interrupted call.",
                result=result,
            )
        elif now < started + CALL_IS_OVER:
            locked.check_at = started + CALL_IS_OVER
            locked.save(update_fields=["check_at"])
        else:
            _send_again(locked)
    if locked.check_at is not None:
        # Raised once the new time is committed (inside the block it would be undone).
        raise PublishLater(
            "Not on the account yet; looked at again once the call is surely over.",
            (locked.check_at - now).total_seconds(),
        )
    if result is not None:
        after_publication(locked, result)
    settle(variant.post_id)
    return PostVariant.objects.get(pk=variant.pk).state


def _to_a_person(variant_id: int, exc: ConnectorError) -> None:
    """The platform refused the look: the outcome stays unknown and a person checks."""
    with transaction.atomic():
        locked = _locked(variant_id)
        if locked is None:
            return
        locked.check_at = None
        locked.detail = f"{locked.detail}\nBeffroi could not look for it on the account: {exc}"
        locked.save(update_fields=["check_at", "detail"])
        _record(locked, "unknown", str(exc))


def _send_again(variant: PostVariant) -> None:
    """Not on the account once the call was over: the platform did not publish it. It goes
    again, unless a pause holds it back now."""
    block = pausing.block_for(variant.post, timezone.now(), variant.source_id)
    variant.state = PostVariant.State.PENDING
    variant.check_at = None
    if block is not None:
        variant.reason = REASON_PAUSED
        variant.detail = block.reason
    else:
        variant.reason = REASON_NOT_ON_ACCOUNT
        variant.detail = "Not found on the account after the interrupted call: sent again."
    variant.save(update_fields=["state", "check_at", "reason", "detail"])
    _record(variant, "absent", variant.detail)
    if block is None:
        transaction.on_commit(lambda: request_publish(variant.pk))


def _record(variant: PostVariant, looked: str, detail: str) -> None:
    post: Post = variant.post
    record(
        PLATFORM_ACTOR,
        AuditAction.POST_LOOKED_UP,
        organization=post.organization,
        obj=post,
        after={
            "variant": variant.pk,
            "account": variant.source_id,
            "looked": looked,
            "state": variant.state,
            "detail": redact(detail)[:AUDITED_DETAIL_CHARS],
        },
    )
