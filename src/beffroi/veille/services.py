"""Changes people make to the veille, whatever face asked (web page, API, command line).

Each function checks the rule, writes, and records the audit event, so that a watch saved on
its page and one created through the API are checked alike, made by the same person and
recorded alike. Views and routers parse their input, call one of these, and show the
outcome. The scan's own writes (hits, matches, narratives, campaigns, flags, alerts) are the
analysis steps' (``watch_query``, ``claims``, ``narratives``…); what an analyst's edit does to
a step's state (the narratives' clusterer) is done by that step's module, called from here.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from beffroi.analysis.claims.library import (
    LibraryImportError,
    NestingTooDeep,
    claims_from_csv,
    claims_from_html,
    claims_from_json,
)
from beffroi.audit.actions import AuditAction
from beffroi.audit.services import Actor, record, snapshot
from beffroi.items.models import Item
from beffroi.organizations.models import Organization
from beffroi.veille import claims, impersonation, narratives, watch_query
from beffroi.veille.forms import ChannelForm, ClaimForm, IdentityForm, WatchForm
from beffroi.veille.models import (
    Alert,
    AlertChannel,
    Campaign,
    CheckedClaim,
    ImpersonationFlag,
    Narrative,
    ProtectedIdentity,
    Watch,
)


def _user(actor: Actor) -> Any:
    """The person behind ``actor``, who becomes ``created_by`` (none for the system)."""
    return actor.user if getattr(actor.user, "is_authenticated", False) else None


def _stored(obj: models.Model) -> dict[str, Any] | None:
    """The object as the database holds it before a form changes it (none when new)."""
    if obj.pk is None:
        return None
    return snapshot(type(obj)._default_manager.get(pk=obj.pk))


def _delete(actor: Actor, obj: Any, action: AuditAction, before: Any = None) -> None:
    """Delete one object of an organization, with its audit event (what it was)."""
    with transaction.atomic():
        record(
            actor,
            action,
            organization=obj.organization,
            obj=obj,
            before=snapshot(obj) if before is None else before,
        )
        obj.delete()


# --- watches -----------------------------------------------------------------------------


def watch_form(
    organization: Organization, actor: Actor, data: Any = None, watch: Watch | None = None
) -> WatchForm:
    """The form a watch is checked with, by the web page and the API alike; a new watch is
    created by ``actor``'s user."""
    return WatchForm(
        data, instance=watch or Watch(organization=organization, created_by=_user(actor))
    )


def save_watch(actor: Actor, form: WatchForm) -> Watch | None:
    """Save a watch from its form, once every rule holds (a valid query, a sensitivity from 0
    to 1, a name of its own in the organization); it then looks at every item at once.
    None when a rule does not hold: the reasons are on the form."""
    if not form.is_valid():
        return None
    watch: Watch = form.instance
    taken = Watch.objects.for_org(watch.organization).filter(name=form.cleaned_data["name"])
    if taken.exclude(pk=watch.pk).exists():
        form.add_error("name", _("A watch of this name exists."))
        return None
    before = _stored(watch)
    with transaction.atomic():
        saved = form.save()
        record(
            actor,
            AuditAction.WATCH_SAVE,
            organization=saved.organization,
            obj=saved,
            before=before,
            after=snapshot(saved),
        )
    watch_query.watch_saved(saved)
    return saved


def delete_watch(actor: Actor, watch: Watch) -> None:
    """Delete a watch (its hits go with it); the sources stop listening to its hashtags."""
    _delete(actor, watch, AuditAction.WATCH_DELETE)
    watch_query.sync_listening(watch.organization)


# --- alerts and their channels -----------------------------------------------------------


def acknowledge_alert(actor: Actor, alert: Alert) -> None:
    """Someone has seen the alert, with every trigger grouped in it; acknowledging it again
    changes nothing."""
    alert = alert.grouped_into or alert
    if alert.acknowledged_at is not None:
        return
    with transaction.atomic():
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by = _user(actor)
        alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
        alert.joined.update(acknowledged_at=alert.acknowledged_at, acknowledged_by=_user(actor))
        record(actor, AuditAction.ALERT_ACKNOWLEDGE, organization=alert.organization, obj=alert)


def _channel_snapshot(channel: AlertChannel | None) -> dict[str, Any] | None:
    """A channel for the audit trail: whether it has a Matrix token, never the token, even
    encrypted (credentials are never written to the audit trail)."""
    if channel is None:
        return None
    data = snapshot(channel)
    data.pop("secret_encrypted", None)
    return data | {"has_secret": bool(channel.secret_encrypted)}


def channel_form(
    organization: Organization, data: Any = None, channel: AlertChannel | None = None
) -> ChannelForm:
    channel = channel or AlertChannel(organization=organization)
    return ChannelForm(data, instance=channel, initial={"kinds": channel.kinds})


