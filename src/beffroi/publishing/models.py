"""The publishing desk: posts written once with a variant per account, approved by the
organization's workflows, scheduled, published through the connectors — and stopped by a pause.

A post's *state* is what the organization decided and where it stands in its life (draft, in
review, approved, scheduled…); each variant's *state* is what the platform did with it
(published with its link, failed with why, unknown when the platform's answer was lost). The
two are shown apart.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from beffroi.conversations.models import Reply
from beffroi.items.models import Item
from beffroi.organizations.models import Organization
from beffroi.organizations.scoping import OrgManager
from beffroi.sources.models import Source


def _media_path(asset: MediaAsset, filename: str) -> str:
    # Named by content, never by what the uploader called it (no path tricks, no clashes).
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"publishing/{asset.organization_id}/{asset.sha256}.{extension[:8]}"


class MediaAsset(models.Model):
    """An image or a video of the organization's media library, with its description (alt
    text), kept for reuse."""

    class Kind(models.TextChoices):
        IMAGE = "image", _("Image")
        GIF = "gif", _("Animated image")
        VIDEO = "video", _("Video")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="media_assets"
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to=_media_path, max_length=300)
    mime_type = models.CharField(_("type"), max_length=100)
    size_bytes = models.PositiveBigIntegerField(_("size (bytes)"))
    width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)
    duration_seconds = models.FloatField(_("duration (seconds)"), null=True, blank=True)
    alt_text = models.TextField(
        _("description (alt text)"),
        blank=True,
        default="",
        help_text=_("What the image shows, for people who cannot see it (RGAA)."),
    )
    sha256 = models.CharField(max_length=64, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "sha256"], name="unique_media_content")
        ]
        verbose_name = _("media")
        verbose_name_plural = _("media")

    def __str__(self) -> str:
        return self.name


class PostLabel(models.Model):
    """A label to sort and filter posts (a theme, a service, "électoral")."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="post_labels"
    )
    name = models.CharField(_("name"), max_length=60)

    objects = OrgManager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="unique_post_label")
        ]
        verbose_name = _("label")

    def __str__(self) -> str:
        return self.name


class PublishingSettings(models.Model):
    """An organization's publishing settings: its own web addresses (links to them get UTM
    parameters) and whether replies and counter-speech need approval."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="publishing_settings"
    )
    own_domains = models.TextField(
        _("the organization's own domains"),
        blank=True,
        default="",
        help_text=_("One per line (ville-exemple.fr). Links to them get the UTM parameters."),
    )
    utm_source = models.CharField(_("utm_source"), max_length=60, blank=True, default="")
    utm_medium = models.CharField(_("utm_medium"), max_length=60, blank=True, default="social")
    utm_campaign = models.CharField(_("utm_campaign"), max_length=60, blank=True, default="")
    approval_hours = models.PositiveIntegerField(
        _("time to approve (hours)"),
        default=0,
        help_text=_(
            "A post not approved this long before its time expires and is never published. "
            "0: until its time."
        ),
    )

    #: Part of the calendar feed's signed address: raised to revoke the address given out.
    calendar_feed_version = models.PositiveIntegerField(default=1)

    objects = OrgManager()

    class Meta:
        verbose_name = _("publishing settings")

    def __str__(self) -> str:
        return f"{self.organization}"

    def domains(self) -> list[str]:
        return [line.strip().lower() for line in self.own_domains.splitlines() if line.strip()]


class ApprovalWorkflow(models.Model):
    """Who must approve before a post goes out: one or more steps, in order.

    The organization's default workflow has no account; a workflow for an account applies to
    the posts published from it (both apply when a post goes to several accounts).
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="approval_workflows"
    )
    name = models.CharField(_("name"), max_length=120)
    source = models.ForeignKey(
        Source,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="approval_workflows",
        verbose_name=_("account"),
        help_text=_("Empty: the organization's default, for every account without its own."),
    )
    for_posts = models.BooleanField(_("posts"), default=True)
    for_replies = models.BooleanField(
        _("replies to citizens"),
        default=False,
        help_text=_("Replies written in the answering desk wait for this approval."),
    )
    for_counter_speech = models.BooleanField(_("counter-speech"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgManager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source"], name="unique_workflow_per_account"
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(source__isnull=True),
                name="unique_default_workflow",
            ),
        ]
        verbose_name = _("approval workflow")

    def __str__(self) -> str:
        return self.name


class ApprovalStep(models.Model):
    """One step: any one, all, or N of a group of people approve."""

    class Rule(models.TextChoices):
        ANY = "any", _("Any one of them")
        ALL = "all", _("All of them")
        N_OF = "n_of", _("A number of them")

    workflow = models.ForeignKey(ApprovalWorkflow, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(_("order"), default=1)
    name = models.CharField(_("name"), max_length=120)
    rule = models.CharField(_("rule"), max_length=8, choices=Rule.choices, default=Rule.ANY)
    required = models.PositiveSmallIntegerField(
        _("how many"), default=1, help_text=_("For 'a number of them'.")
    )
    approvers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="approval_steps", verbose_name=_("approvers")
    )
    allow_external = models.BooleanField(
        _("external approval link"),
        default=False,
        help_text=_(
            "Someone without an account (an elected official) may approve this step "
            "through a signed link that expires."
        ),
    )

    objects = OrgManager()
    organization_lookup = "workflow__organization"

    class Meta:
        ordering = ["workflow_id", "position", "id"]
        verbose_name = _("approval step")

    def __str__(self) -> str:
        return self.name


