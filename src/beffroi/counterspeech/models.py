"""The counter-speech library: vetted answers to hate and hoaxes, with their texts per
language, their sources, the approval they were given and their history.

An entry's *state* is the library's decision on it: a draft, waiting for approval, approved
(suggested and shared while its dates hold), retired. Its approval is bound to a hash of what
it says and on what grounds (:func:`beffroi.counterspeech.approval.content_hash`): an edit of an
approved entry's texts, sources, strategy… sends it back to review.

An organization may publish its library; another one subscribes to it and reads the approved,
valid entries live and read-only (nothing is copied, so updates flow).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from beffroi.items.models import Item
from beffroi.organizations.models import Organization
from beffroi.organizations.scoping import OrgManager, OrgQuerySet
from beffroi.veille.models import CheckedClaim, Narrative

#: ISO 639-1: the language of each text is one of these two-letter codes.
LANGUAGE_CODES = frozenset(
    """aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu
    cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho
    hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv
    kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr
    nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq
    sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh
    yi yo za zh zu""".split()
)


class Strategy(models.TextChoices):
    """How an entry answers, after the typologies of counter-speech research (Benesch et al.
    2016; Mathew et al., "Thou shalt not hate", 2019; Hangartner et al., PNAS 2021)."""

    FACTS = "facts", pgettext_lazy("counter-speech strategy", "Facts")
    DENOUNCING = "denouncing", pgettext_lazy("counter-speech strategy", "Denouncing")
    EMPATHY = "empathy", pgettext_lazy("counter-speech strategy", "Empathy and affiliation")
    HUMOUR = "humour", pgettext_lazy("counter-speech strategy", "Humour")
    HYPOCRISY = "hypocrisy", pgettext_lazy("counter-speech strategy", "Pointing out hypocrisy")
    QUESTION = "question", pgettext_lazy("counter-speech strategy", "Question")
    CONSEQUENCES = "consequences", pgettext_lazy("counter-speech strategy", "Consequences")
    POSITIVE = "positive", pgettext_lazy("counter-speech strategy", "Positive message")
    OTHER = "other", pgettext_lazy("counter-speech strategy", "Other")


#: One line for each strategy, shown beside the choice.
STRATEGY_HELP = {
    Strategy.FACTS: _(
        "Corrects the message with verifiable facts, and cites where they come from."
    ),
    Strategy.DENOUNCING: _(
        "Names the message as hateful or false, and says why it is not acceptable."
    ),
    Strategy.EMPATHY: _(
        "Speaks to the author as a person, or stands beside the people the message targets."
    ),
    Strategy.HUMOUR: _(
        "Defuses the message with humour, never at the expense of those it targets."
    ),
    Strategy.HYPOCRISY: _("Shows the contradictions of the message or of its author's stance."),
    Strategy.QUESTION: _("Asks the author a question that invites them to think again."),
    Strategy.CONSEQUENCES: _(
        "Says what the message can lead to, online and offline: harm to people, the law, "
        "moderation."
    ),
    Strategy.POSITIVE: _("Answers with a positive message about the people or the subject."),
    Strategy.OTHER: _("Another way of answering."),
}


class Tone(models.TextChoices):
    CALM = "calm", pgettext_lazy("counter-speech tone", "Calm")
    WARM = "warm", pgettext_lazy("counter-speech tone", "Warm")
    FIRM = "firm", pgettext_lazy("counter-speech tone", "Firm")
    HUMOROUS = "humorous", pgettext_lazy("counter-speech tone", "Humorous")


class Target(models.TextChoices):
    """The groups targeted by the hate an entry answers: a fixed vocabulary, so that entries
    of different organizations (and research datasets) compare."""

    MUSLIMS = "muslims", _("Muslims")
    JEWS = "jews", _("Jews")
    MIGRANTS = "migrants", _("Migrants")
    LGBT = "lgbt", _("LGBT+ people")
    WOMEN = "women", _("Women")
    DISABILITIES = "disabilities", _("People with disabilities")
    PEOPLE_OF_COLOUR = "people_of_colour", _("People of colour")
    ROMA_TRAVELLERS = "roma_travellers", _("Roma and Travellers")
    ELECTED_OFFICIALS = "elected_officials", _("Elected officials")
    PUBLIC_AGENTS = "public_agents", _("Police and public agents")
    OTHER = "other", pgettext_lazy("targeted group", "Other")


class Licence(models.TextChoices):
    """Under which terms others may reuse an entry (SPDX identifiers)."""

    ETALAB_2 = "etalab-2.0", _("Licence Ouverte / Open Licence (Etalab 2.0)")
    CC_BY_4 = "CC-BY-4.0", _("Creative Commons Attribution 4.0 (CC BY 4.0)")
    CC_BY_SA_4 = "CC-BY-SA-4.0", _("Creative Commons Attribution-ShareAlike 4.0 (CC BY-SA 4.0)")
    CC0 = "CC0-1.0", _("Public domain dedication (CC0 1.0)")
    ALL_RIGHTS_RESERVED = "all-rights-reserved", _("All rights reserved")


def new_key() -> str:
    return uuid.uuid4().hex


def local_day(at: date | datetime | None) -> date:
    """The day ``at`` falls on in the server's time zone (today when None): validity is by
    day."""
    if at is None:
        return timezone.localdate()
    if isinstance(at, datetime):
        return timezone.localdate(at) if timezone.is_aware(at) else at.date()
    return at


def valid_on(day: date) -> Q:
    """Entries whose dates hold on ``day`` (both ends included; no date: no limit)."""
    return (Q(valid_from__isnull=True) | Q(valid_from__lte=day)) & (
        Q(valid_until__isnull=True) | Q(valid_until__gte=day)
    )


class EntryQuerySet(OrgQuerySet["Entry"]):
    def suggestible(self, at: date | datetime | None = None) -> EntryQuerySet:
        """The entries that may be suggested at ``at`` (now by default): approved, and
        within their dates."""
        return self.filter(valid_on(local_day(at)), state=Entry.State.APPROVED)


EntryManager = models.Manager.from_queryset(EntryQuerySet)


class Entry(models.Model):
    """One vetted answer, in one or more languages."""

    class State(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("counter-speech entry state", "Draft")
        IN_REVIEW = "in_review", pgettext_lazy("counter-speech entry state", "In review")
        APPROVED = "approved", pgettext_lazy("counter-speech entry state", "Approved")
        RETIRED = "retired", pgettext_lazy("counter-speech entry state", "Retired")

    class Origin(models.TextChoices):
        WRITTEN = "written", _("Written in the library")
        IMPORTED = "imported", _("Imported from a file")
        #: A rebuttal of the veille (``CheckedClaim.reply``) moved into the library.
        REBUTTAL = "rebuttal", _("A rebuttal of a checked claim")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="counter_speech_entries"
    )
    #: The entry's identity across exports and imports (and, for a rebuttal moved in, the
    #: claim it came from): one entry per key in an organization.
    key = models.CharField(max_length=64, default=new_key, editable=False)
    title = models.CharField(
        _("title"), max_length=200, help_text=_("For the library's lists; never sent.")
    )
    strategy = models.CharField(_("strategy"), max_length=16, choices=Strategy.choices)
    tone = models.CharField(_("tone"), max_length=16, choices=Tone.choices, default=Tone.CALM)
    targets = models.JSONField(
        _("targeted groups"),
        default=list,
        blank=True,
        help_text=_("The groups targeted by the hate this entry answers."),
    )
    topics = models.JSONField(_("topics"), default=list, blank=True)
    narratives = models.ManyToManyField(
        Narrative,
        blank=True,
        related_name="counter_speech_entries",
        verbose_name=_("narratives"),
    )
    claims = models.ManyToManyField(
        CheckedClaim,
        blank=True,
        related_name="counter_speech_entries",
        verbose_name=_("checked claims"),
    )
    licence = models.CharField(
        _("licence"),
        max_length=32,
        choices=Licence.choices,
        default=Licence.ALL_RIGHTS_RESERVED,
        help_text=_("Under which terms the organizations that read this entry may reuse it."),
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(
        _("valid until"),
        null=True,
        blank=True,
        help_text=_("After this day the entry is no longer suggested (a figure that dates)."),
    )
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.DRAFT, db_index=True
    )
    #: Why it was sent back or retired, as the person wrote it.
    state_reason = models.TextField(blank=True, default="")
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.WRITTEN)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="counter_speech_written",
        verbose_name=_("author"),
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="counter_speech_approved",
        verbose_name=_("approver"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    content_hash = models.CharField(max_length=64, blank=True, default="")
    #: The content the approval was given to: an edit afterwards changes ``content_hash``.
    approved_hash = models.CharField(max_length=64, blank=True, default="")
    #: The version the approval was given to: who wrote a later version may not approve it.
    approved_version = models.PositiveIntegerField(null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    use_count = models.PositiveIntegerField(_("uses"), default=0)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EntryManager()

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="unique_entry_key"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_until__gte=models.F("valid_from")),
                name="entry_valid_until_after_from",
            ),
        ]
        indexes = [models.Index(fields=["organization", "state"], name="entry_org_state")]
        verbose_name = _("counter-speech entry")
        verbose_name_plural = _("counter-speech entries")

    def __str__(self) -> str:
        return self.title

    @property
    def approval_current(self) -> bool:
        """Approved for the content it has now."""
        return bool(self.approved_hash) and self.approved_hash == self.content_hash

    def valid_at(self, at: date | datetime | None = None) -> bool:
        day = local_day(at)
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or self.valid_until >= day
        )

    def strategy_help(self) -> str:
        return str(STRATEGY_HELP.get(Strategy(self.strategy), ""))


class EntryText(models.Model):
    """The entry in one language: one text per language, at least one per entry."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="texts")
    language = models.CharField(
        _("language"), max_length=8, help_text=_("Its ISO 639-1 code: fr, en, ar…")
    )
    text = models.TextField(_("text"))

    objects = OrgManager()
    organization_lookup = "entry__organization"

    class Meta:
        ordering = ["language"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "language"], name="unique_entry_language")
        ]
        verbose_name = _("text")

    def __str__(self) -> str:
        return f"{self.language}: {self.text[:60]}"


