"""Background tasks of the organizations app: invitation e-mails and their expiry."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext as _

from beffroi.core.mail import relay_configured, send_by_relay
from beffroi.jobs.engine import PermanentFailure, RetryLater, periodic, task
from beffroi.notify.delivery import AlertMessage, DeliveryError
from beffroi.organizations import services
from beffroi.organizations.models import Invitation


def invitation_message(invitation: Invitation, key: str) -> AlertMessage:
    """The e-mail of an invitation, in the organization's language, with its link."""
    organization = invitation.organization
    with translation.override(organization.language or settings.LANGUAGE_CODE):
        values = {
            "organization": organization.name,
            "role": invitation.get_role_display(),
            "inviter": invitation.invited_by.get_username() if invitation.invited_by else "Beffroi",
            "date": formats.date_format(invitation.expires_at, "DATE_FORMAT"),
        }
        return AlertMessage(
            title=_("Beffroi: %(organization)s invites you to join it") % values,
            text=_(
                "%(inviter)s invites you to join %(organization)s as %(role)s. Open the link, "
                "log in, and accept or decline. Nothing changes until you accept; the "
                "invitation is valid until %(date)s. Your pending invitations are also listed "
                "under “Invitations” once you are logged in."
            )
            % values,
            url=settings.BEFFROI_PUBLIC_URL + reverse("invitations:open", kwargs={"key": key}),
            facts={_("Organization"): organization.name, _("Role"): values["role"]},
        )


@task(services.INVITATION_EMAIL_TASK, max_attempts=8)
def email_invitation(invitation_id: int) -> dict[str, Any]:
    """E-mail the invitee the link to their invitation, while it is open."""
    invitation = (
        Invitation.objects.select_related("organization", "invitee", "invited_by")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or not invitation.is_open or invitation.invitee is None:
        return {"sent": False, "reason": "not open"}
    if not invitation.invitee.email or not relay_configured():
        return {"sent": False, "reason": "no address or no SMTP relay"}
    message = invitation_message(invitation, services.issue_link_key(invitation))
    try:
        send_by_relay(message, [invitation.invitee.email])
    except DeliveryError as exc:
        if exc.retry_after is None:
            raise PermanentFailure(str(exc)) from exc
        raise RetryLater(str(exc), exc.retry_after) from exc
    return {"sent": True}


@periodic("organizations.expire_invitations", every_seconds=3600)
def expire_invitations_periodically() -> int:
    """Record the invitations whose time is over (each one an audit event)."""
    return services.expire_invitations()
