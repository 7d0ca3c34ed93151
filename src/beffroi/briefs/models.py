"""Response briefs: what an organization (a state cell) prepares for its partners (an
associative cell, towns) about a narrative or a campaign — the posts to answer, the
counter-speech to answer with, the do's and don'ts — and the answers its partners gave.

Who holds which row:

- a :class:`Brief` is its sender's (for a brief imported from another Beffroi, the
  organization that imported it: its copy, with the sender's name);
- a :class:`BriefDelivery` is the partner's: the brief in its desk (``organization``), or,
  for a partner in another Beffroi, no one's here (``external_partner``): the sender's record
  of the file it exported;
- a :class:`BriefResponse` is the answering partner's (through its delivery);
- a :class:`Partnership` is the partner's consent to receive an organization's briefs.

The sender reads its briefs' deliveries and responses through the brief; a partner reads a
brief only through a delivery of it.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from beffroi.counterspeech.models import Entry
from beffroi.items.models import Item
from beffroi.organizations.models import Organization
from beffroi.organizations.scoping import OrgManager
from beffroi.veille.models import Campaign, Narrative


def new_key() -> str:
    return uuid.uuid4().hex


class Partnership(models.Model):
    """``organization`` receives ``sender``'s briefs: proposed by the sender's
    administrators, in force once the partner's accept it (nothing arrives in a desk that did
    not ask for it)."""

    class State(models.TextChoices):
        PROPOSED = "proposed", pgettext_lazy("brief partnership state", "Proposed")
        ACCEPTED = "accepted", pgettext_lazy("brief partnership state", "Accepted")

    #: The partner: the organization that receives.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="brief_senders"
    )
    sender = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="brief_partners"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.PROPOSED)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposed_at = models.DateTimeField(default=timezone.now)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    objects = OrgManager()

    class Meta:
        ordering = ["proposed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "sender"], name="unique_brief_partnership"
            ),
            models.CheckConstraint(
                condition=~Q(organization=models.F("sender")), name="brief_partnership_not_self"
            ),
        ]
        verbose_name = _("brief partnership")

    def __str__(self) -> str:
        return f"{self.sender_id} → {self.organization_id} ({self.state})"


class ExternalPartner(models.Model):
    """A partner organization in another Beffroi: the two sides share a secret (made on one
    side, given once to the other as a *link code*) with which each signs the files it sends
    and checks those it receives (:mod:`beffroi.briefs.signing`)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="brief_links"
    )
    name = models.CharField(
        _("partner's name"), max_length=200, help_text=_("How this organization calls them.")
    )
    #: Names the shared secret in the files (public): both sides keep the same one.
    key_id = models.CharField(max_length=32, editable=False)
    #: The shared secret, encrypted at rest (``core.crypto``), never shown again.
    secret_encrypted = models.TextField(editable=False)
    #: Who signed the first file received through the link (instance, organization, name):
    #: a later file signed by someone else is refused.
    counterpart = models.JSONField(default=dict, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgManager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key_id"], name="unique_brief_link")
        ]
        verbose_name = _("partner in another Beffroi")

    def __str__(self) -> str:
        return self.name

    def set_secret(self, secret: str) -> None:
        from beffroi.core.crypto import encrypt_json

        self.secret_encrypted = encrypt_json({"secret": secret})

    @property
    def secret(self) -> str:
        from beffroi.core.crypto import decrypt_json

        return str(decrypt_json(self.secret_encrypted).get("secret", ""))


class Brief(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("brief state", "Draft")
        SENT = "sent", pgettext_lazy("brief state", "Sent")
        CLOSED = "closed", pgettext_lazy("brief state", "Closed")

    class Origin(models.TextChoices):
        WRITTEN = "written", _("Written here")
        IMPORTED = "imported", _("Imported from a signed file")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="briefs")
    #: The brief's identity across instances: a file imported again updates the same brief.
    key = models.CharField(max_length=64, default=new_key, editable=False)
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.WRITTEN)
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(
        _("summary"), blank=True, default="", help_text=_("What is going on, and what we ask.")
    )
    narrative = models.ForeignKey(
        Narrative,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="briefs",
        verbose_name=_("narrative"),
    )
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="briefs",
        verbose_name=_("campaign"),
    )
    #: What the brief is about, in words, for partners (who cannot read the sender's veille).
    subject = models.CharField(_("subject"), max_length=300, blank=True, default="")
    dos = models.JSONField(_("do's"), default=list, blank=True)
    donts = models.JSONField(_("don'ts"), default=list, blank=True)
    valid_until = models.DateField(
        _("valid until"),
        null=True,
        blank=True,
        help_text=_("After this day the partners are no longer asked to answer."),
    )
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.DRAFT, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("prepared by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    #: An imported brief: who sent it (from the signed file) and the link it came through.
    sender_name = models.CharField(max_length=200, blank=True, default="")
    external_partner = models.ForeignKey(
        ExternalPartner, null=True, blank=True, on_delete=models.SET_NULL, related_name="briefs"
    )

    objects = OrgManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="unique_brief_key")
        ]
        verbose_name = _("brief")

    def __str__(self) -> str:
        return self.title

    @property
    def sender_label(self) -> str:
        """Who sent it, as its partners see it."""
        return self.sender_name or self.organization.name

    @property
    def imported(self) -> bool:
        return self.origin == self.Origin.IMPORTED

    @property
    def open(self) -> bool:
        """Still answered and counted: sent (or imported) and not closed."""
        return self.state != self.State.CLOSED