class EntrySource(models.Model):
    """A page an entry rests on, with a snapshot of it: the hash of its body and when it was
    read. A later reading whose hash differs from the one the approval saw means the page
    changed since (shown as a warning): ``reference_sha256`` is the hash at approval, or the
    first one read after it."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="sources")
    position = models.PositiveSmallIntegerField(default=0)
    url = models.URLField(_("address"), max_length=1000)
    title = models.CharField(_("title"), max_length=300, blank=True, default="")
    sha256 = models.CharField(max_length=64, blank=True, default="")
    fetched_at = models.DateTimeField(_("read on"), null=True, blank=True)
    reference_sha256 = models.CharField(max_length=64, blank=True, default="")
    #: When a hash other than the reference was first read (None: unchanged).
    changed_at = models.DateTimeField(null=True, blank=True)
    #: Why the last reading failed, in words (empty: it succeeded).
    last_error = models.TextField(blank=True, default="")
    last_attempt_at = models.DateTimeField(null=True, blank=True)

    objects = OrgManager()
    organization_lookup = "entry__organization"

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["entry", "url"], name="unique_entry_source")]
        verbose_name = _("source")

    def __str__(self) -> str:
        return self.title or self.url

    @property
    def changed(self) -> bool:
        """The page read last is not the one the approval saw."""
        return bool(self.reference_sha256 and self.sha256) and self.sha256 != self.reference_sha256


class SourceSnapshot(models.Model):
    """Each distinct reading of a source: a new row only when the hash differs from the last."""

    source = models.ForeignKey(EntrySource, on_delete=models.CASCADE, related_name="snapshots")
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField(default=0)
    fetched_at = models.DateTimeField(default=timezone.now)
    #: The page's visible text (at most ``SNAPSHOT_TEXT_CHARACTERS``): what drafts rest on.
    text = models.TextField(blank=True, default="")

    objects = OrgManager()
    organization_lookup = "source__entry__organization"

    class Meta:
        ordering = ["fetched_at", "id"]

    def __str__(self) -> str:
        return f"{self.source_id}: {self.sha256[:12]}"


class EntryVersion(models.Model):
    """The whole entry as it was after a change: who changed it, when and why."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    content_hash = models.CharField(max_length=64)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("by"),
    )
    #: Who, when no account did it (an import from the command line).
    author_label = models.CharField(max_length=200, blank=True, default="")
    reason = models.TextField(_("why"), blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    objects = OrgManager()
    organization_lookup = "entry__organization"

    class Meta:
        ordering = ["entry_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "number"], name="unique_entry_version")
        ]
        verbose_name = _("version")

    def __str__(self) -> str:
        return f"{self.entry_id} v{self.number}"


class EntryUse(models.Model):
    """An organization answered with an entry (its own, or one of a library it subscribes
    to): counted on the entry, so that the publisher sees how much it serves."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="uses")
    #: Who used it (the subscriber for a shared entry): the item is theirs, not the publisher's.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(
        Item, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    used_at = models.DateTimeField(default=timezone.now)

    objects = OrgManager()

    class Meta:
        ordering = ["-used_at", "-id"]
        indexes = [models.Index(fields=["entry", "organization"], name="entry_use_org")]

    def __str__(self) -> str:
        return f"{self.entry_id} @ {self.organization_id}"


#: The visible text of a source's page kept with its snapshot, at most.
SNAPSHOT_TEXT_CHARACTERS = 100_000


class LibrarySettings(models.Model):
    """Whether an organization shares its library with others, and under which name; and
    whether a language model drafts replies from it (off by default), with which endpoint."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="counter_speech_library"
    )
    published = models.BooleanField(_("shared with other organizations"), default=False)
    public_name = models.CharField(
        _("public name"),
        max_length=200,
        blank=True,
        default="",
        help_text=_("How the organizations that subscribe see this library."),
    )
    description = models.TextField(_("description"), blank=True, default="")
    published_at = models.DateTimeField(null=True, blank=True)
    drafting_enabled = models.BooleanField(_("drafting by a language model"), default=False)
    #: An OpenAI-compatible base address (``…/v1``): a host name without a dot (a container
    #: beside Beffroi) is allowed, hence not a URLField.
    drafting_endpoint = models.CharField(
        _("endpoint address"), max_length=500, blank=True, default=""
    )
    drafting_model = models.CharField(_("model"), max_length=200, blank=True, default="")
    #: The endpoint's API key, encrypted at rest (``core.crypto``), never shown or logged.
    drafting_api_key_encrypted = models.TextField(blank=True, default="", editable=False)
    drafting_max_characters = models.PositiveIntegerField(_("longest draft"), default=500)

    objects = OrgManager()

    class Meta:
        verbose_name = _("counter-speech library settings")
        verbose_name_plural = _("counter-speech library settings")

    def __str__(self) -> str:
        return self.public_name or str(self.organization)

    def set_drafting_api_key(self, key: str) -> None:
        from beffroi.core.crypto import encrypt_json

        self.drafting_api_key_encrypted = encrypt_json({"api_key": key}) if key else ""

    @property
    def drafting_api_key(self) -> str:
        from beffroi.core.crypto import decrypt_json

        return str(decrypt_json(self.drafting_api_key_encrypted).get("api_key", ""))

    def redact_snapshot(self, data: dict[str, Any]) -> dict[str, Any]:
        """What the audit trail keeps (the admin's changes): whether a key is stored, not it."""
        data["drafting_api_key_encrypted"] = bool(data.get("drafting_api_key_encrypted"))
        return data


class LibrarySubscription(models.Model):
    """``subscriber`` reads the approved, valid entries of ``publisher``'s library."""

    subscriber = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="library_subscriptions"
    )
    publisher = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="library_subscribers"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgManager()
    organization_lookup = "subscriber"

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "publisher"], name="unique_library_subscription"
            ),
            models.CheckConstraint(
                condition=~Q(subscriber=models.F("publisher")), name="subscription_not_to_self"
            ),
        ]
        verbose_name = _("library subscription")

    def __str__(self) -> str:
        return f"{self.subscriber_id} → {self.publisher_id}"


def snapshot(entry: Entry) -> dict[str, Any]:
    """What the audit trail keeps of an entry's standing."""
    return {
        "state": entry.state,
        "version": entry.version,
        "content_hash": entry.content_hash,
    }
