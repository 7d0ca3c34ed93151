"""Changes to sources; credentials are validated, encrypted and never written to the audit."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from beffroi.audit.actions import AuditAction
from beffroi.audit.services import Actor, record, snapshot
from beffroi.connectors.base import WATCH_HASHTAGS, ConfigurationError, ConnectedAccount
from beffroi.connectors.registry import connector_class
from beffroi.jobs.engine import enqueue
from beffroi.jobs.models import Job
from beffroi.organizations.models import Organization
from beffroi.sources import redaction
from beffroi.sources.credentials import resolve_alerts
from beffroi.sources.models import UPLOAD_PLATFORMS, Source, secret_options

SYNC_TASK = "sources.sync"


def settings_to_store(
    platform: str, incoming: dict[str, Any], stored: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``incoming`` settings with the stored secrets back where they came back hidden (as
    the API and the edit form show them); a hidden part with nothing stored is refused."""
    settings = redaction.restore(incoming, stored or {}, secret_options(platform))
    if redaction.hidden_left(settings):
        raise ValidationError(
            _(
                "A setting still contains %(placeholder)s where no value is stored: type the "
                "hidden value again."
            )
            % {"placeholder": redaction.REDACTED}
        )
    return settings


def validate_source_options(
    platform: str, settings: dict[str, Any], credentials: dict[str, Any]
) -> None:
    try:
        connector_class(platform).validate_options(settings, credentials)
    except ConfigurationError as exc:
        raise ValidationError(str(exc)) from exc


@transaction.atomic
def create_source(
    actor: Actor,
    org: Organization,
    *,
    name: str,
    platform: str,
    kind: str = Source.Kind.ACCOUNT,
    settings: dict[str, Any] | None = None,
    credentials: dict[str, Any] | None = None,
    enabled: bool = True,
    sync_interval_minutes: int | None = None,
) -> Source:
    """A new source of ``org``; ``sync_interval_minutes=None`` keeps the model's default."""
    settings, credentials = settings_to_store(platform, settings or {}), credentials or {}
    if platform not in UPLOAD_PLATFORMS:
        validate_source_options(platform, settings, credentials)
    source = Source(
        organization=org,
        name=name,
        platform=platform,
        kind=kind,
        settings=settings,
        enabled=enabled,
    )
    if sync_interval_minutes is not None:
        source.sync_interval_minutes = sync_interval_minutes
    source.set_credentials(credentials)
    source.full_clean()
    source.save()
    after = snapshot(source) | {"has_credentials": source.has_credentials}
    record(actor, AuditAction.SOURCE_CREATE, organization=org, obj=source, after=after)
    return source


@transaction.atomic
def update_source(
    actor: Actor,
    source: Source,
    *,
    credentials: dict[str, Any] | None = None,
    **changes: Any,
) -> Source:
    """Change a source; ``credentials=None`` keeps the stored ones."""
    before = snapshot(source) | {"has_credentials": source.has_credentials}
    if changes.get("settings") is not None:
        changes["settings"] = settings_to_store(
            source.platform, changes["settings"], source.settings
        )
    for field, value in changes.items():
        setattr(source, field, value)
    new_credentials = credentials if credentials is not None else source.get_credentials()
    if not source.is_upload:
        validate_source_options(source.platform, source.settings, new_credentials)
    if credentials is not None:
        source.set_credentials(credentials)
        if source.status == Source.Status.AUTH_FAILED:
            source.status, source.last_error = Source.Status.NEW, ""
    source.full_clean()
    source.save()
    if credentials is not None:
        resolve_alerts(source)
    after = snapshot(source) | {
        "has_credentials": source.has_credentials,
        "credentials_changed": credentials is not None,
    }
    record(
        actor,
        AuditAction.SOURCE_UPDATE,
        organization=source.organization,
        obj=source,
        before=before,
        after=after,
    )
    return source


def request_sync(actor: Actor, source: Source) -> Job:
    """Queue a sync of ``source`` (one live job per source) and audit the request."""
    if source.is_upload:
        raise ValidationError(_("A file source is filled by importing a file, not by a sync."))
    if not source.enabled:
        raise ValidationError(_("This source is disabled: enable it before syncing."))
    job = enqueue(
        SYNC_TASK,
        {"source_id": source.pk},
        organization=source.organization,
        dedupe_key=f"{SYNC_TASK}:{source.pk}",
    )
    record(
        actor,
        AuditAction.SOURCE_SYNC_REQUEST,
        organization=source.organization,
        obj=source,
        after={"job": job.pk},
    )
    return job


def start_connection(
    actor: Actor, org: Organization, platform: str, *, reconnect: Source | None = None
) -> None:
    """Audit that ``actor`` leaves for ``platform``'s sign-in page to connect an account (or
    to reconnect ``reconnect``); :func:`connect_accounts` stores what the sign-in gives."""
    record(
        actor,
        AuditAction.SOURCE_OAUTH_START,
        organization=org,
        after={"platform": platform, "reconnect": str(reconnect.pk) if reconnect else None},
    )


def set_watch_hashtags(actor: Actor, source: Source, hashtags: str) -> bool:
    """Give ``source`` the #hashtags the organization's watches listen to, in its
    ``watch_hashtags`` setting, and audit the change; returns whether it changed.

    Only the veille writes this setting, and the next sync reads it: the administrator's own
    settings are left as they are and the connector's options are not checked again (a
    source waiting for its credentials still gets the hashtags).
    """
    before = dict(source.settings or {})
    if before.get(WATCH_HASHTAGS, "") == hashtags:
        return False
    with transaction.atomic():
        source.settings = {**before, WATCH_HASHTAGS: hashtags}
        source.save(update_fields=["settings"])
        record(
            actor,
            AuditAction.SOURCE_UPDATE,
            organization=source.organization,
            obj=source,
            before={"settings": redaction.redact(before, secret_options(source.platform))},
            after={"settings": source.shown_settings},
        )
    return True


def _same_account(account: ConnectedAccount, source: Source) -> bool:
    """Whether ``account`` is the platform account ``source`` reads (same identity settings)."""
    identity = {k: v for k, v in account.settings.items() if k != "base_url" and v}
    shared = [k for k in identity if k in source.settings]
    return bool(shared) and all(str(source.settings[k]) == str(identity[k]) for k in shared)


def connect_accounts(
    actor: Actor,
    org: Organization,
    platform: str,
    accounts: list[ConnectedAccount],
    *,
    reconnect: Source | None = None,
) -> list[Source]:
    """Sources for the accounts an OAuth sign-in gave: an account already connected gets its
    new credentials (a reconnection), another becomes a new source named after it."""
    done: list[Source] = []
    existing = list(Source.objects.for_org(org).filter(platform=platform))
    for account in accounts:
        match = next((s for s in existing if _same_account(account, s)), None)
        if reconnect is not None and match is None and len(accounts) == 1:
            match = reconnect
        if match is not None:
            settings = {**match.settings, **account.settings}
            done.append(
                update_source(
                    actor, match, credentials=dict(account.credentials), settings=settings
                )
            )
            continue
        name = account.name[:120] or platform
        taken = {s.name for s in Source.objects.for_org(org)}
        suffix = 2
        while name in taken:
            name = f"{account.name[:110]} ({suffix})"
            suffix += 1
        done.append(
            create_source(
                actor,
                org,
                name=name,
                platform=platform,
                settings=dict(account.settings),
                credentials=dict(account.credentials),
            )
        )
    return done
