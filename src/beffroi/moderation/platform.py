"""Carrying a decision out on the platform through the source's connector.

The outcome is always recorded on the decision (done, refused, not supported by the
platform, or pending a retry), so the moderator sees what really happened.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from beffroi.connectors.base import (
    Action,
    ActionResult,
    AuthError,
    ConnectorError,
    ItemKind,
    ItemRef,
    NotFound,
    RateLimited,
    TransientError,
    UnsupportedAction,
)
from beffroi.items.models import Item
from beffroi.moderation.models import Decision
from beffroi.sources.credentials import credentials_refused, ready_connector

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


def item_ref(item: Item) -> ItemRef:
    return ItemRef(
        platform_id=item.platform_id,
        kind=ItemKind(item.kind),
        author_id=item.author.platform_id,
        thread_id=item.thread_id or None,
        parent_id=item.parent_platform_id or None,
        raw=item.raw or {},
    )


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


def _save(decision: Decision, status: str, result: dict[str, Any]) -> None:
    decision.platform_status = status
    decision.platform_result = {**result, "at": timezone.now().isoformat()}
    decision.save(update_fields=["platform_status", "platform_result", "platform_attempts"])


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
            {"detail": "Imported from a file: there is no platform account to act on."},
        )
        return decision.platform_status
    decision.platform_attempts += 1
    try:
        result = _call(decision)
    except UnsupportedAction as exc:
        _save(decision, Decision.PlatformStatus.UNSUPPORTED, {"detail": str(exc)})
    except RateLimited as exc:
        _save(decision, Decision.PlatformStatus.PENDING, {"detail": str(exc), "retry": True})
        raise RetryableActionError(str(exc), exc.retry_after or 60) from exc
    except TransientError as exc:
        _save(decision, Decision.PlatformStatus.PENDING, {"detail": str(exc), "retry": True})
        raise RetryableActionError(str(exc), 30) from exc
    except AuthError as exc:
        _save(decision, Decision.PlatformStatus.FAILED, {"detail": str(exc)})
        credentials_refused(item.source, exc)
    except NotFound as exc:
        _save(decision, Decision.PlatformStatus.FAILED, {"detail": str(exc)})
    except ConnectorError as exc:
        _save(decision, Decision.PlatformStatus.FAILED, {"detail": str(exc)})
    else:
        status = Decision.PlatformStatus.DONE if result.ok else Decision.PlatformStatus.FAILED
        _save(
            decision,
            status,
            {"detail": result.detail, "platform_id": result.platform_id, "raw": dict(result.raw)},
        )
    return decision.platform_status
