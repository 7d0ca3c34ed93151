from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from beffroi.items.models import Item
from beffroi.organizations.models import Organization
from beffroi.organizations.scoping import OrgManager


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
        UNHIDE = "unhide", _("Restore")

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed (awaiting review)")
        # "Decided", not "applied": the platform may not have done it (platform_effect says).
        APPLIED = "applied", _("Decided")
        SHADOW = "shadow", _("Shadow (not acted on)")
        UNDONE = "undone", _("Undone")
        OVERTURNED = "overturned", _("Overturned on appeal")
        SUPERSEDED = "superseded", _("Superseded by a person's decision")

    class PlatformStatus(models.TextChoices):
        NOT_NEEDED = "not_needed", _("No platform action")
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done on the platform")
        FAILED = "failed", _("Refused by the platform")
        UNSUPPORTED = "unsupported", _("Not supported by the platform")

    class PlatformEffect(models.TextChoices):
        """What the decision did on the platform, as every screen shows it (derived from
        ``platform_status`` and ``platform_result``, not stored)."""

        NOT_NEEDED = "not_needed", _("No platform action needed")
        PENDING = "pending", _("Waiting for the platform")
        DONE = "done", _("Done on the platform")
        REFUSED = "refused", _("Refused by the platform")
        UNSUPPORTED = "unsupported", _("Not supported by the platform")
        SIMULATED = "simulated", _("Simulated (demo)")
        CANCELLED = "cancelled", _("Not sent: the decision was undone first")

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
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.APPLIED
    )
    score = models.FloatField(_("confidence"), null=True, blank=True)
    charter_version = models.PositiveIntegerField(_("charter version"), null=True, blank=True)
    # The charter category as it read when the decision was taken (clause, legal reference,
    # DSA mapping): a later edit of the charter must not rewrite past decisions.
    charter_snapshot = models.JSONField(default=dict, blank=True)
    detectors = models.JSONField(_("detector versions"), default=dict, blank=True)
    explanation = models.JSONField(_("what triggered it"), default=list, blank=True)
    note = models.TextField(_("note"), blank=True, default="")
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="confirmed_decisions",
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    platform_status = models.CharField(
        _("platform action"),
        max_length=16,
        choices=PlatformStatus.choices,
        default=PlatformStatus.NOT_NEEDED,
    )
    platform_attempts = models.PositiveSmallIntegerField(default=0)
    evidence = models.ForeignKey(
        "Evidence", null=True, blank=True, on_delete=models.PROTECT, related_name="decisions"
    )
    reverses = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reversed_by"
    )
    reply_text = models.TextField(blank=True, default="")

    objects = OrgManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="decision_org_time"),
            models.Index(fields=["item", "status"], name="decision_item_status"),
        ]
        verbose_name = _("decision")

    def __str__(self) -> str:
        return f"{self.get_action_display()} #{self.item_id}"

    @property
    def undoable(self) -> bool:
        """Whether a person may undo it (the undo key and buttons): a keep, hide, deletion or
        escalation in force, decided by a person. An automatic one is contested by appeal."""
        return (
            self.status == self.Status.APPLIED
            and not self.automated
            and self.action in UNDOABLE_ACTIONS
        )

    @property
    def platform_effect(self) -> str:
        """The one rule for what the decision did on the platform (a :class:`PlatformEffect`):
        what the organization decided (``status``) is shown apart from it, and only ``done``
        or ``simulated`` mean that the platform changed."""
        result = self.platform_result if isinstance(self.platform_result, dict) else {}
        status = self.platform_status
        if status == self.PlatformStatus.DONE:
            return self.PlatformEffect.SIMULATED if result.get("simulated") else status
        if status == self.PlatformStatus.FAILED:
            return self.PlatformEffect.REFUSED
        if status == self.PlatformStatus.NOT_NEEDED and result.get("cancelled"):
            return self.PlatformEffect.CANCELLED
        return self.PlatformEffect(status)

    @property
    def decision_label(self) -> str:
        """The status as the screens name it: what the organization decided, in words that
        never claim the platform did it ("decided", not "applied")."""
        return str(self.get_status_display())

    def get_platform_effect_display(self) -> str:
        return str(self.PlatformEffect(self.platform_effect).label)

    @property
    def took_effect(self) -> bool:
        """The platform carried the action out (or a demo source simulated it)."""
        return self.platform_effect in (self.PlatformEffect.DONE, self.PlatformEffect.SIMULATED)

    @property
    def retryable(self) -> bool:
        """A decision in force that the platform refused: it may be sent again."""
        return (
            self.status == self.Status.APPLIED
            and self.platform_status == self.PlatformStatus.FAILED
        )

    @property
    def restricts(self) -> bool:
        """A hide or a deletion in force that the platform carried out or may still carry out:
        what an author may appeal. One the platform refused, or cannot carry out, restricted
        nothing (it is retried or undone, not appealed)."""
        return (
            self.status == self.Status.APPLIED
            and self.action in (self.Action.HIDE, self.Action.DELETE)
            and self.platform_effect
            not in (
                self.PlatformEffect.REFUSED,
                self.PlatformEffect.UNSUPPORTED,
                self.PlatformEffect.CANCELLED,
            )
        )

    @property
    def has_pending_appeal(self) -> bool:
        """An appeal against it waits for a moderator (prefetched ``appeals`` are used)."""
        return any(appeal.outcome == Appeal.Outcome.PENDING for appeal in self.appeals.all())

    @property
    def appealable(self) -> bool:
        """Whether an appeal may be filed now: a restriction in force, none waiting."""
        return self.restricts and not self.has_pending_appeal


