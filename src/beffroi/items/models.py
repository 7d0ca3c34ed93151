from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from beffroi.analysis.text_bound import HEAD_CHARS, TAIL_CHARS, is_cut
from beffroi.organizations.models import Organization
from beffroi.organizations.scoping import OrgManager
from beffroi.sources.models import Source


class Author(models.Model):
    """A platform account that wrote items."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="authors")
    platform = models.CharField(max_length=32)
    platform_id = models.CharField(max_length=255)
    handle = models.CharField(_("handle"), max_length=255)
    display_name = models.CharField(_("display name"), max_length=255, blank=True, default="")
    url = models.URLField(max_length=1000, blank=True, default="")
    extra = models.JSONField(default=dict, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)

    objects = OrgManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "platform", "platform_id"], name="unique_author"
            )
        ]
        ordering = ["handle"]
        verbose_name = _("author")

    def __str__(self) -> str:
        return f"@{self.handle}"


class Item(models.Model):
    """A post, comment, reply, private message or mention, from any platform."""

    class Kind(models.TextChoices):
        POST = "post", _("Post")
        COMMENT = "comment", _("Comment")
        REPLY = "reply", _("Reply")
        MESSAGE = "message", _("Private message")
        MENTION = "mention", _("Mention")

    class State(models.TextChoices):
        NEW = "new", _("New")
        PROCESSED = "processed", _("Processed")
        IN_REVIEW = "in_review", _("In review")
        # What the organization decided; what the platform did is shown apart (visibility).
        DONE = "done", pgettext_lazy("item state", "Decided")

    class Visibility(models.TextChoices):
        VISIBLE = "visible", _("Visible")
        HIDDEN = "hidden", _("Hidden")
        DELETED = "deleted", _("Deleted")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="items")
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="items")
    platform = models.CharField(_("platform"), max_length=32)
    platform_id = models.CharField(max_length=255)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    thread_id = models.CharField(max_length=255, blank=True, default="", db_index=True)
    parent_platform_id = models.CharField(max_length=255, blank=True, default="", db_index=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="items")
    text = models.TextField(_("text"), blank=True, default="")
    language = models.CharField(_("language"), max_length=8, blank=True, default="")
    created_at = models.DateTimeField(_("published"))
    ingested_at = models.DateTimeField(auto_now_add=True)
    url = models.URLField(max_length=1000, blank=True, default="")
    urls = models.JSONField(default=list, blank=True)
    media = models.JSONField(default=list, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    #: The post this one quotes or reposts, as its reader sees it: ``relation`` (quote or
    #: repost), ``platform_id``, ``text``, ``author``, ``url``; empty when it carries none.
    quoted = models.JSONField(_("quoted post"), default=dict, blank=True)
    #: The platform's moderation labels on the post (Bluesky's ``porn``, ``spam``, ``!warn``…).
    labels = models.JSONField(_("platform labels"), default=list, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.NEW)
    visibility = models.CharField(
        _("visibility"), max_length=16, choices=Visibility.choices, default=Visibility.VISIBLE
    )
    # The latest automatic judgement (verdict, category, scores, what triggered it), kept on
    # the item so every comment's assessment can be read, including those simply kept.
    analysis = models.JSONField(_("analysis"), default=dict, blank=True)
    #: The item's words as the search compares them (folded, with its hashtags, author and
    #: linked domains), written by ``beffroi.items.search`` on every write: see that module.
    search_text = models.TextField(blank=True, default="", editable=False)

    objects = OrgManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "platform_id"], name="unique_item_per_source")
        ]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="item_org_time"),
            models.Index(fields=["organization", "state"], name="item_org_state"),
            # The items waiting for judgement, a few among millions: what judging claims in
            # id order and what the monitoring counts (/metrics) without reading the table.
            models.Index(fields=["id"], condition=Q(state="new"), name="item_waiting"),
        ]
        ordering = ["-created_at", "-id"]
        verbose_name = _("item")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.platform_id}"

    def thread_members(self) -> Q:
        """The items of this item's thread, itself included: the root post (its platform id
        is the thread id) and every item carrying the thread id, on its platform."""
        key = self.thread_id or self.platform_id
        return (Q(thread_id=key) | Q(platform_id=key)) & Q(platform=self.platform)

    @property
    def text_as_read(self) -> str:
        """The text a reader reads with the item: its own, then the post it quotes (a quote
        is shown with it). A repost's own text already is the reposted post's."""
        quoted = self.quoted.get("text") if self.quoted.get("relation") == "quote" else ""
        return f"{self.text}\n\n{quoted}" if quoted else self.text

    @property
    def analysed_part(self) -> dict[str, int] | None:
        """For a text longer than the analysis bound, what analysis read of it: its first
        ``head`` and last ``tail`` characters of ``length``; None when it read it all."""
        if not is_cut(self.text):
            return None
        return {"head": HEAD_CHARS, "tail": TAIL_CHARS, "length": len(self.text)}