class Post(models.Model):
    """A post written once, with a variant per account, and its way to publication."""

    class State(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("post state", "Draft")
        IN_REVIEW = "in_review", pgettext_lazy("post state", "In review")
        APPROVED = "approved", pgettext_lazy("post state", "Approved")
        SCHEDULED = "scheduled", pgettext_lazy("post state", "Scheduled")
        PUBLISHING = "publishing", pgettext_lazy("post state", "Publishing")
        PUBLISHED = "published", pgettext_lazy("post state", "Published")
        FAILED = "failed", pgettext_lazy("post state", "Failed")
        APPROVAL_EXPIRED = "approval_expired", pgettext_lazy("post state", "Approval expired")
        SUSPENDED = "suspended", pgettext_lazy("post state", "Suspended")
        UNATTEMPTED = "unattempted", pgettext_lazy("post state", "Not attempted (paused)")

    class Kind(models.TextChoices):
        POST = "post", _("Post")
        REPLY = "reply", _("Reply")
        COUNTER_SPEECH = "counter_speech", _("Counter-speech")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="posts",
        verbose_name=_("author"),
    )
    title = models.CharField(
        _("internal title"), max_length=200, help_text=_("For the calendar; never published.")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.POST)
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.DRAFT, db_index=True
    )
    #: Why the post is where it is (suspended, unattempted, failed, sent back), in English
    #: as recorded; the page says it from its code where one is known.
    state_reason = models.TextField(blank=True, default="")
    #: Index of the current step in :func:`beffroi.publishing.approval.steps_for`.
    review_step = models.PositiveSmallIntegerField(default=0)
    content_hash = models.CharField(max_length=64, blank=True, default="")
    #: The content an approval was given to: an edit afterwards changes ``content_hash`` and
    #: sends the post back to review.
    approved_hash = models.CharField(max_length=64, blank=True, default="")
    scheduled_at = models.DateTimeField(_("publish at"), null=True, blank=True)
    approve_by = models.DateTimeField(_("approve by"), null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    campaign = models.CharField(_("campaign"), max_length=100, blank=True, default="")
    labels = models.ManyToManyField(
        PostLabel, blank=True, related_name="posts", verbose_name=_("labels")
    )
    recurrence = models.CharField(
        _("repeat"),
        max_length=200,
        blank=True,
        default="",
        help_text=_("An iCalendar rule (FREQ=WEEKLY;BYDAY=SA for every Saturday)."),
    )
    series = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="occurrences"
    )
    evergreen = models.BooleanField(
        _("evergreen"), default=False, help_text=_("May be published again in an empty slot.")
    )
    in_reply_to = models.ForeignKey(
        Item, null=True, blank=True, on_delete=models.SET_NULL, related_name="proposed_posts"
    )
    #: A reply written in the answering desk that waits for this approval; once approved it
    #: is sent by the desk (its state there is what the platform did).
    reply = models.OneToOneField(
        Reply, null=True, blank=True, on_delete=models.SET_NULL, related_name="approval_post"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrgManager()

    class Meta:
        ordering = ["-scheduled_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "scheduled_at"], name="post_org_time"),
            models.Index(fields=["state", "scheduled_at"], name="post_state_time"),
        ]
        verbose_name = _("post")

    def __str__(self) -> str:
        return self.title

    @property
    def approval_current(self) -> bool:
        """Approved for the content it has now."""
        return bool(self.approved_hash) and self.approved_hash == self.content_hash


class PostVariant(models.Model):
    """What one account publishes of a post, and what its platform did with it."""

    class State(models.TextChoices):
        PENDING = "pending", pgettext_lazy("post outcome", "Not sent yet")
        PUBLISHING = "publishing", pgettext_lazy("post outcome", "Sending")
        PUBLISHED = "published", pgettext_lazy("post outcome", "Published")
        SIMULATED = "simulated", pgettext_lazy("post outcome", "Simulated (demo)")
        FAILED = "failed", pgettext_lazy("post outcome", "Failed")
        UNKNOWN = "unknown", pgettext_lazy("post outcome", "Outcome unknown")
        #: A network without a publishing interface (Snapchat): a package for a person to
        #: post by hand, who then says it is posted.
        EXPORTED = "exported", pgettext_lazy("post outcome", "Ready to post by hand")

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="variants")
    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, related_name="post_variants", verbose_name=_("account")
    )
    text = models.TextField(_("text"), blank=True, default="")
    title = models.CharField(_("title"), max_length=200, blank=True, default="")
    link = models.URLField(_("link"), max_length=1000, blank=True, default="")
    first_comment = models.TextField(_("first comment"), blank=True, default="")
    media = models.ManyToManyField(
        MediaAsset, through="VariantMedia", blank=True, related_name="variants"
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    #: Names this variant's publication for every attempt (idempotency).
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    #: Set and committed just before the platform is called, cleared with its answer: an
    #: attempt that finds it set follows one that died during the call.
    calling_since = models.DateTimeField(null=True, blank=True)
    #: When the last platform call began (kept after its answer): a publication whose
    #: answer was lost is looked for on the account from then on.
    call_started_at = models.DateTimeField(null=True, blank=True)
    #: When Beffroi looks on the account for a publication of unknown outcome (None: no
    #: look planned; a person checks).
    check_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    platform_id = models.CharField(max_length=255, blank=True, default="")
    url = models.URLField(max_length=1000, blank=True, default="")
    reason = models.CharField(max_length=32, blank=True, default="")
    detail = models.TextField(blank=True, default="")
    published_at = models.DateTimeField(null=True, blank=True)
    item = models.ForeignKey(
        Item, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: The first comment under the published post: its id once posted, or why it was not.
    first_comment_id = models.CharField(max_length=255, blank=True, default="")
    first_comment_error = models.TextField(blank=True, default="")

    objects = OrgManager()
    organization_lookup = "post__organization"

    class Meta:
        ordering = ["post_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["post", "source"], name="unique_variant_per_account")
        ]
        indexes = [models.Index(fields=["state"], name="variant_state")]
        verbose_name = _("variant")

    def __str__(self) -> str:
        return f"{self.post} — {self.source}"

    @property
    def done(self) -> bool:
        return self.state in (self.State.PUBLISHED, self.State.SIMULATED)


class VariantMedia(models.Model):
    variant = models.ForeignKey(PostVariant, on_delete=models.CASCADE)
    media = models.ForeignKey(MediaAsset, on_delete=models.PROTECT)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.variant_id}:{self.media_id}"


class Approval(models.Model):
    """One person's decision on one step of a post, bound to the content they saw."""

    class Decision(models.TextChoices):
        APPROVE = "approve", _("Approved")
        REJECT = "reject", _("Sent back")

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="approvals")
    step = models.ForeignKey(
        ApprovalStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    step_index = models.PositiveSmallIntegerField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: Who approved through an external link (no account).
    external_name = models.CharField(max_length=120, blank=True, default="")
    decision = models.CharField(max_length=8, choices=Decision.choices)
    content_hash = models.CharField(max_length=64)
    comment = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    objects = OrgManager()
    organization_lookup = "post__organization"

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.who}: {self.decision}"

    @property
    def who(self) -> str:
        if self.user is not None:
            return str(self.user.get_username())
        return self.external_name