def save_channel(actor: Actor, form: ChannelForm) -> AlertChannel | None:
    """Save an alert channel once its address suits its kind (e-mail addresses, an http(s)
    address, a Matrix room and token); None when it does not: the reasons are on the form."""
    if not form.is_valid():
        return None
    pk = form.instance.pk
    before = _channel_snapshot(AlertChannel.objects.get(pk=pk) if pk else None)
    with transaction.atomic():
        saved = form.save()
        record(
            actor,
            AuditAction.ALERT_CHANNEL_SAVE,
            organization=saved.organization,
            obj=saved,
            before=before,
            after=_channel_snapshot(saved),
        )
    return saved


def delete_channel(actor: Actor, channel: AlertChannel) -> None:
    _delete(actor, channel, AuditAction.ALERT_CHANNEL_DELETE, _channel_snapshot(channel))


# --- the fact-check library --------------------------------------------------------------


def claim_form(
    organization: Organization,
    actor: Actor,
    data: Any = None,
    claim: CheckedClaim | None = None,
    rebutting: Item | None = None,
) -> ClaimForm:
    """The form of a claim typed in by ``actor``'s user; for a new claim with ``rebutting``
    (the organization's own post), a rebuttal prefilled from that post."""
    if claim is None and rebutting is not None:
        claim = claims.rebuttal_draft(rebutting, _user(actor))
        claim.verdict = _("False")
    elif claim is None:
        claim = CheckedClaim(organization=organization, created_by=_user(actor))
    return ClaimForm(data, instance=claim)


def save_claim(actor: Actor, form: ClaimForm) -> CheckedClaim | None:
    """Save a claim of the library, once it is not already there (the same statement checked
    at the same address, or denied by the same post); items are then matched against the
    library again. None when a rule does not hold: the reasons are on the form."""
    if not form.is_valid():
        return None
    claim: CheckedClaim = form.instance
    rebuttal = f"item:{claim.item_id}" if claim.item_id else ""
    key = claims.claim_key(form.cleaned_data["statement"], form.cleaned_data["url"] or rebuttal)
    library = CheckedClaim.objects.for_org(claim.organization)
    if library.filter(key=key).exclude(pk=claim.pk).exists():
        form.add_error(
            "statement", _("This claim, checked at this address, is already in the library.")
        )
        return None
    before = _stored(claim)
    with transaction.atomic():
        saved: CheckedClaim = form.save(commit=False)
        saved.key = key
        saved.save()
        claims.library_changed(saved.organization)
        record(
            actor,
            AuditAction.CLAIM_SAVE,
            organization=saved.organization,
            obj=saved,
            before=before,
            after=snapshot(saved),
        )
    return saved


def delete_claim(actor: Actor, claim: CheckedClaim) -> None:
    _delete(actor, claim, AuditAction.CLAIM_DELETE)
    claims.library_changed(claim.organization)


def import_claims(
    actor: Actor,
    organization: Organization,
    content: bytes,
    file_format: str,
    *,
    page_url: str = "",
) -> claims.LibraryImport:
    """Add a fact-checker's file to the library: ``file_format`` is ``jsonld`` (a ClaimReview
    feed), ``html`` (pages carrying ClaimReview) or ``csv``; ``page_url``, the address the
    file came from, resolves relative review addresses. A claim already in the library
    is kept as it is. Raises ValidationError, storing nothing, when the file cannot be read
    or holds no claim; what was skipped, left out or shortened is in the result's notes."""
    notes: list[str] = []
    try:
        text = content.decode("utf-8-sig")
        if file_format == "csv":
            parsed = claims_from_csv(text)
        elif file_format == "html":
            parsed = claims_from_html(text, page_url=page_url, notes=notes)
        else:
            parsed = claims_from_json(text, page_url=page_url, notes=notes)
    except UnicodeDecodeError as error:
        raise ValidationError(_("The file is not UTF-8 text.")) from error
    except NestingTooDeep as error:
        raise ValidationError(
            _(
                "The file is nested more than %(limit)s levels deep: no fact-check feed "
                "is. Check that it is the feed the fact-checker publishes."
            )
            % {"limit": error.limit}
        ) from error
    except ValueError as error:  # LibraryImportError and JSON errors
        detail = (
            str(error)
            if isinstance(error, LibraryImportError)
            else _("The file is not valid JSON.")
        )
        raise ValidationError(detail) from error
    if not parsed:
        message = _("No ClaimReview was found in this file.")
        raise ValidationError(" ".join([message, *notes]))
    with transaction.atomic():
        done = claims.add_claims(organization, parsed, user=_user(actor))
        done.notes[:0] = notes
        record(
            actor,
            AuditAction.CLAIMS_IMPORT,
            organization=organization,
            after={"created": done.created, "existing": done.existing},
        )
    return done


