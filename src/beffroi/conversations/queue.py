"""Asking for the desk's background work by name (the handlers are in ``tasks.py``), so that
services and receivers ask for work without importing the handlers."""

from __future__ import annotations

from typing import Any

from beffroi.jobs.engine import enqueue


def request_attach(organization: Any) -> None:
    """Put the new items into conversations (one pending job per organization)."""
    enqueue(
        "conversations.attach",
        {"organization_id": organization.pk},
        organization=organization,
        dedupe_key=f"conversations.attach:{organization.pk}",
    )


def request_request_judgement(organization: Any) -> None:
    """Judge the new conversations: requests or not, and for which service."""
    enqueue(
        "conversations.judge_requests",
        {"organization_id": organization.pk},
        organization=organization,
        dedupe_key=f"conversations.judge_requests:{organization.pk}",
    )


def request_send(reply_id: int, *, resolve: bool = False) -> None:
    enqueue(
        "conversations.send_reply",
        {"reply_id": reply_id, "resolve": resolve},
        dedupe_key=f"conversations.send_reply:{reply_id}",
    )


def request_mention_notice(note_id: int) -> None:
    enqueue(
        "conversations.mention_notice",
        {"note_id": note_id},
        dedupe_key=f"conversations.mention_notice:{note_id}",
    )


def request_sla_warning(conversation_id: int) -> None:
    enqueue(
        "conversations.sla_warning",
        {"conversation_id": conversation_id},
        dedupe_key=f"conversations.sla_warning:{conversation_id}",
    )


def on_items_ingested(sender: Any, organization: Any, **kwargs: Any) -> None:
    """New items join their conversations as soon as they are stored (``items_ingested``)."""
    request_attach(organization)


def request_refresh_due(organization_id: int, why: str) -> None:
    """Compute again the deadlines of the organization's live conversations (its targets or a
    team's calendar changed); one pending job per change."""
    enqueue(
        "conversations.refresh_due",
        {"organization_id": organization_id},
        dedupe_key=f"conversations.refresh_due:{organization_id}:{why}"[:200],
    )
