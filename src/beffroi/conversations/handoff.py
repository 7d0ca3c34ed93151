"""Handing a citizen's request off to the organization's request system, and reading back
what the service did with it.

- :func:`hand_off` (a person) records the hand-off *to send* and asks for the job; a
  conversation has one live hand-off at a time: nothing is sent twice.
- :func:`send` (the job) submits it: Open311 GeoReport v2 (``connectors.open311``), an
  e-mail to the service, or a signed webhook (Standard Webhooks, ``connectors.webhook``).
  *Sending* is committed before the call; a job that finds it still *sending* follows one
  that died during the call: for Open311 it looks the request up by its reference in the
  town's system instead of submitting it again; for a webhook it delivers the same message
  again, with the same ``webhook-id``, which the receiver keeps once. A system that fails or
  asks to wait is tried again later, and after :data:`SEND_ATTEMPTS` calls the hand-off is
  *send failed*. A webhook receiver that answers 410 Gone (the Standard Webhooks word for
  "stop sending here") switches its request system off; a system switched off is not called.
- :func:`sync` (periodic) resolves batch tokens and reads the statuses: a request the
  service closed is *done externally*, with its notes, shown on the conversation.
- :func:`receive_status` reads what a webhook system says back (signed as it is sent to):
  a request done, or its notes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from beffroi.audit.actions import AuditAction
from beffroi.audit.services import Actor, record, snapshot
from beffroi.connectors import webhook
from beffroi.connectors.base import (
    AuthError,
    ConfigurationError,
    ConnectorError,
    NotFound,
    RateLimited,
    TransientError,
)
from beffroi.connectors.open311 import (
    InvalidDraft,
    Open311Client,
    RequestDraft,
    RequestRefused,
    SubmissionUncertain,
    retry_is_safe,
)
from beffroi.connectors.values import iso_z, parse_time
from beffroi.conversations.models import Conversation, ConversationEvent, Handoff, RequestSystem
from beffroi.conversations.services import disable_request_system
from beffroi.core.logging import redact

State = Handoff.State
PLATFORM_ACTOR = Actor.system("request-system")

#: Why a hand-off failed, as kept in ``Handoff.reason`` (said in words on screen).
REASON_REFUSED = "refused"
REASON_CREDENTIALS = "credentials"
REASON_NOT_FOUND = "not_found"
REASON_UNCERTAIN = "uncertain"
REASON_ERROR = "error"
REASON_NO_ADDRESS = "no_address"
REASON_ADDRESS = "address"
REASON_UNAVAILABLE = "unavailable"
REASON_GONE = "gone"
REASON_DISABLED = "disabled"

#: Calls to the request system for one hand-off before it is *send failed* for want of an
#: answer (a person's *Send it again* starts a new round).
SEND_ATTEMPTS = 8
#: The wait before calling again a system that failed without saying how long, in seconds.
RETRY_SECONDS = 60.0

#: The event a webhook delivery of a hand-off carries, and those a webhook system sends back.
EVENT_HANDED_OFF = "request.handed_off"
EVENT_DONE = "request.done"
EVENT_UPDATED = "request.updated"
#: Refused calls to the status address from one client address, in a window, before every
#: call from it is refused at once (429) until the window ends.
HOOK_FAILURES = 20
HOOK_WINDOW_SECONDS = 300

#: Hand-offs read per pass of the status sync.
SYNC_BATCH = 200


class HandoffError(Exception):
    """A refused hand-off, with a sentence for the person."""


class SendLater(Exception):
    def __init__(self, message: str, delay: float) -> None:
        super().__init__(message)
        self.delay = delay


def live_handoff(conversation: Conversation) -> Handoff | None:
    return (
        Handoff.objects.filter(conversation=conversation)
        .exclude(state=State.SEND_FAILED)
        .exclude(state=State.DONE_EXTERNALLY)
        .first()
    )


def hand_off(
    actor: Actor,
    conversation: Conversation,
    system: RequestSystem,
    *,
    service_code: str = "",
    address: str = "",
    description: str = "",
) -> Handoff:
    """Record the hand-off of the conversation's request to ``system`` and ask for it to be
    sent; refused while another hand-off of the conversation is under way or open."""
    if system.organization_id != conversation.organization_id or not system.enabled:
        raise HandoffError(_("Choose one of the organization's request systems."))
    code = service_code or (conversation.team.service_code if conversation.team else "")
    if system.kind == RequestSystem.Kind.OPEN311 and not code:
        raise HandoffError(
            _("Give the service code of the request system (or set it on the team).")
        )
    if system.kind == RequestSystem.Kind.OPEN311 and not address.strip():
        # GeoReport v2 asks for a place: the service goes there.
        raise HandoffError(_("Give the address the request is about."))
    with transaction.atomic():
        Conversation.objects.select_for_update().get(pk=conversation.pk)
        if live_handoff(conversation) is not None:
            raise HandoffError(
                _("This request is already handed off: see its state in the conversation.")
            )
        handoff = Handoff.objects.create(
            organization=conversation.organization,
            conversation=conversation,
            system=system,
            service_code=code,
            address=address.strip()[:300],
            description=(description or conversation.root.text).strip()[:4000],
            created_by=actor.user if getattr(actor.user, "is_authenticated", False) else None,
        )
        handoff.reference = f"BF-{conversation.organization_id}-{handoff.pk}"
        handoff.save(update_fields=["reference"])
        ConversationEvent.objects.create(
            conversation=conversation,
            kind="handoff",
            actor=handoff.created_by,
            after={"handoff": handoff.pk, "system": system.name, "state": handoff.state},
        )
        record(
            actor,
            AuditAction.HANDOFF_REQUEST,
            organization=conversation.organization,
            obj=handoff,
            after=snapshot(handoff),
        )
        handoff_id = handoff.pk
        transaction.on_commit(lambda: _request_send(handoff_id))
    return handoff


def _request_send(handoff_id: int) -> None:
    from beffroi.jobs.engine import enqueue

    enqueue(
        "conversations.hand_off",
        {"handoff_id": handoff_id},
        dedupe_key=f"conversations.hand_off:{handoff_id}",
    )


def retry(actor: Actor, handoff: Handoff) -> Handoff:
    """Send again a hand-off that failed (after a person checked, for an uncertain one,
    that the town's system does not have it)."""
    with transaction.atomic():
        locked = Handoff.objects.select_for_update().get(pk=handoff.pk)
        if locked.state != State.SEND_FAILED:
            raise HandoffError(_("Only a hand-off that failed can be sent again."))
        if not locked.system.enabled:
            raise HandoffError(
                _(
                    "This request system is switched off: enable it again on the request "
                    "systems page, then send the request again."
                )
            )
        if live_handoff(locked.conversation) is not None:
            raise HandoffError(
                _("This request is already handed off: see its state in the conversation.")
            )
        before = {"state": locked.state, "reason": locked.reason}
        locked.state, locked.reason, locked.sending_since = State.TO_SEND, "", None
        locked.attempts = 0  # a new round of attempts
        locked.save(update_fields=["state", "reason", "sending_since", "attempts"])
        record(
            actor,
            AuditAction.HANDOFF_RETRY,
            organization=locked.organization,
            obj=locked,
            before=before,
            after={"state": locked.state},
        )
        handoff_id = locked.pk
        transaction.on_commit(lambda: _request_send(handoff_id))
    return locked


def _client(system: RequestSystem) -> Open311Client:
    return Open311Client(system.endpoint, system.api_key, system.jurisdiction_id or None)


def _draft(handoff: Handoff) -> RequestDraft:
    author = handoff.conversation.author
    first, _space, last = (author.display_name or "").partition(" ")
    link = handoff.conversation.root.url
    text = handoff.description + (f"\n\n{link}" if link else "")
    return RequestDraft(
        service_code=handoff.service_code,
        description=text,
        address_string=handoff.address,
        first_name=first[:60],
        last_name=last[:60],
        reference=handoff.reference,
    )


def _save(handoff: Handoff, state: str, **fields: Any) -> None:
    with transaction.atomic():
        handoff.state = state
        for name, value in fields.items():
            setattr(handoff, name, value)
        handoff.sending_since = None
        handoff.save()
        action = {
            State.SENT: AuditAction.HANDOFF_SENT,
            State.SEND_FAILED: AuditAction.HANDOFF_FAILED,
            State.DONE_EXTERNALLY: AuditAction.HANDOFF_DONE,
        }.get(State(state))
        if action is not None:
            record(
                PLATFORM_ACTOR,
                action,
                organization=handoff.organization,
                obj=handoff,
                after={
                    "state": state,
                    "external_id": handoff.external_id,
                    "reason": handoff.reason,
                    "detail": redact(handoff.detail)[:500],
                },
            )


def send(handoff_id: int) -> str:
    """Submit the hand-off if it is still to send; returns its state. Raises
    :class:`SendLater` when the system asked to come back (nothing was created)."""
    with transaction.atomic():
        handoff = (
            Handoff.objects.select_for_update()
            .select_related("system", "conversation__author", "conversation__root", "organization")
            .filter(pk=handoff_id)
            .first()
        )
        if handoff is None:
            return "gone"
        if handoff.state not in (State.TO_SEND, State.SENDING):
            return handoff.state
        interrupted = handoff.state == State.SENDING
        if not interrupted:
            handoff.state, handoff.sending_since = State.SENDING, timezone.now()
            handoff.attempts += 1
            handoff.save(update_fields=["state", "sending_since", "attempts"])
        elif handoff.system.kind == RequestSystem.Kind.WEBHOOK:
            handoff.attempts += 1  # delivered again: a call like the others
            handoff.save(update_fields=["attempts"])
    if not handoff.system.enabled and not interrupted:
        # Said on the page in the reader's language, from the reason (conversations/detail.html).
        _save(handoff, State.SEND_FAILED, reason=REASON_DISABLED, detail="")
        return handoff.state
    if handoff.system.demo:
        _save(
            handoff,
            State.SENT,
            external_id=f"DEMO-{handoff.pk}",
            detail="Demo request system: simulated, nothing was sent.",
            sent_at=timezone.now(),
            reason="",
        )
        return handoff.state
    if handoff.system.kind == RequestSystem.Kind.EMAIL:
        return _send_email(handoff)
    if handoff.system.kind == RequestSystem.Kind.WEBHOOK:
        return _send_webhook(handoff)
    if interrupted:
        return _look_up(handoff)
    try:
        with _client(handoff.system) as client:
            submitted = client.submit(_draft(handoff))
    except SubmissionUncertain as exc:
        return _look_up(handoff, str(exc))
    except (RequestRefused, InvalidDraft) as exc:
        _save(handoff, State.SEND_FAILED, reason=REASON_REFUSED, detail=str(exc))
    except AuthError as exc:
        _save(handoff, State.SEND_FAILED, reason=REASON_CREDENTIALS, detail=str(exc))
    except NotFound as exc:
        _save(handoff, State.SEND_FAILED, reason=REASON_NOT_FOUND, detail=str(exc))
    except TransientError as exc:
        if retry_is_safe(exc):
            return _later(handoff, str(exc), getattr(exc, "retry_after", None))
        return _look_up(handoff, str(exc))
    except ConnectorError as exc:
        _save(handoff, State.SEND_FAILED, reason=REASON_ERROR, detail=str(exc))
    else:
        _save(
            handoff,
            State.SENT,
            external_id=submitted.service_request_id or "",
            token=submitted.token or "",
            status_notes=submitted.service_notice,
            sent_at=timezone.now(),
            reason="",
            detail="",
        )
    return handoff.state


def _later(handoff: Handoff, detail: str, delay: float | None) -> str:
    """The system did not take the hand-off this time, and said nothing that a person must
    fix: it waits to be sent again in ``delay`` seconds (:class:`SendLater`), or, the
    attempts spent, it is *send failed*."""
    if handoff.attempts >= SEND_ATTEMPTS:
        _save(handoff, State.SEND_FAILED, reason=REASON_UNAVAILABLE, detail=detail)
        return handoff.state
    Handoff.objects.filter(pk=handoff.pk).update(
        state=State.TO_SEND, sending_since=None, detail=detail
    )
    raise SendLater(detail, RETRY_SECONDS if delay is None else float(delay))


def _look_up(handoff: Handoff, why: str = "") -> str:
    """The outcome of the last submission is unknown: find the request by its reference
    rather than submit it twice; not found, a person checks (send failed, uncertain)."""
    sent_at = handoff.sending_since or handoff.created_at
    try:
        with _client(handoff.system) as client:
            found = client.find_submitted(_draft(handoff), sent_at)
    except ConnectorError as exc:
        found, why = [], why or str(exc)
    if found:
        _save(
            handoff,
            State.SENT,
            external_id=found[0].service_request_id,
            status_notes=found[0].status_notes,
            sent_at=timezone.now(),
            reason="",
            detail="",
        )
    else:
        _save(
            handoff,
            State.SEND_FAILED,
            reason=REASON_UNCERTAIN,
            detail=why or "The previous attempt stopped during the call to the request system.",
        )
    return handoff.state


def _send_email(handoff: Handoff) -> str:
    from beffroi.core.mail import relay_configured, send_by_relay
    from beffroi.notify.delivery import AlertMessage, DeliveryError

    conversation = handoff.conversation
    team = conversation.team
    address = handoff.system.email or (team.email if team else "")
    if not address or not relay_configured():
        _save(
            handoff,
            State.SEND_FAILED,
            reason=REASON_NO_ADDRESS,
            detail="No e-mail address for this service, or no SMTP relay configured.",
        )
        return handoff.state
    with translation.override(_language(handoff)):
        message = AlertMessage(
            title=_("Request from @%(handle)s (%(reference)s)")
            % {"handle": conversation.author.handle, "reference": handoff.reference},
            text=handoff.description,
            url=_conversation_url(conversation),
            facts={_("Address"): handoff.address} if handoff.address else {},
        )
    try:
        send_by_relay(message, [address])
    except DeliveryError as exc:
        if exc.retry_after is not None:
            return _later(handoff, str(exc), exc.retry_after)
        _save(handoff, State.SEND_FAILED, reason=REASON_ERROR, detail=str(exc))
        return handoff.state
    _save(handoff, State.SENT, sent_at=timezone.now(), reason="", detail="")
    return handoff.state


def _language(handoff: Handoff) -> str:
    """The language of what a hand-off's detail says to the organization's people."""
    return handoff.organization.language or settings.LANGUAGE_CODE


def _conversation_url(conversation: Conversation) -> str:
    return settings.BEFFROI_PUBLIC_URL + reverse(
        "conversations:detail",
        kwargs={"org_slug": conversation.organization.slug, "pk": conversation.pk},
    )


def status_url(system: RequestSystem) -> str:
    """Where a webhook system says what became of a request (:func:`receive_status`)."""
    return settings.BEFFROI_PUBLIC_URL + reverse(
        "request_hooks:status", kwargs={"system_id": system.pk}
    )


def webhook_payload(handoff: Handoff) -> dict[str, Any]:
    """What a webhook delivery of the hand-off says: the request as the e-mail to a service
    gives it (the citizen's handle, no name or contact), with the way to answer back. Made
    of stored values only, so that a delivery sent again is the same body."""
    conversation = handoff.conversation
    team = conversation.team
    return {
        "type": EVENT_HANDED_OFF,
        "timestamp": iso_z(handoff.created_at),
        "data": {
            "reference": handoff.reference,
            "service_code": handoff.service_code,
            "team": {"slug": team.slug, "name": team.name} if team else None,
            "text": handoff.description,
            "address": handoff.address,
            "platform": conversation.platform,
            "author": {"handle": conversation.author.handle},
            "conversation_url": _conversation_url(conversation),
            "status_url": status_url(handoff.system),
            "received_at": iso_z(conversation.opened_at),
            "created_at": iso_z(handoff.created_at),
        },
    }


def _send_webhook(handoff: Handoff) -> str:
    """POST the hand-off to the system's address, signed with its secret; the reference is the
    ``webhook-id``, so that a delivery sent again (after a failure, or after a crash during
    the call) is the same message to the receiver, which keeps it once."""
    system = handoff.system
    body = webhook.encode(webhook_payload(handoff))
    try:
        with webhook.WebhookClient(system.endpoint, system.signing_secret) as client:
            delivered = client.deliver(handoff.reference, body)
    except webhook.InvalidSecret as exc:
        _save(handoff, State.SEND_FAILED, reason=REASON_CREDENTIALS, detail=str(exc))
    except (webhook.ReceiverUnavailable, RateLimited) as exc:
        return _later(handoff, str(exc), exc.retry_after)
    except webhook.Gone as exc:
        return _gone(handoff, str(exc))
    except AuthError as exc:
        _save(handoff, State.SEND_FAILED, reason=REASON_CREDENTIALS, detail=str(exc))
    except NotFound as exc:
        _save(handoff, State.SEND_FAILED, reason=REASON_NOT_FOUND, detail=str(exc))
    except webhook.DeliveryRefused as exc:
        _save(handoff, State.SEND_FAILED, reason=REASON_REFUSED, detail=str(exc))
    except ConfigurationError as exc:  # a redirect, plain http, an address refused by egress
        _save(handoff, State.SEND_FAILED, reason=REASON_ADDRESS, detail=str(exc))
    except ConnectorError as exc:
        _save(handoff, State.SEND_FAILED, reason=REASON_ERROR, detail=str(exc))
    else:
        _save(
            handoff,
            State.SENT,
            external_id=delivered.receiver_id or handoff.reference,
            sent_at=timezone.now(),
            reason="",
            detail="",
        )
    return handoff.state


def _gone(handoff: Handoff, why: str) -> str:
    """The receiver said its address is gone (410): as the specification asks, nothing more is
    sent there. The system is switched off (an audited change) and the hand-off fails with
    the way forward: correct the address and enable the system again."""
    disable_request_system(PLATFORM_ACTOR, handoff.system, why)
    # The receiver's words kept; what happened and the way forward are said on the page in
    # the reader's language, from the reason (conversations/detail.html).
    _save(handoff, State.SEND_FAILED, reason=REASON_GONE, detail=why)
    return handoff.state


# --- what a webhook system says back ---------------------------------------------------------


@dataclass(frozen=True)
class HookAnswer:
    """The answer to a call to the status address: an HTTP status and a JSON body (and, for
    429, the seconds to wait)."""

    status: int
    body: dict[str, Any]
    retry_after: int | None = None


def receive_status(
    system_id: int, headers: Mapping[str, str], body: bytes, client: str
) -> HookAnswer:
    """Read a webhook system's word on a request it was handed: ``request.done`` makes the
    hand-off *done externally* (with the service's notes), ``request.updated`` changes its
    notes. The call is signed as deliveries are (Standard Webhooks, the system's secret,
    5 minutes' tolerance); a message id already read is answered again without acting, and
    the same word twice changes nothing. ``client`` (the caller's address) counts the refused
    calls: past :data:`HOOK_FAILURES` in a window, its calls are refused unread."""
    if _hook_failures(client) >= HOOK_FAILURES:
        return HookAnswer(
            429,
            {"error": "Too many refused calls from this address; try again later."},
            HOOK_WINDOW_SECONDS,
        )
    system = RequestSystem.objects.filter(
        pk=system_id, kind=RequestSystem.Kind.WEBHOOK, demo=False
    ).first()
    if system is None:
        _count_hook_failure(client)
        return HookAnswer(404, {"error": "No webhook request system at this address."})
    try:
        message_id = webhook.verify(system.signing_secret, headers, body)
    except webhook.SignatureRefused as exc:
        _count_hook_failure(client)
        return HookAnswer(401, {"error": str(exc)})
    except webhook.InvalidSecret:  # none stored: nothing can be signed with it
        _count_hook_failure(client)
        return HookAnswer(401, {"error": "Webhook: no signature matches the secret."})
    seen = f"request-hook:{system.pk}:{hashlib.sha256(message_id.encode()).hexdigest()[:32]}"
    if cache.get(seen) is not None:
        return HookAnswer(200, {"duplicate": True})
    try:
        event, data = _status_event(body)
    except ValueError as exc:
        return HookAnswer(400, {"error": str(exc)})
    answer = _apply_status(system, event, data)
    if answer.status == 200:
        # Kept beyond the tolerance: a replay inside it is recognised by its id.
        cache.set(seen, True, timeout=2 * webhook.TOLERANCE_SECONDS)
    return answer


def _status_event(body: bytes) -> tuple[str, dict[str, Any]]:
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise ValueError("The body is not JSON.") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise ValueError('The body must be {"type": …, "data": {"reference": …}}.')
    event, data = payload.get("type"), payload["data"]
    if event not in (EVENT_DONE, EVENT_UPDATED):
        raise ValueError(f"Unknown type; expected {EVENT_DONE} or {EVENT_UPDATED}.")
    if not isinstance(data.get("reference"), str) or not data["reference"].strip():
        raise ValueError("data.reference (the hand-off's BF-… reference) is required.")
    notes = data.get("status_notes", "")
    if not isinstance(notes, str):
        raise ValueError("data.status_notes must be text.")
    return str(event), data


def _apply_status(system: RequestSystem, event: str, data: dict[str, Any]) -> HookAnswer:
    reference = str(data["reference"]).strip()
    notes = str(data.get("status_notes") or "").strip()[:4000]
    receiver_id = data.get("id")
    with transaction.atomic():
        handoff = (
            Handoff.objects.select_for_update()
            .select_related("conversation", "organization")
            .filter(system=system, reference=reference)
            .first()
        )
        if handoff is None:
            return HookAnswer(404, {"error": "No hand-off with this reference."})
        done = handoff.state == State.DONE_EXTERNALLY
        if handoff.state != State.SENT and not done:
            return HookAnswer(
                409,
                {
                    "error": f"This hand-off is not sent (it is {handoff.state}).",
                    "state": handoff.state,
                },
            )
        changed = False
        if event == EVENT_DONE and not done:
            fields: dict[str, Any] = {
                "closed_at": parse_time(data.get("closed_at")) or timezone.now(),
                "status_notes": notes or handoff.status_notes,
            }
            if isinstance(receiver_id, str | int) and not isinstance(receiver_id, bool):
                fields["external_id"] = str(receiver_id).strip()[:120] or handoff.external_id
            _save(handoff, State.DONE_EXTERNALLY, **fields)
            ConversationEvent.objects.create(
                conversation=handoff.conversation,
                kind="handoff",
                after={"handoff": handoff.pk, "state": handoff.state},
            )
            changed = True
        elif event == EVENT_UPDATED and notes and notes != handoff.status_notes:
            handoff.status_notes = notes
            handoff.save(update_fields=["status_notes"])
            changed = True
    return HookAnswer(200, {"reference": reference, "state": handoff.state, "changed": changed})


def _failures_key(client: str) -> str:
    return f"request-hook-failures:{hashlib.sha256(client.encode()).hexdigest()[:32]}"


def _hook_failures(client: str) -> int:
    count = cache.get(_failures_key(client))
    return count if isinstance(count, int) else 0


def _count_hook_failure(client: str) -> None:
    key = _failures_key(client)
    if cache.add(key, 1, timeout=HOOK_WINDOW_SECONDS):
        return
    try:
        cache.incr(key)
    except ValueError:  # it expired in between
        cache.set(key, 1, timeout=HOOK_WINDOW_SECONDS)


def sync(now: Any = None) -> int:
    """Read back the requests sent to Open311 systems: tokens resolved into ids, requests the
    service closed made *done externally*. Returns the hand-offs that changed."""
    now = now or timezone.now()
    changed = 0
    waiting = (
        Handoff.objects.filter(
            state=State.SENT, system__kind=RequestSystem.Kind.OPEN311, system__demo=False
        )
        .select_related("system", "conversation")
        .order_by("synced_at", "pk")[:SYNC_BATCH]
    )
    by_system: dict[int, list[Handoff]] = {}
    for handoff in waiting:
        by_system.setdefault(handoff.system_id, []).append(handoff)
    for handoffs in by_system.values():
        system = handoffs[0].system
        try:
            with _client(system) as client:
                for handoff in handoffs:
                    if not handoff.external_id and handoff.token:
                        resolved = client.resolve_token(handoff.token)
                        if resolved:
                            handoff.external_id = resolved
                            changed += 1
                statuses = {
                    status.service_request_id: status
                    for status in client.status([h.external_id for h in handoffs if h.external_id])
                }
        except ConnectorError:
            continue  # the next pass tries again; what was read stays as it was
        for handoff in handoffs:
            status = statuses.get(handoff.external_id)
            handoff.synced_at = now
            if status is not None and status.closed:
                _save(
                    handoff,
                    State.DONE_EXTERNALLY,
                    status_notes=status.status_notes,
                    closed_at=status.updated_datetime or now,
                    synced_at=now,
                )
                ConversationEvent.objects.create(
                    conversation=handoff.conversation,
                    kind="handoff",
                    after={"handoff": handoff.pk, "state": handoff.state},
                )
                changed += 1
            else:
                if status is not None:
                    handoff.status_notes = status.status_notes
                handoff.save(update_fields=["external_id", "synced_at", "status_notes"])
    return changed