class ExternalApprovalLink(models.Model):
    """A signed, expiring link through which someone without an account approves one step."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="external_links")
    step_index = models.PositiveSmallIntegerField()
    name = models.CharField(_("name"), max_length=120)
    email = models.EmailField(_("e-mail"), blank=True, default="")
    #: Only the hash is kept: the link is shown once.
    token_hash = models.CharField(max_length=64, unique=True)
    content_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgManager()
    organization_lookup = "post__organization"

    def __str__(self) -> str:
        return self.name


class PostComment(models.Model):
    """A comment between the author and the approvers, on a draft."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    external_name = models.CharField(max_length=120, blank=True, default="")
    body = models.TextField(_("comment"))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgManager()
    organization_lookup = "post__organization"

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.body[:60]


class Pause(models.Model):
    """A stop on publishing: the whole organization, one account, or the posts of a label.

    ``confirmed_at`` is when nothing more could go out: the pause was written and the posts
    already in a platform call at that moment had their answer (:mod:`.pausing`).
    """

    class Scope(models.TextChoices):
        ORGANIZATION = "organization", _("The whole organization")
        SOURCE = "source", _("One account")
        LABEL = "label", _("Posts with a label")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="pauses")
    scope = models.CharField(_("what"), max_length=16, choices=Scope.choices)
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    label = models.ForeignKey(
        PostLabel, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    reason = models.TextField(_("reason"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    #: Posts that were already in a platform call when the pause was written.
    in_flight = models.PositiveIntegerField(default=0)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = OrgManager()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["organization", "ended_at"], name="pause_active")]

    def __str__(self) -> str:
        return self.reason[:60]


class PauseWindow(models.Model):
    """A period planned ahead when nothing is published (an electoral reserve period)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="pause_windows"
    )
    name = models.CharField(_("name"), max_length=120)
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.TextField(_("reason"), blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgManager()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="window_ends_after"
            )
        ]

    def __str__(self) -> str:
        return self.name


def snapshot(post: Post) -> dict[str, Any]:
    """What the audit trail keeps of a post's standing."""
    return {
        "state": post.state,
        "scheduled_at": post.scheduled_at.isoformat() if post.scheduled_at else None,
        "content_hash": post.content_hash,
        "review_step": post.review_step,
    }
