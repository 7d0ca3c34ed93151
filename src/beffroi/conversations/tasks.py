"""Background tasks of the desk: conversations from new items, sending replies, notices."""

from __future__ import annotations

from typing import Any

from beffroi.conversations.sending import SendLater, send
from beffroi.jobs.engine import PermanentFailure, RetryLater, periodic, task


@task("conversations.attach", lease_seconds=600, max_attempts=5)
def attach_task(organization_id: int) -> dict[str, Any]:
    from beffroi.conversations.services import attach_new_items
    from beffroi.organizations.models import Organization

    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        raise PermanentFailure(f"Organization {organization_id} no longer exists.")
    return {"attached": attach_new_items(organization)}


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
    from beffroi.core.mail import relay_configured, send_by_relay
    from beffroi.notify.delivery import AlertMessage, DeliveryError

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
    try:
        send_by_relay(message, addresses)
    except DeliveryError as exc:
        if exc.retry_after is None:
            raise PermanentFailure(str(exc)) from exc
        raise RetryLater(str(exc), exc.retry_after) from exc
    return {"sent": True, "to": len(addresses)}
