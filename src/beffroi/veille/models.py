"""What the veille stores per organization: watches and their hits, alerts and where they
are delivered, narratives, the fact-check library and its matches, campaigns of coordinated
accounts, protected identities and the accounts that imitate them.

The detectors themselves live in :mod:`beffroi.analysis` (plain Python); these models keep
their findings so that people can look at them, name them, confirm or dismiss them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import get_language, gettext, ngettext
from django.utils.translation import gettext_lazy as _

from beffroi.core.crypto import decrypt_json, encrypt_json
from beffroi.items.models import Author, Item
from beffroi.organizations.models import Organization
from beffroi.organizations.scoping import OrgManager


class Watch(models.Model):
    """A saved search run over every ingested item (and over the platforms' search APIs)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="watches")
    name = models.CharField(_("name"), max_length=120)
    query = models.TextField(
        _("query"),
        help_text=_(
            'Words, "exact phrases", OR, NOT or -word, parentheses, #hashtag, from:account, '
            "lang:fr, platform:bluesky, domain:example.org, prefix*."
        ),
    )
    languages = models.JSONField(_("languages"), default=list, blank=True)
    accounts = models.JSONField(_("accounts"), default=list, blank=True)
    platforms = models.JSONField(_("platforms"), default=list, blank=True)
    sensitivity = models.FloatField(
        _("alert sensitivity"),
        default=0.5,
        help_text=_(
            "From 0 (only floods) to 1 (the slightest rise); 0.5 gives almost no false alert."
        ),
    )
    alerts_enabled = models.BooleanField(_("spike alerts"), default=True)
    listen = models.BooleanField(
        _("listen on the platforms"),
        default=False,
        help_text=_(
            "The query's #hashtags are also followed on the organization's Mastodon and "
            "Bluesky accounts: public posts that do not mention the organization come in too."
        ),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrgManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="unique_watch_name")
        ]
        ordering = ["name"]
        verbose_name = _("watch")

    def __str__(self) -> str:
        return self.name

    @property
    def series(self) -> str:
        return f"watch:{self.pk}"


class WatchHit(models.Model):
    """An item a watch matched."""

    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="hits")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="watch_hits")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgManager()
    organization_lookup = "watch__organization"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["watch", "item"], name="unique_watch_hit")]

    def __str__(self) -> str:
        return f"{self.watch_id}:{self.item_id}"


class Cursor(models.Model):
    """How far each veille analyzer has read an organization's items, and its saved state."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="veille_cursors"
    )
    analyzer = models.CharField(max_length=32)
    last_item_id = models.BigIntegerField(default=0)
    state = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrgManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "analyzer"], name="unique_cursor")
        ]

    def __str__(self) -> str:
        return f"{self.analyzer}@{self.last_item_id}"


class SeriesCount(models.Model):
    """How many items one series (a watch, the mentions, a narrative, a hashtag, a linked
    domain) had in one hour: the spike detector reads these counters, kept up to date as
    items come in, rather than weeks of items at every scan."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="series_counts"
    )
    series = models.CharField(max_length=200)
    bucket = models.DateTimeField()
    count = models.IntegerField(default=0)

    objects = OrgManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "series", "bucket"], name="unique_series_bucket"
            )
        ]
        indexes = [models.Index(fields=["organization", "bucket"], name="series_count_bucket")]

    def __str__(self) -> str:
        return f"{self.series}@{self.bucket.isoformat()}={self.count}"


class Narrative(models.Model):
    """A story: items about the same thing, in any language, grouped as they arrive."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        MERGED = "merged", _("Merged")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="narratives"
    )
    key = models.CharField(max_length=64)
    name = models.CharField(_("name"), max_length=200, blank=True, default="")
    keywords = models.JSONField(_("keywords"), default=list, blank=True)
    representative_ids = models.JSONField(default=list, blank=True)
    # {language: {"text": its most representative post, trimmed, "keywords": [...]}}, and
    # "" over all languages: what names the narrative until an analyst does.
    summaries = models.JSONField(default=dict, blank=True)
    item_count = models.PositiveIntegerField(_("items"), default=0)
    first_seen = models.DateTimeField(_("first seen"), null=True, blank=True)
    last_seen = models.DateTimeField(_("last seen"), null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="absorbed"
    )
    named_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrgManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="unique_narrative_key")
        ]
        ordering = ["-last_seen", "-id"]
        verbose_name = _("narrative")

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The analyst's name, else its most representative post (in the reader's language
        when some of its items are written in it) and a few keywords."""
        if self.name:
            return self.name
        from beffroi.analysis.narratives import Summary

        language = (get_language() or "")[:2]
        found = self.summaries.get(language) or self.summaries.get("")
        if found and found.get("text"):
            return Summary(str(found["text"]), tuple(found.get("keywords") or ())).label
        return ", ".join(self.keywords[:4]) or f"#{self.pk}"

    @property
    def series(self) -> str:
        return f"narrative:{self.pk}"


