"""Keeping connections alive: refresh before expiry, and tell the administrators when a
person must act (credentials refused, or expiring without a way to refresh them).

A connection never breaks silently: every refusal and every approaching expiry becomes a
:class:`ConnectionAlert` shown to the organization's administrators in the interface and
sent to them by e-mail, naming the source and what to do; the other sources go on syncing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from beffroi.audit.actions import AuditAction
from beffroi.audit.services import Actor, record
from beffroi.connectors.base import AuthError, AuthMethod, Connector, ConnectorError, expiry_of
from beffroi.connectors.registry import connector_class
from beffroi.jobs.engine import enqueue
from beffroi.organizations.models import Membership
from beffroi.organizations.roles import Role
from beffroi.sources.models import UPLOAD_PLATFORMS, ConnectionAlert, Source

log = logging.getLogger(__name__)

#: A token that expires within this margin is refreshed before a sync or an action.
REFRESH_MARGIN = timedelta(minutes=15)
#: The hourly check refreshes tokens that expire within this.
REFRESH_AHEAD = timedelta(hours=24)
#: Tokens that cannot be refreshed are announced this long before they expire.
WARN_AHEAD = timedelta(days=7)
EMAIL_TASK = "sources.email_connection_alert"


def build_connector(source: Source) -> Connector:
    """The source's connector with its decrypted credentials."""
    return connector_class(source.platform)(source.settings, source.get_credentials())


def _store(source: Source, credentials: dict[str, object]) -> None:
    source.set_credentials(dict(credentials))
    source.save(update_fields=["credentials_encrypted"])
    record(
        Actor.system("credentials"),
        AuditAction.SOURCE_CREDENTIALS_REFRESHED,
        organization=source.organization,
        obj=source,
        after={"expires_at": credentials.get("expires_at")},
    )


def ready_connector(source: Source, *, margin: timedelta = REFRESH_MARGIN) -> Connector:
    """The source's connector, its token refreshed first when it expires within ``margin``.

    Raises :class:`AuthError` when the token has expired and cannot be refreshed, or when the
    platform refuses the refresh.
    """
    connector = build_connector(source)
    expires = expiry_of(connector.credentials)
    now = timezone.now()
    if expires is None or expires - now > margin:
        return connector
    fresh = connector.refresh_credentials()
    if fresh is not None:
        _store(source, dict(fresh))
        return build_connector(source)
    if expires <= now:
        raise AuthError(
            f"{connector.label}: the access token expired on "
            f"{expires.isoformat(timespec='minutes')}. Connect the account again in Beffroi."
        )
    return connector


def what_to_do(source: Source) -> str:
    """The sentence an administrator reads under an alert."""
    try:
        method = connector_class(source.platform).auth
    except ConnectorError:
        method = AuthMethod.TOKEN
    if method is AuthMethod.OAUTH2:
        return _("Open Sources and choose “Reconnect” for this source to sign in again.")
    return _("Open Sources, edit this source and enter new credentials.")


def raise_alert(
    source: Source, kind: str, message: str, *, expires_at: datetime | None = None
) -> ConnectionAlert:
    """Open (or update) the alert of ``kind`` for ``source``; a new one is e-mailed."""
    with transaction.atomic():
        alert = (
            ConnectionAlert.objects.select_for_update()
            .filter(source=source, kind=kind, resolved_at__isnull=True)
            .first()
        )
        if alert is None:
            alert = ConnectionAlert.objects.create(
                organization=source.organization,
                source=source,
                kind=kind,
                message=message,
                expires_at=expires_at,
            )
            enqueue(
                EMAIL_TASK,
                {"alert_id": alert.pk},
                organization=source.organization,
                dedupe_key=f"{EMAIL_TASK}:{alert.pk}",
            )
        elif alert.message != message or alert.expires_at != expires_at:
            alert.message, alert.expires_at = message, expires_at
            alert.save(update_fields=["message", "expires_at", "updated_at"])
    return alert


def resolve_alerts(source: Source, *kinds: str) -> int:
    """Close the open alerts of ``source`` (of ``kinds``, or all)."""
    open_alerts = ConnectionAlert.objects.filter(source=source, resolved_at__isnull=True)
    if kinds:
        open_alerts = open_alerts.filter(kind__in=kinds)
    return open_alerts.update(resolved_at=timezone.now())


def credentials_refused(source: Source, error: AuthError) -> ConnectionAlert:
    """A sync or an action met refused credentials: mark the source and alert."""
    Source.objects.filter(pk=source.pk).update(
        status=Source.Status.AUTH_FAILED, last_error=str(error)
    )
    return raise_alert(source, ConnectionAlert.Kind.REFUSED, str(error))


def check_credentials(now: datetime | None = None) -> dict[str, int]:
    """Refresh tokens that expire within a day; announce those that cannot be refreshed."""
    moment = now or timezone.now()
    counts = {"refreshed": 0, "refused": 0, "expiring": 0}
    sources = (
        Source.objects.filter(enabled=True)
        .exclude(platform__in=UPLOAD_PLATFORMS)
        .exclude(credentials_encrypted="")
        .exclude(status=Source.Status.AUTH_FAILED)
        .select_related("organization")
    )
    for source in sources:
        expires = expiry_of(source.get_credentials())
        if expires is None or expires - moment > WARN_AHEAD:
            continue
        try:
            connector = build_connector(source)
        except ConnectorError:
            continue  # a broken configuration is reported by its sync
        try:
            outcome = _renew_or_announce(source, connector, expires, moment)
        finally:
            connector.close()
        if outcome:
            counts[outcome] += 1
    return counts


def _renew_or_announce(
    source: Source, connector: Connector, expires: datetime, moment: datetime
) -> str | None:
    """Refresh ``source``'s token, or alert that it will expire; what was done, if anything."""
    if expires - moment > REFRESH_AHEAD and connector.can_refresh():
        return None  # refreshed by a later check, once within REFRESH_AHEAD
    try:
        fresh = connector.refresh_credentials()
    except AuthError as exc:
        credentials_refused(source, exc)
        return "refused"
    except ConnectorError as exc:
        log.warning("refreshing the token of source %s failed: %s", source.pk, exc)
        return None
    if fresh is not None:
        _store(source, dict(fresh))
        resolve_alerts(source, ConnectionAlert.Kind.EXPIRING)
        return "refreshed"
    with translation.override(source.organization.language or settings.LANGUAGE_CODE):
        message = _(
            "The access of “%(source)s” to %(platform)s expires on %(date)s and cannot be "
            "renewed automatically."
        ) % {
            "source": source.name,
            "platform": connector.label,
            "date": formats.date_format(timezone.localtime(expires), "DATETIME_FORMAT"),
        }
    raise_alert(source, ConnectionAlert.Kind.EXPIRING, message, expires_at=expires)
    return "expiring"


def admin_emails(alert: ConnectionAlert) -> list[str]:
    """The addresses of the organization's administrators."""
    members = Membership.objects.filter(
        organization=alert.organization, role=Role.ADMIN, user__is_active=True
    ).select_related("user")
    return sorted({m.user.email for m in members if m.user.email})


def alert_url(alert: ConnectionAlert) -> str:
    return settings.BEFFROI_PUBLIC_URL + reverse(
        "sources:list", kwargs={"org_slug": alert.organization.slug}
    )
