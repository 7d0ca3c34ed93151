"""Sending a reply written in Beffroi through the source's connector, exactly once.

The reply is *sending* until the platform answers: *sent* with its id and link, *failed* with
why (a translated sentence on screen, the platform's words kept), or put back to be tried
later when the platform asks for it (rate limit, outage). Never posted twice:

- the reply's ``key`` (one per form) makes a resubmitted form the same reply;
- ``calling_since`` is written (and committed) just before the platform is called and cleared
  with its answer; an attempt that finds it set follows one that died during the call, which
  may have posted: the reply becomes *unknown*, and a person checks on the platform and says
  whether to send it again (:func:`beffroi.conversations.services.retry_reply`) or that it
  was posted (:func:`~beffroi.conversations.services.confirm_reply_posted`);
- a call whose answer was lost after the reply was sent (a timeout, a dropped connection, a
  500/502/504: :class:`~beffroi.connectors.base.OutcomeUnknown`) makes it *unknown* too,
  never tried again by itself; the connector is given the reply's ``key`` as an idempotency
  key, which platforms that honour one (Mastodon) use to return the reply already posted.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from beffroi.audit.actions import AuditAction
from beffroi.audit.services import Actor, record
from beffroi.connectors.base import ActionResult, AuthError, ConnectorError, OutcomeUnknown
from beffroi.conversations.models import Conversation, Reply
from beffroi.conversations.signals import reply_posted
from beffroi.core.logging import redact
from beffroi.items.refs import item_ref
from beffroi.sources.credentials import credentials_refused, ready_connector
from beffroi.sources.failures import (
    REASON_REFUSED,
    REASON_UNCONFIRMED,
    REASON_UPLOAD,
    failure_of,
)

#: Why a reply was not sent, kept in ``Reply.reason`` (the display says it in words): the
#: reasons of every platform action (:mod:`beffroi.sources.failures`), and this one, a
#: reply's own: an attempt stopped during the call, which may have posted it.
REASON_INTERRUPTED = "interrupted"

PLATFORM_ACTOR = Actor.system("platform")
AUDITED_DETAIL_CHARS = 500


class SendLater(Exception):
    """The platform asked to come back later; the reply stays *sending*."""

    def __init__(self, message: str, delay: float) -> None:
        super().__init__(message)
        self.delay = delay


def _call(reply: Reply) -> ActionResult:
    connector = ready_connector(reply.item.source)
    try:
        ref = item_ref(reply.item)
        if reply.private:
            return connector.private_reply(ref, reply.text, idempotency_key=reply.key)
        return connector.reply(ref, reply.text, idempotency_key=reply.key)
    finally:
        connector.close()


def _finish(
    reply: Reply,
    state: str,
    *,
    reason: str = "",
    detail: str = "",
    resolve: bool = False,
    result: ActionResult | None = None,
) -> None:
    """Record the platform's answer on the reply, the conversation and the audit trail."""
    now = timezone.now()
    with transaction.atomic():
        reply.state = state
        reply.reason = reason
        reply.detail = detail
        reply.calling_since = None
        if result is not None:
            reply.platform_id = result.platform_id or ""
            url = result.url
            reply.url = url[:1000] if url.startswith(("https://", "http://")) else ""
        if state in (Reply.State.SENT, Reply.State.SIMULATED):
            reply.sent_at = now
            conversation = Conversation.objects.select_for_update().get(pk=reply.conversation_id)
            conversation.responded(now)
            if resolve and conversation.state != Conversation.State.CLOSED:
                conversation.state = Conversation.State.RESOLVED
                conversation.resolved_at = now
            conversation.save()
        reply.save()
        if state in (Reply.State.SENT, Reply.State.SIMULATED):
            transaction.on_commit(lambda: reply_posted.send(sender=Reply, reply=reply))
        outcomes: dict[str, AuditAction] = {
            Reply.State.SENT: AuditAction.REPLY_SENT,
            Reply.State.SIMULATED: AuditAction.REPLY_SIMULATED,
            Reply.State.FAILED: AuditAction.REPLY_FAILED,
            Reply.State.UNKNOWN: AuditAction.REPLY_UNKNOWN,
        }
        action = outcomes.get(state)
        if action is not None:
            record(
                PLATFORM_ACTOR,
                action,
                organization=reply.organization,
                obj=reply,
                after={
                    "state": state,
                    "reason": reason,
                    "detail": redact(detail)[:AUDITED_DETAIL_CHARS],
                    "platform_id": reply.platform_id,
                    "attempt": reply.attempts,
                },
            )


def send(reply_id: int, *, resolve: bool = False) -> str:
    """Send the reply if it is still to be sent; returns its state. Raises
    :class:`SendLater` when the platform asks to come back later."""
    with transaction.atomic():
        reply = (
            Reply.objects.select_for_update()
            .select_related("item__source", "item__author", "organization")
            .filter(pk=reply_id)
            .first()
        )
        if reply is None or reply.state != Reply.State.SENDING:
            return reply.state if reply is not None else "gone"
        if reply.calling_since is not None:
            interrupted = True
        else:
            interrupted = False
            source = reply.item.source
            if not (source.is_upload or source.is_demo):
                # Committed before the call: a crash during it leaves the mark behind.
                reply.calling_since = timezone.now()
                reply.attempts += 1
                reply.save(update_fields=["calling_since", "attempts"])
    if interrupted:
        _finish(
            reply,
            Reply.State.UNKNOWN,
            reason=REASON_INTERRUPTED,
            detail="The previous attempt stopped during the call to the platform.",
        )
        return reply.state
    source = reply.item.source
    if source.is_upload:
        _finish(
            reply,
            Reply.State.FAILED,
            reason=REASON_UPLOAD,
            detail="Imported from a file: there is no platform account to answer from.",
        )
        return reply.state
    if source.is_demo:
        reply.attempts += 1
        _finish(
            reply,
            Reply.State.SIMULATED,
            detail="Demo source: simulated, nothing was sent to a platform.",
            resolve=resolve,
        )
        return reply.state
    try:
        result = _call(reply)
    except OutcomeUnknown as exc:
        # Sent, and perhaps posted: sending it again by itself could post it twice.
        _finish(reply, Reply.State.UNKNOWN, reason=REASON_UNCONFIRMED, detail=str(exc))
    except ConnectorError as exc:
        failure = failure_of(exc)
        if failure.retry_after is not None:
            # The platform said it did not act: the mark goes, the reply waits its turn.
            Reply.objects.filter(pk=reply.pk).update(
                calling_since=None, reason=failure.reason, detail=str(exc)
            )
            raise SendLater(str(exc), failure.retry_after) from exc
        _finish(reply, Reply.State.FAILED, reason=failure.reason, detail=str(exc))
        if isinstance(exc, AuthError):
            credentials_refused(source, exc)
    else:
        if result.ok:
            _finish(reply, Reply.State.SENT, detail=result.detail, resolve=resolve, result=result)
        else:
            _finish(reply, Reply.State.FAILED, reason=REASON_REFUSED, detail=result.detail)
    return reply.state