class NarrativeItem(models.Model):
    narrative = models.ForeignKey(Narrative, on_delete=models.CASCADE, related_name="members")
    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="narrative_link")
    similarity = models.FloatField(default=0.0)

    objects = OrgManager()
    organization_lookup = "narrative__organization"

    def __str__(self) -> str:
        return f"{self.narrative_id}:{self.item_id}"


class NarrativeCluster(models.Model):
    """One open cluster of the narratives' clusterer (a narrative or a candidate): its running
    sums and its pool of representatives, stored one by one so that a scan writes only the
    clusters it changed. Closed clusters (expired candidates, quiet narratives) are removed."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="narrative_clusters"
    )
    key = models.CharField(max_length=64)
    state = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrgManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="unique_narrative_cluster")
        ]

    def __str__(self) -> str:
        return self.key


class CandidateItem(models.Model):
    """An item in a candidate (a story not yet told by enough items): it joins the narrative
    the candidate becomes, or is let go when the candidate expires."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="narrative_candidate_items"
    )
    cluster = models.CharField(max_length=64)
    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="candidate_link")
    similarity = models.FloatField(default=0.0)

    objects = OrgManager()

    class Meta:
        indexes = [models.Index(fields=["organization", "cluster"], name="candidate_item_cluster")]

    def __str__(self) -> str:
        return f"{self.cluster}:{self.item_id}"


class CheckedClaim(models.Model):
    """A claim some fact-checker (or the organization itself) has checked. What to answer
    to it lives in the counter-speech library: its entries linked to the claim."""

    class Origin(models.TextChoices):
        IMPORTED = "imported", _("Imported fact-check")
        MANUAL = "manual", _("Entered by hand")
        REBUTTAL = "rebuttal", _("The organization's own rebuttal")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="checked_claims"
    )
    key = models.CharField(max_length=64)
    statement = models.TextField(_("claim"))
    verdict = models.CharField(_("verdict"), max_length=120, blank=True, default="")
    url = models.URLField(_("fact-check address"), max_length=1000, blank=True, default="")
    source = models.CharField(_("checked by"), max_length=200, blank=True, default="")
    claimant = models.CharField(_("claim made by"), max_length=200, blank=True, default="")
    reviewed_on = models.DateField(_("date"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True, default="")
    title = models.CharField(_("title"), max_length=500, blank=True, default="")
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.MANUAL)
    item = models.ForeignKey(
        Item, null=True, blank=True, on_delete=models.SET_NULL, related_name="rebuttals"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="unique_claim_key")
        ]
        ordering = ["-created_at", "-id"]
        verbose_name = _("checked claim")

    def __str__(self) -> str:
        return self.statement[:80]


class ClaimMatch(models.Model):
    """An item that repeats a checked claim, or takes part in its spreading, and why it was
    found (``evidence``, shown beside the match)."""

    class Evidence(models.TextChoices):
        TEXT = "text", _("Its words and meaning repeat the claim")
        WATCH = "watch", _("Found by a watch that follows the claim, and close to it")
        NARRATIVE = "narrative", _("Part of a narrative that repeats the claim")
        THREAD = "thread", _("Answers or quotes an item that repeats the claim")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="claim_matches"
    )
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="claim_matches")
    claim = models.ForeignKey(CheckedClaim, on_delete=models.CASCADE, related_name="matches")
    similarity = models.FloatField(_("similarity"))
    evidence = models.CharField(
        _("why"), max_length=16, choices=Evidence.choices, default=Evidence.TEXT
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "claim"], name="unique_claim_match")]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.item_id} → {self.claim_id}"