#: The actions of a person that the undo key and buttons can reverse.
UNDOABLE_ACTIONS = (
    Decision.Action.KEEP,
    Decision.Action.HIDE,
    Decision.Action.DELETE,
    Decision.Action.ESCALATE,
)


class Case(models.Model):
    """A queue entry a person must look at."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ASSIGNED = "assigned", _("Assigned")
        CLOSED = "closed", _("Closed")

    class Kind(models.TextChoices):
        REVIEW = "review", _("Review")
        ESCALATION = "escalation", _("Escalation")
        APPEAL = "appeal", _("Appeal")

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
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.REVIEW)
    category = models.CharField(_("category"), max_length=64, blank=True, default="")
    severity = models.PositiveSmallIntegerField(_("severity"), default=0)
    score = models.FloatField(_("confidence"), null=True, blank=True)
    decision = models.ForeignKey(
        Decision, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    appeal = models.ForeignKey(
        "Appeal", null=True, blank=True, on_delete=models.CASCADE, related_name="cases"
    )
    # Who may not take this case (an appeal goes to someone other than the first decider).
    excluded_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    # Whom an escalation is for: a chosen member, or nobody named (the administrators).
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    resolution = models.ForeignKey(
        Decision, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = OrgManager()

    class Meta:
        ordering = ["-priority", "created_at"]
        indexes = [models.Index(fields=["organization", "state"], name="case_org_state")]
        constraints = [
            # One open case of a kind per item: re-judging an item never queues it twice.
            models.UniqueConstraint(
                fields=["item", "kind"],
                condition=~models.Q(state="closed"),
                name="one_open_case_per_item_kind",
            )
        ]
        verbose_name = _("case")

    def __str__(self) -> str:
        return f"{self.get_state_display()} #{self.item_id}"


class Evidence(models.Model):
    """What an item was, kept before anything hides or deletes it.

    The bundle holds the text, the author, the URL, the timestamps, the raw platform payload
    and the thread around the item; ``sha256`` is the digest of the bundle's canonical JSON,
    so anyone can check a dossier was not altered.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="evidence"
    )
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="evidence")
    bundle = models.JSONField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    objects = OrgManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")

    def __str__(self) -> str:
        return f"{self.sha256[:12]} #{self.item_id}"


class Appeal(models.Model):
    """An author's contestation of a decision, entered by an agent, decided by another person."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Pending")
        UPHELD = "upheld", _("Decision upheld")
        REVERSED = "reversed", _("Decision reversed")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="appeals")
    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="appeals")
    statement = models.TextField(_("the author's statement"))
    received_via = models.CharField(_("received via"), max_length=100, blank=True, default="")
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.PENDING
    )
    outcome_note = models.TextField(_("reasons"), blank=True, default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = OrgManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("appeal")

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} #{self.decision_id}"


class ClassifierVersion(models.Model):
    """One trained version of an organization's classifier; one is active, any can be restored."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="classifier_versions"
    )
    version = models.CharField(max_length=64)
    trained_on = models.PositiveIntegerField(_("training examples"), default=0)
    decisions_used = models.PositiveIntegerField(_("decisions learned from"), default=0)
    model = models.BinaryField()
    metrics = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    objects = OrgManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(active=True),
                name="one_active_classifier_per_org",
            )
        ]
        verbose_name = _("classifier version")

    def __str__(self) -> str:
        return self.version
