"""Background tasks of moderation: judging new items, platform actions, retraining."""

from __future__ import annotations

from typing import Any

from beffroi.jobs.engine import PermanentFailure, RetryLater, periodic, task
from beffroi.moderation.models import Decision
from beffroi.moderation.platform import RetryableActionError, cancel, perform
from beffroi.moderation.queue import request_judgement


@task("moderation.judge", lease_seconds=600, max_attempts=5)
def judge_task(organization_id: int | None = None) -> dict[str, Any]:
    """Judge every item still waiting, in batches, for one organization or all."""
    from beffroi.items.models import Item
    from beffroi.moderation.services import moderate_all_pending
    from beffroi.organizations.models import Organization

    organization = (
        Organization.objects.filter(pk=organization_id).first() if organization_id else None
    )
    looked_at = moderate_all_pending(organization)
    left = Item.objects.filter(state=Item.State.NEW)
    if organization is not None:
        left = left.filter(organization=organization)
    return {"looked_at": looked_at, "left": left.count()}


@periodic("moderation.judge_stragglers", every_seconds=30)
def judge_stragglers() -> int:
    """Safety net: items left ``new`` (a crash, an import by another process) get judged."""
    from beffroi.items.models import Item
    from beffroi.organizations.models import Organization

    pending = Item.objects.filter(state=Item.State.NEW).values_list("organization_id", flat=True)
    org_ids = set(pending.distinct()[:100])
    for organization in Organization.objects.filter(pk__in=org_ids):
        request_judgement(organization)
    return len(org_ids)


@task("moderation.platform_action", lease_seconds=120, max_attempts=8)
def platform_action_task(decision_id: int) -> dict[str, Any]:
    decision = (
        Decision.objects.select_related("item__source", "item__author", "organization")
        .filter(pk=decision_id)
        .first()
    )
    if decision is None:
        raise PermanentFailure(f"Decision {decision_id} no longer exists.")
    if decision.platform_status != Decision.PlatformStatus.PENDING:
        return {"status": decision.platform_status, "skipped": True}
    if decision.status != Decision.Status.APPLIED:
        # Undone (or overturned) before the platform was asked: nothing is sent.
        cancel(decision)
        return {"status": decision.platform_status, "cancelled": True}
    try:
        status = perform(decision)
    except RetryableActionError as exc:
        raise RetryLater(str(exc), exc.delay) from exc
    return {"status": status}


@task("moderation.retrain", lease_seconds=1800, max_attempts=2, slow=True)
def retrain_task(organization_id: int, user_id: int | None = None) -> dict[str, Any]:
    from beffroi.moderation.learning import retrain
    from beffroi.organizations.models import Organization

    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        raise PermanentFailure(f"Organization {organization_id} no longer exists.")
    version = retrain(organization, user_id=user_id)
    return {"version": version.version, "trained_on": version.trained_on}


@task("moderation.email_escalation", max_attempts=8)
def email_escalation(case_id: int, decision_id: int) -> dict[str, Any]:
    """E-mail those an escalation is for (the chosen member or the leads), in the
    organization's language, with the link to the case."""
    from django.conf import settings
    from django.urls import reverse
    from django.utils import translation
    from django.utils.translation import gettext as _

    from beffroi.core.mail import relay_configured, send_by_relay
    from beffroi.moderation.models import Case
    from beffroi.moderation.services import escalation_recipients
    from beffroi.notify.delivery import AlertMessage, DeliveryError

    case = (
        Case.objects.select_related("organization", "item__author", "escalated_to")
        .filter(pk=case_id)
        .first()
    )
    decision = Decision.objects.select_related("actor").filter(pk=decision_id).first()
    if case is None or decision is None or case.state == Case.State.CLOSED:
        return {"sent": False, "reason": "closed"}
    addresses = [user.email for user in escalation_recipients(case) if user.email]
    if not addresses or not relay_configured():
        return {"sent": False, "reason": "no address or no SMTP relay"}
    organization = case.organization
    with translation.override(organization.language or settings.LANGUAGE_CODE):
        values = {
            "name": decision.actor.get_username() if decision.actor else "Beffroi",
            "organization": organization.name,
            "handle": case.item.author.handle,
        }
        message = AlertMessage(
            title=_("Beffroi: %(name)s escalated a case to you (%(organization)s)") % values,
            text=_(
                "%(name)s needs your decision on a post by @%(handle)s. Open the case, take it "
                "and decide."
            )
            % values,
            url=settings.BEFFROI_PUBLIC_URL
            + reverse("moderation:case", kwargs={"org_slug": organization.slug, "pk": case.pk}),
            facts={_("Note"): decision.note} if decision.note else {},
        )
    try:
        send_by_relay(message, addresses)
    except DeliveryError as exc:
        if exc.retry_after is None:
            raise PermanentFailure(str(exc)) from exc
        raise RetryLater(str(exc), exc.retry_after) from exc
    return {"sent": True, "to": len(addresses)}
