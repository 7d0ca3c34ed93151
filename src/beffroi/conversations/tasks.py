"""Background tasks of the desk: conversations from new items, sending replies, notices."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from beffroi.conversations.sending import SendLater, send
from beffroi.jobs.engine import PermanentFailure, RetryLater, periodic, task


@task("conversations.attach", lease_seconds=600, max_attempts=5, queue="slow")
def attach_task(organization_id: int) -> dict[str, Any]:
    from beffroi.conversations.services import attach_new_items
    from beffroi.organizations.models import Organization

    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        raise PermanentFailure(f"Organization {organization_id} no longer exists.")
    attached = attach_new_items(organization)
    from beffroi.conversations.models import Conversation
    from beffroi.conversations.queue import request_request_judgement

    if Conversation.objects.for_org(organization).filter(is_request=None).exists():
        request_request_judgement(organization)
    return {"attached": attached}


@task("conversations.judge_requests", lease_seconds=900, max_attempts=3, slow=True)
def judge_requests_task(organization_id: int) -> dict[str, Any]:
    """Which new conversations are requests, and for which service (the models are trained
    once, then read from the cache)."""
    from beffroi.conversations.models import Conversation
    from beffroi.conversations.queue import request_request_judgement
    from beffroi.conversations.requests import judge_new_conversations
    from beffroi.organizations.models import Organization

    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        raise PermanentFailure(f"Organization {organization_id} no longer exists.")
    judged = judge_new_conversations(organization)
    if Conversation.objects.for_org(organization).filter(is_request=None).exists():
        request_request_judgement(organization)  # a backlog: the next batch
    return {"judged": judged}


@periodic("conversations.attach_stragglers", every_seconds=60)
def attach_stragglers() -> int:
    """Safety net: items an ingestion stored without its signal (another process, a crash)."""
    from django.db.models import F, Max

    from beffroi.conversations.queue import request_attach
    from beffroi.organizations.models import Organization

    behind = (
        Organization.objects.annotate(newest=Max("items__id"))
        .exclude(newest=None)
        .exclude(conversation_cursor__last_item_id__gte=F("newest"))
    )
    count = 0
    for organization in behind[:100]:
        request_attach(organization)
        count += 1
    return count


@task("conversations.send_reply", lease_seconds=120, max_attempts=8)
def send_reply_task(reply_id: int, resolve: bool = False) -> dict[str, Any]:
    try:
        return {"state": send(reply_id, resolve=resolve)}
    except SendLater as exc:
        raise RetryLater(str(exc), exc.delay) from exc


@task("conversations.mention_notice", max_attempts=8)
def mention_notice(note_id: int) -> dict[str, Any]:
    """E-mail the members a note mentions, in the organization's language, with the link."""
    from django.conf import settings
    from django.urls import reverse
    from django.utils import translation
    from django.utils.translation import gettext as _

    from beffroi.conversations.models import Note
    from beffroi.core.mail import relay_configured
    from beffroi.notify.delivery import AlertMessage

    note = Note.objects.select_related("conversation__organization", "author").filter(pk=note_id)
    found = note.first()
    if found is None:
        return {"sent": False, "reason": "gone"}
    addresses = [user.email for user in found.mentions.all() if user.email]
    if not addresses or not relay_configured():
        return {"sent": False, "reason": "no address or no SMTP relay"}
    conversation = found.conversation
    organization = conversation.organization
    with translation.override(organization.language or settings.LANGUAGE_CODE):
        values = {
            "name": found.author.get_username() if found.author else "Beffroi",
            "organization": organization.name,
        }
        message = AlertMessage(
            title=_("Beffroi: %(name)s mentioned you in a conversation (%(organization)s)")
            % values,
            text=found.text,
            url=settings.BEFFROI_PUBLIC_URL
            + reverse(
                "conversations:detail",
                kwargs={"org_slug": organization.slug, "pk": conversation.pk},
            ),
            facts={},
        )
    return _email(message, addresses)


#: Conversations read per pass of the response-time watch: those due soon, and those whose
#: deadline columns were never computed.
SLA_WATCH_LIMIT = 5000


@periodic("conversations.sla_watch", every_seconds=300)
def sla_watch() -> int:
    """Warn the assignee and the team's leads once before a response time is breached (due
    soon), by e-mail in the organization's language; returns the warnings asked for.

    The candidates are found by their deadline columns (``due_soon_at <= now < due_at``), the
    most urgent first, and each one's clock is read again before it is warned about. First,
    live conversations whose columns were never computed (written before the columns existed,
    or by a backfill that failed) get them: those in a state where a clock always runs."""
    from beffroi.analysis.business_time import SlaStatus
    from beffroi.conversations import sla
    from beffroi.conversations.models import Conversation
    from beffroi.conversations.queue import request_sla_warning

    State = Conversation.State
    missing = Conversation.objects.filter(
        state__in=[State.NEW, State.OPEN, State.ANSWERED], due_at=None
    ).order_by("pk")
    unfilled = list(missing.values_list("pk", flat=True)[:SLA_WATCH_LIMIT])
    if unfilled:
        sla.refresh_due_of(Conversation.objects.filter(pk__in=unfilled))
    now = timezone.now()
    candidates = (
        Conversation.objects.filter(sla.due_soon_filter(now))
        .exclude(state__in=[State.RESOLVED, State.CLOSED])
        .filter(models.Q(assignee__isnull=False) | models.Q(team__isnull=False))
        .select_related("organization", "team")
        .order_by("due_at")[:SLA_WATCH_LIMIT]
    )
    asked = 0
    conversations = list(candidates)
    # One read of each organization's targets, not one per conversation.
    running = sla.clocks(conversations, now)
    for conversation in conversations:
        clock = running.get(conversation.pk)
        if clock is None or clock.status != SlaStatus.DUE_SOON or clock.deadline is None:
            continue
        mark = f"{clock.target}:{clock.deadline.isoformat()}"[:80]
        if conversation.sla_warned == mark:
            continue
        updated = (
            Conversation.objects.filter(pk=conversation.pk)
            .exclude(sla_warned=mark)
            .update(sla_warned=mark)
        )
        if updated:  # another sweeper did not take it first
            request_sla_warning(conversation.pk)
            asked += 1
    return asked


