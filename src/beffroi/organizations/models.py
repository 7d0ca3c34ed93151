from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from beffroi.organizations.roles import Capability, Role, role_allows


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
    created_at = models.DateTimeField(auto_now_add=True)

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