# --- narratives --------------------------------------------------------------------------


def rename_narrative(actor: Actor, narrative: Narrative, name: str) -> None:
    """Name a narrative (an empty name shows its keywords again)."""
    before = snapshot(narrative, ["name"])
    with transaction.atomic():
        narratives.rename(narrative, name, _user(actor))
        record(
            actor,
            AuditAction.NARRATIVE_RENAME,
            organization=narrative.organization,
            obj=narrative,
            before=before,
            after=snapshot(narrative, ["name"]),
        )


def merge_narratives(actor: Actor, source: Narrative, target: Narrative) -> None:
    """``source`` joins ``target``, another active narrative of the organization."""
    active = Narrative.Status.ACTIVE
    if (
        source.pk == target.pk
        or source.organization_id != target.organization_id
        or {source.status, target.status} != {active}
    ):
        raise ValidationError(_("Choose the narrative to merge into."))
    with transaction.atomic():
        narratives.merge(source, target)
        record(
            actor,
            AuditAction.NARRATIVE_MERGE,
            organization=target.organization,
            obj=target,
            after={"merged": source.pk},
        )


def split_narrative(
    actor: Actor, narrative: Narrative, item_ids: list[int], name: str
) -> Narrative:
    """Some of the narrative's items, not none and not all, make a new narrative."""
    members = set(narrative.members.values_list("item_id", flat=True))
    chosen = [pk for pk in item_ids if pk in members]
    if not chosen or len(chosen) == len(members):
        raise ValidationError(_("Tick some of the items, not none and not all."))
    with transaction.atomic():
        created = narratives.split(narrative, chosen, name)
        record(
            actor,
            AuditAction.NARRATIVE_SPLIT,
            organization=narrative.organization,
            obj=created,
            after={"from": narrative.pk, "items": chosen},
        )
    return created


# --- campaigns ---------------------------------------------------------------------------


def review_campaign(
    actor: Actor, campaign: Campaign, *, status: str = "", name: str | None = None
) -> None:
    """Confirm or dismiss a campaign (an unknown status is left out), and name it."""
    before = snapshot(campaign, ["status", "name"])
    if status in Campaign.Status.values:
        campaign.status = status
    if name is not None:
        campaign.name = name.strip()[:200]
    with transaction.atomic():
        campaign.save(update_fields=["status", "name", "updated_at"])
        record(
            actor,
            AuditAction.CAMPAIGN_UPDATE,
            organization=campaign.organization,
            obj=campaign,
            before=before,
            after=snapshot(campaign, ["status", "name"]),
        )


# --- protected identities and impersonators ----------------------------------------------


def identity_form(
    organization: Organization,
    data: Any = None,
    files: Any = None,
    identity: ProtectedIdentity | None = None,
) -> IdentityForm:
    return IdentityForm(
        data, files, instance=identity or ProtectedIdentity(organization=organization)
    )


def save_identity(actor: Actor, form: IdentityForm) -> ProtectedIdentity | None:
    """Save a protected identity (its photo kept as a fingerprint only); every account is
    then checked against the identities again. None when the form refuses it."""
    if not form.is_valid():
        return None
    before = _stored(form.instance)
    with transaction.atomic():
        saved = form.save()
        impersonation.identities_changed(saved.organization)
        record(
            actor,
            AuditAction.PROTECTED_IDENTITY_SAVE,
            organization=saved.organization,
            obj=saved,
            before=before,
            after=snapshot(saved),
        )
    return saved


def delete_identity(actor: Actor, identity: ProtectedIdentity) -> None:
    _delete(actor, identity, AuditAction.PROTECTED_IDENTITY_DELETE)


def decide_impersonation(actor: Actor, flag: ImpersonationFlag, status: str) -> bool:
    """Record a person's decision on a look-alike account (an unknown status changes
    nothing: False); an account found legitimate joins the identity's allow-list."""
    if status not in ImpersonationFlag.Status.values:
        return False
    before = snapshot(flag, ["status"])
    with transaction.atomic():
        flag.status = status
        flag.decided_by = _user(actor)
        flag.decided_at = timezone.now()
        flag.save(update_fields=["status", "decided_by", "decided_at"])
        if status == ImpersonationFlag.Status.ALLOWED:
            identity = flag.identity
            if flag.author.handle not in identity.allowed:
                identity.allowed = [*identity.allowed, flag.author.handle]
                identity.save(update_fields=["allowed"])
        record(
            actor,
            AuditAction.IMPERSONATION_DECIDE,
            organization=flag.organization,
            obj=flag,
            before=before,
            after=snapshot(flag, ["status"]),
        )
    return True