class Campaign(models.Model):
    """Accounts acting together: the same text, the same links, at the same moments."""

    class Kind(models.TextChoices):
        COPY = "copy", _("Copy-paste")
        REWORDED = "reworded", _("Reworded copies")
        TRANSLATED = "translated", _("Translations")
        COLINK = "colink", _("Same links")
        COPOST = "copost", _("Same text at the same moment")

    class Status(models.TextChoices):
        OPEN = "open", _("To look at")
        CONFIRMED = "confirmed", _("Confirmed")
        DISMISSED = "dismissed", _("Dismissed")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="campaigns"
    )
    key = models.CharField(max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200, blank=True, default="")
    shared = models.TextField(_("shared content"), blank=True, default="")
    first_at = models.DateTimeField(_("first post"))
    last_at = models.DateTimeField(_("last post"))
    account_count = models.PositiveIntegerField(_("accounts"), default=0)
    item_count = models.PositiveIntegerField(_("items"), default=0)
    edges = models.JSONField(default=list, blank=True)
    items = models.ManyToManyField(Item, related_name="campaigns", blank=True)
    authors = models.ManyToManyField(Author, related_name="campaigns", blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    detected_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrgManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="unique_campaign_key")
        ]
        ordering = ["-last_at", "-id"]
        verbose_name = _("campaign")

    def __str__(self) -> str:
        from django.utils.text import Truncator

        first_line = self.shared.strip().splitlines()[0] if self.shared.strip() else ""
        return self.name or Truncator(first_line).chars(100) or str(self.get_kind_display())


class ProtectedIdentity(models.Model):
    """An official account or person of the organization, whose name others must not take."""

    class Kind(models.TextChoices):
        ORGANIZATION = "organization", _("The organization")
        PERSON = "person", _("An official")
        SERVICE = "service", _("A service")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="protected_identities"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(_("name"), max_length=200)
    handles = models.JSONField(_("official accounts"), default=list, blank=True)
    allowed = models.JSONField(_("allow-list"), default=list, blank=True)
    avatar_hashes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgManager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("protected identity")

    def __str__(self) -> str:
        return self.name


class ImpersonationFlag(models.Model):
    """An account whose name, handle or picture imitates a protected identity."""

    class Status(models.TextChoices):
        OPEN = "open", _("To look at")
        REPORTED = "reported", _("Reported to the platform")
        ALLOWED = "allowed", _("Legitimate (allow-listed)")
        DISMISSED = "dismissed", _("Not an impersonation")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="impersonation_flags"
    )
    identity = models.ForeignKey(ProtectedIdentity, on_delete=models.CASCADE, related_name="flags")
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="impersonation_flags")
    score = models.FloatField(_("score"))
    evidence = models.JSONField(_("evidence"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = OrgManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["identity", "author"], name="unique_impersonation_flag")
        ]
        ordering = ["-score", "-id"]

    def __str__(self) -> str:
        return f"{self.author_id} → {self.identity_id}"


class Alert(models.Model):
    """Something a person should look at now, with what lies behind it."""

    class Kind(models.TextChoices):
        SPIKE = "spike", _("Spike")
        CAMPAIGN = "campaign", _("Coordinated campaign")
        IMPERSONATION = "impersonation", _("Impersonation")
        CLAIM = "claim", _("Known false claim")
        RESURGENCE = "resurgence", _("Narrative back")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    key = models.CharField(max_length=200)
    series = models.CharField(_("series"), max_length=200, blank=True, default="")
    title = models.CharField(_("title"), max_length=300)
    started_at = models.DateTimeField(_("started"))
    peak_at = models.DateTimeField(_("peak"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    observed = models.PositiveIntegerField(_("observed"), default=0)
    expected = models.FloatField(_("expected"), default=0.0)
    p_value = models.FloatField(null=True, blank=True)
    score = models.FloatField(_("score"), default=0.0)
    context = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    # Set when this alert's finding joined an open alert about the same items: it is then a
    # trigger of that alert (listed, sent, acknowledged with it), never an alert of its own.
    grouped_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="joined",
        verbose_name=_("grouped into"),
    )

    objects = OrgManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "key"], name="unique_alert")]
        ordering = ["-started_at", "-id"]
        verbose_name = _("alert")

    def __str__(self) -> str:
        return self.title

    def triggers(self) -> list[Alert]:
        """What raised this alert: itself and the findings that joined it, earliest first."""
        joined = [] if self._state.adding else list(self.joined.all())
        return sorted([self, *joined], key=lambda a: (a.started_at, a.pk or 0))

    def trigger_kinds(self) -> list[str]:
        """The kinds of its triggers, each once, in the order of :attr:`Kind`."""
        kinds = {t.kind for t in self.triggers()}
        return [kind for kind in self.Kind.values if kind in kinds]

    def item_ids(self) -> list[int]:
        """The items behind every trigger, each once."""
        seen: dict[int, None] = {}
        for trigger in self.triggers():
            for pk in (trigger.context or {}).get("items") or []:
                seen.setdefault(int(pk), None)
        return list(seen)

    def describe(self) -> str:
        """This finding in one sentence of the active language: what kind, about what."""
        label = self.title
        if self.kind == self.Kind.SPIKE:
            prefix, _sep, _rest = self.series.partition(":")
            sentences = {
                "watch": gettext("Spike on the watch “%(label)s”"),
                "narrative": gettext("Spike in the narrative “%(label)s”"),
                "hashtag": gettext("Spike of the hashtag %(label)s"),
                "domain": gettext("Spike of links to %(label)s"),
                "mentions": gettext("Spike of mentions of the organization"),
            }
            sentence = sentences.get(prefix, gettext("Spike: %(label)s")) % {"label": label}
            counts = ngettext(
                "%(observed)s post against %(expected)s expected",
                "%(observed)s posts against %(expected)s expected",
                self.observed,
            ) % {"observed": self.observed, "expected": f"{self.expected:.1f}"}
            return f"{sentence} ({counts})"
        sentences = {
            self.Kind.CAMPAIGN: gettext("Coordinated campaign: %(label)s"),
            self.Kind.IMPERSONATION: gettext("Impersonation: %(label)s"),
            self.Kind.CLAIM: gettext("Known false claim repeated: %(label)s"),
            self.Kind.RESURGENCE: gettext("Narrative back: %(label)s"),
        }
        return sentences.get(self.kind, "%(label)s") % {"label": label}