@task("conversations.refresh_due", lease_seconds=900, max_attempts=3)
def refresh_due_task(organization_id: int) -> dict[str, Any]:
    """Compute again the deadlines of an organization's live conversations, after its targets
    or a team's calendar changed (in batches: :func:`beffroi.conversations.sla.refresh_due_of`)."""
    from beffroi.conversations import sla
    from beffroi.conversations.models import Conversation

    changed = sla.refresh_due_of(Conversation.objects.filter(organization_id=organization_id))
    return {"changed": changed}


@task("conversations.sla_warning", max_attempts=8)
def sla_warning(conversation_id: int) -> dict[str, Any]:
    """E-mail that a conversation's response time is due soon."""
    from django.conf import settings
    from django.urls import reverse
    from django.utils import translation
    from django.utils.translation import gettext as _

    from beffroi.conversations import sla
    from beffroi.conversations.models import Conversation
    from beffroi.core.mail import relay_configured
    from beffroi.notify.delivery import AlertMessage

    conversation = (
        Conversation.objects.select_related("organization", "assignee", "team", "author")
        .filter(pk=conversation_id)
        .first()
    )
    clock = sla.clock(conversation) if conversation is not None else None
    if conversation is None or clock is None or clock.deadline is None:
        return {"sent": False, "reason": "no running clock"}
    people = [conversation.assignee] if conversation.assignee else []
    if conversation.team is not None:
        people += list(conversation.team.leads.all())
    addresses = sorted({person.email for person in people if person.email})
    if not addresses or not relay_configured():
        return {"sent": False, "reason": "no address or no SMTP relay"}
    organization = conversation.organization
    with translation.override(organization.language or settings.LANGUAGE_CODE):
        values = {
            "handle": conversation.author.handle,
            "target": clock.target_label,
            "deadline": timezone.localtime(clock.deadline).strftime("%d/%m/%Y %H:%M"),
            "organization": organization.name,
        }
        message = AlertMessage(
            title=_("Beffroi: the %(target)s to @%(handle)s is due %(deadline)s") % values,
            text=_(
                "The conversation with @%(handle)s (%(organization)s) reaches its response "
                "time at %(deadline)s."
            )
            % values,
            url=settings.BEFFROI_PUBLIC_URL
            + reverse(
                "conversations:detail",
                kwargs={"org_slug": organization.slug, "pk": conversation.pk},
            ),
            facts={},
        )
    return _email(message, addresses)


# More runs than the hand-off's own attempts (handoff.SEND_ATTEMPTS, 8): a run that stopped
# before calling the system is not one of them, and the last attempt records its outcome.
@task("conversations.hand_off", lease_seconds=120, max_attempts=10)
def hand_off_task(handoff_id: int) -> dict[str, Any]:
    from beffroi.conversations import handoff

    try:
        return {"state": handoff.send(handoff_id)}
    except handoff.SendLater as exc:
        raise RetryLater(str(exc), exc.delay) from exc


@periodic("conversations.handoff_sync", every_seconds=900)
def handoff_sync() -> int:
    """What the services did with the requests handed off (tokens, closed requests)."""
    from beffroi.conversations import handoff

    return handoff.sync()


def _email(message: Any, addresses: list[str]) -> dict[str, Any]:
    """Send through the relay; a refusal that may pass is tried again later, the others
    end the job."""
    from beffroi.core.mail import send_by_relay
    from beffroi.notify.delivery import DeliveryError

    try:
        send_by_relay(message, addresses)
    except DeliveryError as exc:
        if exc.retry_after is None:
            raise PermanentFailure(str(exc)) from exc
        raise RetryLater(str(exc), exc.retry_after) from exc
    return {"sent": True, "to": len(addresses)}


@task("conversations.retrain_requests", lease_seconds=1800, max_attempts=2, slow=True)
def retrain_requests_task(organization_id: int, user_id: int | None = None) -> dict[str, Any]:
    """Retrain the request models on the organization's corrections (into shadow)."""
    from django.contrib.auth import get_user_model

    from beffroi.conversations.learning import retrain
    from beffroi.organizations.models import Organization

    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        raise PermanentFailure(f"Organization {organization_id} no longer exists.")
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    model = retrain(organization, user)
    return {
        "model": model.pk,
        "detection": model.detection_corrections,
        "routing": model.routing_corrections,
    }