class BriefPost(models.Model):
    """A post the partners are asked to answer, as the sender saw it: enough for a partner to
    find it in its own inbox (platform and id) or on the platform (its address)."""

    brief = models.ForeignKey(Brief, on_delete=models.CASCADE, related_name="posts")
    #: Its identity across instances (the responses a partner reports name it).
    key = models.CharField(max_length=64, default=new_key, editable=False)
    position = models.PositiveSmallIntegerField(default=0)
    platform = models.CharField(_("platform"), max_length=32, blank=True, default="")
    platform_id = models.CharField(max_length=255, blank=True, default="")
    url = models.URLField(_("address"), max_length=1000, blank=True, default="")
    author_handle = models.CharField(_("author"), max_length=255, blank=True, default="")
    excerpt = models.TextField(_("text"), blank=True, default="")
    #: The sender's own item (same instance): never shown to partners.
    item = models.ForeignKey(
        Item, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = OrgManager()
    organization_lookup = "brief__organization"

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["brief", "key"], name="unique_brief_post_key")
        ]
        verbose_name = _("post to answer")

    def __str__(self) -> str:
        return self.url or f"{self.platform}:{self.platform_id}"


class BriefEntry(models.Model):
    """A counter-speech entry suggested by the brief, copied as it was when suggested: a
    partner reads it even without reading the sender's library (or its Beffroi)."""

    brief = models.ForeignKey(Brief, on_delete=models.CASCADE, related_name="entries")
    position = models.PositiveSmallIntegerField(default=0)
    entry = models.ForeignKey(
        Entry, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    key = models.CharField(max_length=64)
    title = models.CharField(_("title"), max_length=200)
    strategy = models.CharField(_("strategy"), max_length=16, blank=True, default="")
    #: ``{language: text}``.
    texts = models.JSONField(default=dict)

    objects = OrgManager()
    organization_lookup = "brief__organization"

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("suggested entry")

    def __str__(self) -> str:
        return self.title


class BriefDelivery(models.Model):
    """A brief in a partner's desk (``organization``), or exported to a partner of another
    Beffroi (``external_partner``, no organization here: the sender keeps what that partner
    reports)."""

    class State(models.TextChoices):
        RECEIVED = "received", pgettext_lazy("brief delivery state", "Received")
        ACKNOWLEDGED = "acknowledged", pgettext_lazy("brief delivery state", "Acknowledged")
        DECLINED = "declined", pgettext_lazy("brief delivery state", "Declined")

    brief = models.ForeignKey(Brief, on_delete=models.CASCADE, related_name="deliveries")
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="brief_deliveries",
    )
    external_partner = models.ForeignKey(
        ExternalPartner,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
    )
    #: The external partner's name when the file was exported (kept if the link goes).
    external_name = models.CharField(max_length=200, blank=True, default="")
    state = models.CharField(max_length=16, choices=State.choices, default=State.RECEIVED)
    state_reason = models.TextField(blank=True, default="")
    delivered_at = models.DateTimeField(default=timezone.now)
    state_changed_at = models.DateTimeField(null=True, blank=True)

    objects = OrgManager()

    class Meta:
        ordering = ["-delivered_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["brief", "organization"],
                condition=Q(external_partner__isnull=True),
                name="unique_brief_delivery",
            ),
            models.UniqueConstraint(
                fields=["brief", "external_partner"],
                condition=Q(organization__isnull=True),
                name="unique_brief_export",
            ),
            models.CheckConstraint(
                condition=Q(organization__isnull=False) | ~Q(external_name=""),
                name="brief_delivery_has_a_partner",
            ),
        ]
        verbose_name = _("brief delivery")
        verbose_name_plural = _("brief deliveries")

    def __str__(self) -> str:
        return f"{self.brief_id} → {self.partner_name}"

    @property
    def partner_name(self) -> str:
        if self.organization_id is not None and self.organization is not None:
            return self.organization.name
        return self.external_name


class BriefResponse(models.Model):
    """A partner answered one of the brief's posts: who, when, with what link. One per reply
    (``reference``: the reply's platform id, else its address), so nothing counts twice."""

    class How(models.TextChoices):
        DESK_REPLY = "desk_reply", _("Reply from the answering desk")
        PUBLISHED_POST = "published_post", _("Published post")
        DECLARED = "declared", _("Declared by hand")
        IMPORTED = "imported", _("Imported report")

    delivery = models.ForeignKey(BriefDelivery, on_delete=models.CASCADE, related_name="responses")
    post = models.ForeignKey(BriefPost, on_delete=models.CASCADE, related_name="responses")
    how = models.CharField(_("how"), max_length=16, choices=How.choices)
    reference = models.CharField(max_length=1000)
    url = models.URLField(_("link"), max_length=1000, blank=True, default="")
    platform_id = models.CharField(max_length=255, blank=True, default="")
    #: Who answered, in words (a partner's username; for an imported report, as reported).
    answered_by = models.CharField(_("by"), max_length=200, blank=True, default="")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered at"))
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = OrgManager()
    organization_lookup = "delivery__organization"

    class Meta:
        ordering = ["answered_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "reference"], name="unique_brief_response")
        ]
        verbose_name = _("brief response")

    def __str__(self) -> str:
        return f"{self.delivery_id}: {self.reference}"


def snapshot(brief: Brief) -> dict[str, Any]:
    """What the audit trail keeps of a brief's standing."""
    return {"key": brief.key, "state": brief.state, "title": brief.title}
