from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from beffroi.organizations.roles import Capability, Role, role_allows
from beffroi.organizations.scoping import OrgManager


class Organization(models.Model):
    """A town hall, a ministry's cell, an association: data never crosses organizations."""

    class Kind(models.TextChoices):
        TOWN_HALL = "town_hall", _("Town hall")
        MINISTRY = "ministry", _("Ministry or state cell")
        POLICE = "police", _("Police or gendarmerie")
        AGENCY = "agency", _("Public agency")
        ASSOCIATION = "association", _("Association")
        OTHER = "other", _("Other")

    slug = models.SlugField(_("slug"), unique=True, max_length=64)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices, default=Kind.TOWN_HALL)
    language = models.CharField(_("main language"), max_length=8, default="fr")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.VIEWER)
    # An account's e-mail belongs to its owner, not to every organization that adds them: the
    # administrators see only the address they gave themselves (the one they invited, or the
    # one they typed when creating the account).
    given_email = models.EmailField(
        _("e-mail given by the organization"),
        blank=True,
        default="",
        help_text=_("The address the administrators invited or created this member with."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="unique_membership")
        ]
        ordering = ["organization__name", "user__username"]
        verbose_name = _("membership")

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"

    def allows(self, capability: Capability) -> bool:
        return role_allows(self.role, capability)

    def email_shown_to(self, viewer: Any) -> str:
        """The member's e-mail as ``viewer`` may see it: their own, or the address the
        organization gave while the account still uses it; else nothing."""
        email: str = self.user.email or ""
        if getattr(viewer, "pk", None) == self.user_id:
            return email
        if self.given_email and email.casefold() == self.given_email.casefold():
            return email
        return ""


#: How long an invitation can be accepted.
INVITATION_LIFETIME = timedelta(days=7)
#: How long answered invitations stay listed for the organization.
CLOSED_INVITATIONS_SHOWN = timedelta(days=30)


def invitation_expiry() -> Any:
    return timezone.now() + INVITATION_LIFETIME


class Invitation(models.Model):
    """An administrator's offer of a role to an existing account, which its owner accepts or
    declines: nobody becomes a member of an organization without consenting.

    ``identifier`` is what the administrator typed (a username or an e-mail) and the only
    thing the organization sees of the invitee; ``invitee`` is the account it matched, if
    any, never shown to the organization, so that it cannot learn which accounts exist.
    """

    class State(models.TextChoices):
        PENDING = "pending", pgettext_lazy("invitation", "Pending")
        ACCEPTED = "accepted", pgettext_lazy("invitation", "Accepted")
        DECLINED = "declined", pgettext_lazy("invitation", "Declined")
        REVOKED = "revoked", pgettext_lazy("invitation", "Revoked")
        EXPIRED = "expired", pgettext_lazy("invitation", "Expired")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    identifier = models.CharField(_("username or e-mail"), max_length=254)
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.VIEWER)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # SHA-256 of the key in the link of the latest e-mail; the key itself is never stored.
    token_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.PENDING
    )
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), default=invitation_expiry)
    answered_at = models.DateTimeField(_("closed"), null=True, blank=True)

    objects = OrgManager()

    class Meta:
        constraints = [
            # One pending invitation per identifier and organization: nothing is sent twice.
            models.UniqueConstraint(
                Lower("identifier"),
                "organization",
                condition=models.Q(state="pending"),
                name="unique_pending_invitation",
            )
        ]
        indexes = [models.Index(fields=["invitee", "state"], name="invitation_invitee_state")]
        ordering = ["-created_at", "-id"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.identifier} @ {self.organization} ({self.state})"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_open(self) -> bool:
        """Pending and not yet expired: it can be accepted, declined or revoked."""
        return self.state == self.State.PENDING and not self.is_expired

    @property
    def current_state(self) -> str:
        """The state as a person should read it (a pending one past its expiry is expired,
        even before the periodic sweep records it)."""
        if self.state == self.State.PENDING and self.is_expired:
            return self.State.EXPIRED.value
        return str(self.state)

    def get_current_state_display(self) -> str:
        return str(self.State(self.current_state).label)


def open_invitations(user: Any) -> models.QuerySet[Invitation]:
    """The invitations ``user`` can still accept or decline (:attr:`Invitation.is_open`)."""
    return Invitation.objects.filter(
        invitee=user, state=Invitation.State.PENDING, expires_at__gt=timezone.now()
    )


def listed_invitations(organization: Organization) -> models.QuerySet[Invitation]:
    """What the organization's administrators see: the pending invitations and those closed
    in the last 30 days."""
    since = timezone.now() - CLOSED_INVITATIONS_SHOWN
    return (
        Invitation.objects.filter(organization=organization)
        .filter(models.Q(state=Invitation.State.PENDING) | models.Q(answered_at__gte=since))
        .select_related("invited_by")
    )
