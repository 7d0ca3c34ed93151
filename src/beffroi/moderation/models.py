from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from beffroi.items.models import Item
from beffroi.organizations.models import Organization


class Decision(models.Model):
    """What was done to an item, why, and by whom or by which rule."""

    class Action(models.TextChoices):
        KEEP = "keep", _("Keep")
        HIDE = "hide", _("Hide")
        DELETE = "delete", _("Delete")
        QUEUE = "queue", _("Queue for review")
        REPLY = "reply", _("Reply")
        REPORT = "report", _("Report")
        ESCALATE = "escalate", _("Escalate")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="decisions"
    )
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="decisions")
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    category = models.CharField(_("category"), max_length=64, blank=True, default="")
    clause = models.TextField(_("charter clause"), blank=True, default="")
    automated = models.BooleanField(_("automated"), default=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    rule = models.CharField(max_length=200, blank=True, default="")
    scores = models.JSONField(default=dict, blank=True)
    platform_result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("decision")

    def __str__(self) -> str:
        return f"{self.get_action_display()} #{self.item_id}"


class Case(models.Model):
    """A queue entry a person must look at."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ASSIGNED = "assigned", _("Assigned")
        CLOSED = "closed", _("Closed")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="cases")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="cases")
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    reason = models.CharField(_("reason"), max_length=200, blank=True, default="")
    priority = models.PositiveSmallIntegerField(_("priority"), default=0)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-priority", "created_at"]
        indexes = [models.Index(fields=["organization", "state"], name="case_org_state")]
        verbose_name = _("case")

    def __str__(self) -> str:
        return f"{self.get_state_display()} #{self.item_id}"
