from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from beffroi.organizations.models import Organization
from beffroi.organizations.scoping import OrgManager


class Job(models.Model):
    """A unit of background work. The row is the truth; queues only carry its id."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    name = models.CharField(max_length=100)
    payload = models.JSONField(default=dict, blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="jobs"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    # NULL, not "", for "no key": the partial unique index must ignore keyless jobs.
    dedupe_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=5)
    run_after = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = OrgManager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["state", "run_after"], name="job_state_due")]
        constraints = [
            # At most one live job per key: scheduling the same sync twice is a no-op.
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=Q(state__in=["pending", "running"]),
                name="unique_live_job_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}#{self.pk} ({self.state})"