class AlertChannel(models.Model):
    """Where an organization's alerts go besides the application."""

    class Kind(models.TextChoices):
        EMAIL = "email", _("E-mail")
        WEBHOOK = "webhook", _("Webhook (Slack, Mattermost, JSON)")
        MATRIX = "matrix", _("Matrix room (Tchap)")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="alert_channels"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=120)
    target = models.CharField(
        _("recipients or address"),
        max_length=1000,
        help_text=_(
            "E-mail: addresses separated by commas. Webhook: the https address. "
            "Matrix: the homeserver address."
        ),
    )
    room = models.CharField(_("Matrix room"), max_length=255, blank=True, default="")
    secret_encrypted = models.TextField(blank=True, default="", editable=False)
    kinds = models.JSONField(_("alert kinds"), default=list, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    last_error = models.TextField(blank=True, default="")
    last_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgManager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("alert channel")

    def __str__(self) -> str:
        return self.name

    def set_secret(self, secret: str) -> None:
        self.secret_encrypted = encrypt_json({"secret": secret}) if secret else ""

    def get_secret(self) -> str:
        if not self.secret_encrypted:
            return ""
        value: Any = decrypt_json(self.secret_encrypted).get("secret", "")
        return str(value)

    def wants(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds


class AlertDelivery(models.Model):
    """One alert sent (or being sent) to one channel: at most once each."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(AlertChannel, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = OrgManager()
    organization_lookup = "alert__organization"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["alert", "channel"], name="unique_alert_delivery")
        ]

    def __str__(self) -> str:
        return f"{self.alert_id} → {self.channel_id}"


class CoordinationPost(models.Model):
    """One item as the coordination detector sees it (its
    :class:`~beffroi.analysis.coordination.Fingerprint`), kept while the detector's sliding
    window holds it: a scan fingerprints its new items only and reads these rows for the rest
    of the window, never the items' texts again."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="coordination_posts"
    )
    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="coordination_post")
    # The item's author_id, without a foreign key: the row goes with its item, and an
    # index on it would only serve deletions of authors, which keep no items.
    author_id = models.BigIntegerField()
    created_at = models.DateTimeField()
    # Stable hash of the normalised text; null when too short to count.
    text_key = models.BigIntegerField(null=True, blank=True)
    # MinHash of the normalised text (little-endian uint32), empty without text.
    signature = models.BinaryField(default=b"", blank=True)
    urls = models.JSONField(default=list, blank=True)
    language = models.CharField(max_length=8, blank=True, default="")
    # When it was fingerprinted: an import of an old period keeps its rows for a while.
    stored_at = models.DateTimeField()

    objects = OrgManager()

    class Meta:
        indexes = [
            models.Index(fields=["organization", "created_at"], name="coordination_post_time")
        ]

    def __str__(self) -> str:
        return f"{self.item_id} @ {self.created_at:%Y-%m-%d %H:%M}"
