from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from beffroi.audit.actions import sentence
from beffroi.organizations.models import Organization
from beffroi.organizations.scoping import OrgManager


class AuditEvent(models.Model):
    """One change: who, through what, did what to which object, with before and after."""

    class Channel(models.TextChoices):
        UI = "ui", _("Web interface")
        API = "api", _("API")
        CLI = "cli", _("Command line")
        SYSTEM = "system", _("Background work")

    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_label = models.CharField(max_length=200, blank=True, default="")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    action = models.CharField(_("action"), max_length=64)
    object_type = models.CharField(max_length=64, blank=True, default="")
    object_id = models.CharField(max_length=64, blank=True, default="")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = OrgManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="audit_org_time")]
        verbose_name = _("audit event")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"

    @property
    def sentence(self) -> str:
        """What was done, in the reader's language (the registry's sentence)."""
        return sentence(self.action)
