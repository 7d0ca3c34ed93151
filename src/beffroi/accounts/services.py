"""Changes to people's own accounts: API tokens, two-factor authentication, passwords.

Each checks its rule, writes and records its audit event, whatever face asked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from beffroi.accounts.models import ApiToken
from beffroi.audit.actions import AuditAction
from beffroi.audit.services import Actor, record, snapshot

#: The name of the authenticator device a person pairs (one per person).
DEVICE_NAME = "default"


def issue_api_token(
    actor: Actor, user: Any, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new API token of ``user``; the clear key is returned once, only its hash is kept."""
    token, key = ApiToken.issue(user, name, expires_at=expires_at)
    record(actor, AuditAction.API_TOKEN_CREATE, obj=token, after=snapshot(token))
    return token, key


def revoke_api_token(actor: Actor, token: ApiToken) -> bool:
    """Revoke ``token``; ``False`` when it was revoked already (nothing written)."""
    if token.revoked:
        return False
    before = snapshot(token)
    token.revoked = True
    token.save(update_fields=["revoked"])
    record(actor, AuditAction.API_TOKEN_REVOKE, obj=token, before=before, after=snapshot(token))
    return True


def device_to_pair(user: Any) -> TOTPDevice:
    """The authenticator device ``user`` is pairing: the newest unconfirmed one, else a new
    one. Not audited: nothing is turned on until :func:`enable_two_factor` confirms it."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def enable_two_factor(actor: Actor, device: TOTPDevice, code: str) -> TOTPDevice:
    """Confirm ``device`` with a ``code`` it generated: it becomes its user's only device.

    A wrong code, or one typed too soon after wrong ones (django-otp's throttling), is
    refused with a :class:`ValidationError` and nothing is turned on.
    """
    if not device.verify_is_allowed()[0]:
        raise ValidationError(_("Too many wrong codes. Wait a little, then retry."))
    if not device.verify_token(code):
        raise ValidationError(_("This code is not valid. Check the time on your phone and retry."))
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        record(
            actor,
            AuditAction.USER_TWO_FACTOR_ENABLE,
            obj=device,
            after={"device": device.name, "user": device.user.get_username()},
        )
    return device


def change_password(actor: Actor, user: Any, new_password: str) -> None:
    """Set ``user``'s password (already checked against the old one and the validators)."""
    user.set_password(new_password)
    user.save()
    record(actor, AuditAction.USER_PASSWORD_CHANGE, obj=user)
