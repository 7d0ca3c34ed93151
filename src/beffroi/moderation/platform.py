"""Carrying a decision out on the platform through the source's connector.

The outcome is always recorded on the decision (done, refused, not supported by the
platform, or pending a retry), so the moderator sees what really happened, and written to
the audit trail with the platform as the actor (``platform.done``, ``platform.failed``…).
The item's visibility follows the platform's answer: it becomes hidden or deleted only once
the platform did it. A demo source has no account: its actions are simulated, recorded as
such (``simulated``), never as done on a platform.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from beffroi.audit.actions import AuditAction
from beffroi.audit.services import Actor, record
from beffroi.connectors.base import Action, ActionResult, AuthError, ConnectorError
from beffroi.core.logging import redact
from beffroi.items.models import Item
from beffroi.items.refs import item_ref
from beffroi.moderation.models import Decision
from beffroi.sources.credentials import credentials_refused, ready_connector
from beffroi.sources.failures import (
    REASON_REFUSED,
    REASON_UNSUPPORTED,
    REASON_UPLOAD,
    failure_of,
)

#: Decision actions that have a platform counterpart.
PLATFORM_ACTIONS: dict[str, Action] = {
    Decision.Action.HIDE: Action.HIDE,
    Decision.Action.UNHIDE: Action.UNHIDE,
    Decision.Action.DELETE: Action.DELETE,
    Decision.Action.REPLY: Action.REPLY,
    Decision.Action.REPORT: Action.REPORT,
}


class RetryableActionError(Exception):
    """The platform asked to come back later (rate limit, outage)."""

    def __init__(self, message: str, delay: float) -> None:
        super().__init__(message)
        self.delay = delay


def _call(decision: Decision) -> ActionResult:
    item = decision.item
    connector = ready_connector(item.source)
    ref = item_ref(item)
    action = PLATFORM_ACTIONS[decision.action]
    try:
        if action is Action.REPLY:
            return connector.reply(ref, decision.reply_text)
        if action is Action.REPORT:
            return connector.report(ref, decision.note or decision.clause)
        if action is Action.HIDE:
            return connector.hide(ref)
        if action is Action.UNHIDE:
            return connector.unhide(ref)
        return connector.delete(ref)
    finally:
        connector.close()


#: Who carries decisions out, as the audit trail names it.
PLATFORM_ACTOR = Actor.system("platform")

#: The audit action of each outcome the platform gave (a decision with no platform action
#: involves no platform: nothing to audit beyond the decision itself).
OUTCOME_ACTIONS: dict[str, AuditAction] = {
    Decision.PlatformStatus.DONE: AuditAction.PLATFORM_DONE,
    Decision.PlatformStatus.FAILED: AuditAction.PLATFORM_FAILED,
    Decision.PlatformStatus.UNSUPPORTED: AuditAction.PLATFORM_UNSUPPORTED,
    Decision.PlatformStatus.PENDING: AuditAction.PLATFORM_RETRY,
}

#: What an action the platform carried out makes of the item.
VISIBILITY_AFTER: dict[str, str] = {
    Decision.Action.HIDE: Item.Visibility.HIDDEN,
    Decision.Action.DELETE: Item.Visibility.DELETED,
    Decision.Action.UNHIDE: Item.Visibility.VISIBLE,
}

#: The platform's message kept in the audit trail is cut to this length.
AUDITED_DETAIL_CHARS = 500


def _save(
    decision: Decision, status: str, result: dict[str, Any], retry_after: float | None = None
) -> None:
    """Record the outcome on the decision and, for a platform's answer, in the audit trail."""
    decision.platform_status = status
    decision.platform_result = {**result, "at": timezone.now().isoformat()}
    with transaction.atomic():
        decision.save(update_fields=["platform_status", "platform_result", "platform_attempts"])
        visibility = VISIBILITY_AFTER.get(decision.action) if decision.took_effect else None
        if visibility is not None:
            # Only now is the item hidden, deleted or restored: the platform did it.
            Item.objects.filter(pk=decision.item_id).update(visibility=visibility)
            decision.item.visibility = visibility
        action = (
            AuditAction.PLATFORM_SIMULATED
            if decision.platform_effect == Decision.PlatformEffect.SIMULATED
            else OUTCOME_ACTIONS.get(status)
        )
        if action is None:
            return
        # The answer in short: never the raw payload, and no token a message might quote.
        answer: dict[str, Any] = {
            "status": status,
            "detail": redact(str(result.get("detail") or ""))[:AUDITED_DETAIL_CHARS],
            "attempt": decision.platform_attempts,
        }
        if retry_after is not None:
            answer["retry_after"] = retry_after
        if result.get("platform_id"):
            answer["platform_id"] = str(result["platform_id"])
        if result.get("reason"):
            answer["reason"] = str(result["reason"])
        if visibility is not None:
            answer["visibility"] = visibility
        record(
            PLATFORM_ACTOR,
            action,
            organization=decision.organization,
            obj=decision,
            after={"action": decision.action, **answer},
        )


def perform(decision: Decision) -> str:
    """Run the platform action of ``decision``; returns the platform status recorded.

    Raises :class:`RetryableActionError` after recording a pending status when the platform
    said to retry later; every other outcome is final and recorded.
    """
    if decision.action not in PLATFORM_ACTIONS:
        _save(decision, Decision.PlatformStatus.NOT_NEEDED, {})
        return decision.platform_status
    item = decision.item
    if item.source.is_upload:
        _save(
            decision,
            Decision.PlatformStatus.UNSUPPORTED,
            {
                "detail": "Imported from a file: there is no platform account to act on.",
                "reason": REASON_UPLOAD,
            },
        )
        return decision.platform_status
    decision.platform_attempts += 1
    if item.source.is_demo:
        # The demo town's sources have no account: the real flow runs, the call is simulated.
        _save(
            decision,
            Decision.PlatformStatus.DONE,
            {
                "detail": "Demo source: simulated, nothing was sent to a platform.",
                "simulated": True,
            },
        )
        return decision.platform_status
    try:
        result = _call(decision)
    except ConnectorError as exc:
        # Why the platform did not act (beffroi.sources.failures), its words in ``detail``.
        failure = failure_of(exc)
        outcome: dict[str, Any] = {"detail": str(exc), "reason": failure.reason}
        if failure.retry_after is not None:
            _save(
                decision,
                Decision.PlatformStatus.PENDING,
                {**outcome, "retry": True},
                failure.retry_after,
            )
            raise RetryableActionError(str(exc), failure.retry_after) from exc
        unsupported = failure.reason == REASON_UNSUPPORTED
        _save(
            decision,
            Decision.PlatformStatus.UNSUPPORTED if unsupported else Decision.PlatformStatus.FAILED,
            outcome,
        )
        if isinstance(exc, AuthError):
            credentials_refused(item.source, exc)
    else:
        status = Decision.PlatformStatus.DONE if result.ok else Decision.PlatformStatus.FAILED
        outcome = {
            "detail": result.detail,
            "platform_id": result.platform_id,
            "raw": dict(result.raw),
        }
        if not result.ok:
            outcome["reason"] = REASON_REFUSED
        _save(decision, status, outcome)
    return decision.platform_status


def cancel(decision: Decision) -> None:
    """A pending action whose decision was undone before the platform was asked: not sent
    (sending it now would hide an item the organization decided to leave visible)."""
    _save(
        decision,
        Decision.PlatformStatus.NOT_NEEDED,
        {"detail": "The decision was undone before the platform was asked.", "cancelled": True},
    )
