"""The answering desk: conversations with citizens, the town's services (teams) that answer
them, internal notes, saved replies and the replies sent from Beffroi.

A conversation is a thread or a private-message exchange the organization takes part in: a
citizen's comment under one of its posts and the replies below it, a post that mentions it, or
the messages of one person to one of its accounts. Its items stay in ``items``; the desk adds
who handles it, in which state, and the response times.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from beffroi.items.models import Author, Item
from beffroi.organizations.models import Organization
from beffroi.organizations.scoping import OrgManager
from beffroi.sources import redaction
from beffroi.sources.models import Source

#: The services a town usually answers through (a new organization starts with them; each
#: organization renames, adds or removes its own).
DEFAULT_TEAMS: tuple[tuple[str, str], ...] = (
    ("voirie", "Voirie"),
    ("proprete", "Propreté et déchets"),
    ("eclairage", "Éclairage public"),
    ("etat-civil", "État civil"),
    ("urbanisme", "Urbanisme"),
    ("ecoles", "Écoles et enfance"),
    ("police-municipale", "Police municipale"),
    ("social", "Action sociale (CCAS)"),
    ("eau", "Eau et assainissement"),
    ("transports", "Transports et stationnement"),
    ("espaces-verts", "Espaces verts"),
    ("culture-sport", "Culture et sport"),
)


class Team(models.Model):
    """A service of the organization that answers citizens (voirie, état civil…)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="teams")
    slug = models.SlugField(_("short name"), max_length=50)
    name = models.CharField(_("name"), max_length=120)
    email = models.EmailField(_("e-mail of the service"), blank=True, default="")
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="teams", verbose_name=_("members")
    )
    leads = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="led_teams", verbose_name=_("leads")
    )
    service_code = models.CharField(
        _("service code in the request system"),
        max_length=64,
        blank=True,
        default="",
        help_text=_("The Open311 service_code of this team's requests (e.g. POTHOLE)."),
    )
    always_open = models.BooleanField(
        _("open day and night"),
        default=False,
        help_text=_("Its response times count every hour (a municipal police on duty)."),
    )

    objects = OrgManager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="unique_team_slug")
        ]
        verbose_name = _("team")

    def __str__(self) -> str:
        return self.name


class Conversation(models.Model):
    """One exchange with a citizen, handled by a person of a team, through its states."""

    class State(models.TextChoices):
        NEW = "new", pgettext_lazy("conversation", "New")
        OPEN = "open", pgettext_lazy("conversation", "Open")
        WAITING = "waiting", _("Waiting for the citizen")
        ANSWERED = "answered", pgettext_lazy("conversation", "Answered")
        RESOLVED = "resolved", pgettext_lazy("conversation", "Resolved")
        CLOSED = "closed", pgettext_lazy("conversation", "Closed")

    class Kind(models.TextChoices):
        PUBLIC = "public", _("Public thread")
        PRIVATE = "private", _("Private messages")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="conversations"
    )
    #: What makes items one conversation: ``public:<source>:<root platform id>`` or
    #: ``private:<source>:<author platform id>``.
    key = models.CharField(max_length=400)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="conversations")
    platform = models.CharField(_("platform"), max_length=32)
    #: The citizen the organization answers.
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="conversations")
    #: The item the conversation started with (the citizen's comment, post or first message).
    root = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="conversations_started")
    items = models.ManyToManyField(Item, related_name="conversations", blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True, default="")
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_conversations",
        verbose_name=_("assignee"),
    )
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations",
        verbose_name=_("team"),
    )
    labels = models.JSONField(_("labels"), default=list, blank=True)
    snoozed_until = models.DateTimeField(_("snoozed until"), null=True, blank=True)
    #: When the citizen wrote first, and last (platform times).
    opened_at = models.DateTimeField(_("opened"))
    last_citizen_at = models.DateTimeField(_("last message from the citizen"))
    #: The organization's first answer, and its latest.
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    last_response_at = models.DateTimeField(_("last response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    #: The response-time clock stops while the organization waits for the citizen:
    #: ``[[start, end or null], …]`` in ISO 8601.
    pauses = models.JSONField(default=list, blank=True)
    message_count = models.PositiveIntegerField(default=0)
    #: Whether the citizen's message is a request or complaint for the institution (``None``:
    #: not judged yet), how sure the judge was, the service it is for and what decided it
    #: (a routing rule's name, or ``model``).
    is_request = models.BooleanField(_("request or complaint"), null=True, blank=True)
    request_score = models.FloatField(null=True, blank=True)
    request_service = models.CharField(_("service asked"), max_length=50, blank=True, default="")
    routed_by = models.CharField(max_length=120, blank=True, default="")
    #: The person who said whether it is a request (a correction the router learns from).
    request_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: The clock last warned about (``target:deadline``): one warning per deadline.
    sla_warned = models.CharField(max_length=80, blank=True, default="")
    #: The running clock's deadline and when it turns "due soon", kept by
    #: :func:`beffroi.conversations.sla.refresh_due` whenever what the clock reads changes, so
    #: the "breaching" view is an indexed filter; null when no clock runs (resolved, closed,
    #: paused).
    due_at = models.DateTimeField(null=True, blank=True, editable=False)
    due_soon_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrgManager()

    class Meta:
        ordering = ["-last_citizen_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="unique_conversation")
        ]
        indexes = [
            models.Index(fields=["organization", "state", "-last_citizen_at"], name="conv_state"),
            models.Index(fields=["organization", "assignee", "state"], name="conv_assignee"),
            models.Index(fields=["organization", "team", "state"], name="conv_team"),
            models.Index(fields=["organization", "due_soon_at"], name="conv_due_soon"),
        ]
        verbose_name = _("conversation")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def responded(self, at: Any) -> None:
        """The organization answered at ``at`` (from Beffroi or directly on the platform): the
        response times are kept, and a new or open conversation becomes answered."""
        if self.first_response_at is None or at < self.first_response_at:
            self.first_response_at = at
        if self.last_response_at is None or at > self.last_response_at:
            self.last_response_at = at
        if self.state in (self.State.NEW, self.State.OPEN):
            self.state = self.State.ANSWERED

    @property
    def is_live(self) -> bool:
        """Still to be handled: not resolved nor closed."""
        return self.state not in (self.State.RESOLVED, self.State.CLOSED)


class ConversationEvent(models.Model):
    """One change in a conversation's history (state, assignee, team, labels, reply, note)."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Conversation started")
        MESSAGE = "message", _("New message from the citizen")
        STATE = "state", _("State changed")
        ASSIGNED = "assigned", _("Assigned")
        TEAM = "team", _("Team changed")
        LABELS = "labels", _("Labels changed")
        SNOOZED = "snoozed", _("Snoozed")
        NOTE = "note", _("Internal note")
        REPLY = "reply", _("Reply")
        REOPENED = "reopened", _("Reopened by the citizen")
        HANDOFF = "handoff", _("Handed off to the request system")
        REQUEST = "request", _("Said whether it is a request")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgManager()
    organization_lookup = "conversation__organization"

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.conversation_id}:{self.kind}"


class Note(models.Model):
    """An internal note on a conversation, never sent to the citizen; @mentions notify."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(_("note"))
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgManager()
    organization_lookup = "conversation__organization"

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"note {self.pk}"


class SavedReply(models.Model):
    """A reply template: text with variables ({prénom}, {service}, {délai}, {lien}…),
    per language and per team, chosen by keyboard and edited before sending."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="saved_replies"
    )
    name = models.CharField(_("name"), max_length=120)
    language = models.CharField(_("language"), max_length=8, default="fr")
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="saved_replies",
        verbose_name=_("team"),
    )
    text = models.TextField(_("text"))
    #: An acknowledgement of receipt carries what French law asks of one (CRPA L112-3,
    #: R112-5): the date of receipt, the service handling it, how to reach it, the delay.
    acknowledgement = models.BooleanField(_("acknowledgement of receipt"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrgManager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("saved reply")

    def __str__(self) -> str:
        return self.name


class Reply(models.Model):
    """A reply written in Beffroi and sent to the platform: *sending* until the platform
    answers, then *sent* (with its id and link) or *failed* (with why, and a retry).

    ``key`` makes sending idempotent: the form carries one key per draft, so a second click,
    a retry or a crash never makes a second reply; and the job never posts again a reply
    whose first attempt may have reached the platform (*unknown*: a person checks)."""

    class State(models.TextChoices):
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Outcome unknown")
        SIMULATED = "simulated", _("Simulated (demo)")
        #: Held by the organization's approval workflow for replies (publishing desk).
        AWAITING_APPROVAL = "awaiting_approval", _("Waiting for approval")
        #: Sent back by its approvers: never sent.
        WITHDRAWN = "withdrawn", _("Not approved (not sent)")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="replies")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="replies")
    #: The item answered (publicly, or in private for a public comment).
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="desk_replies")
    key = models.CharField(max_length=64)
    text = models.TextField(_("text"))
    private = models.BooleanField(_("in private"), default=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    saved_reply = models.ForeignKey(
        SavedReply, null=True, blank=True, on_delete=models.SET_NULL, related_name="uses"
    )
    #: The text it began as, when it was not written from scratch: ``<kind>:<key>`` of a
    #: higher layer's library (``counter-speech:<entry key>``), announced with
    #: :data:`~beffroi.conversations.signals.reply_recorded`.
    drafted_from = models.CharField(max_length=100, blank=True, default="")
    state = models.CharField(max_length=20, choices=State.choices, default=State.SENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    #: Set just before the platform is called and cleared with its answer: found set by a
    #: new attempt, it means the previous one died without knowing whether it posted.
    calling_since = models.DateTimeField(null=True, blank=True)
    platform_id = models.CharField(max_length=255, blank=True, default="")
    url = models.URLField(max_length=1000, blank=True, default="")
    reason = models.CharField(max_length=32, blank=True, default="")
    detail = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = OrgManager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="unique_reply_key")
        ]
        verbose_name = _("reply")

    def __str__(self) -> str:
        return f"reply {self.pk} ({self.state})"

    @property
    def retryable(self) -> bool:
        return self.state in (self.State.FAILED, self.State.UNKNOWN)


class Presence(models.Model):
    """Who has a conversation open, and who is writing a reply in it, lately: two people on
    one conversation see each other ("Claire is replying")."""

    class Activity(models.TextChoices):
        VIEWING = "viewing", _("is looking at it")
        REPLYING = "replying", _("is replying")

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="presences"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    activity = models.CharField(max_length=16, choices=Activity.choices)
    seen_at = models.DateTimeField()

    objects = OrgManager()
    organization_lookup = "conversation__organization"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "user"], name="unique_presence")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.conversation_id}"


class IntakeCursor(models.Model):
    """How far the desk has read the organization's items into conversations."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="conversation_cursor"
    )
    last_item_id = models.BigIntegerField(default=0)

    objects = OrgManager()

    def __str__(self) -> str:
        return f"conversations@{self.last_item_id}"


class ResponseTargets(models.Model):
    """The organization's response-time targets, counted in its business hours (French
    public holidays excluded, the clock paused while waiting for the citizen)."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="response_targets"
    )
    first_response_hours = models.FloatField(_("first response within (business hours)"), default=8)
    next_response_hours = models.FloatField(_("next response within (business hours)"), default=8)
    resolution_hours = models.FloatField(_("resolution within (business hours)"), default=40)
    due_soon_share = models.FloatField(_("warn when this share of the time is spent"), default=0.8)
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Paris")
    subdivision = models.CharField(
        _("holidays of"),
        max_length=8,
        blank=True,
        default="",
        help_text=_("Empty: France; 57, 67 or 68: Alsace-Moselle; 971, 972…: overseas."),
    )
    #: Opening hours: ``{"0": [["09:00", "12:00"], ["13:30", "17:30"]], …}`` (Monday 0).
    hours = models.JSONField(_("opening hours"), default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrgManager()

    def __str__(self) -> str:
        return f"targets of {self.organization_id}"


class RequestSystem(models.Model):
    """Where the organization's requests are handed off: its request-management system
    (Open311 GeoReport v2) or an e-mail address of its services."""

    class Kind(models.TextChoices):
        OPEN311 = "open311", _("Open311 GeoReport v2 server")
        EMAIL = "email", _("E-mail to the service")
        WEBHOOK = "webhook", _("Webhook (signed HTTP POST)")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="request_systems"
    )
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    endpoint = models.URLField(
        _("Open311 address"),
        max_length=500,
        blank=True,
        default="",
        help_text=_("The API's base address, e.g. https://open311.ville.fr/v2"),
    )
    jurisdiction_id = models.CharField(_("jurisdiction"), max_length=120, blank=True, default="")
    email = models.EmailField(
        _("e-mail address"),
        blank=True,
        default="",
        help_text=_("Empty: the e-mail of the conversation's team."),
    )
    #: The API key, encrypted at rest (``core.crypto``), never shown or logged.
    secrets_encrypted = models.TextField(blank=True, default="", editable=False)
    enabled = models.BooleanField(_("enabled"), default=True)
    #: The demo town's: nothing is sent, hand-offs are simulated and shown as such.
    demo = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgManager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("request system")

    def __str__(self) -> str:
        return self.name

    def set_api_key(self, key: str) -> None:
        from beffroi.core.crypto import encrypt_json

        self.secrets_encrypted = encrypt_json({"api_key": key}) if key else ""

    @property
    def api_key(self) -> str:
        from beffroi.core.crypto import decrypt_json

        return str(decrypt_json(self.secrets_encrypted).get("api_key", ""))

    #: A webhook's signing secret (``whsec_…``), kept where an Open311 API key is.
    signing_secret = api_key
    set_signing_secret = set_api_key

    @property
    def shown_endpoint(self) -> str:
        """The address as every face shows it: a user and password in it, and query values
        named as secrets (``token``, ``key``, ``signature``…), hidden; sending uses
        :attr:`endpoint` itself."""
        return redaction.redact_addresses(self.endpoint)

    def redact_snapshot(self, data: dict[str, Any]) -> dict[str, Any]:
        """What the audit trail keeps of the system: its address as shown."""
        if isinstance(data.get("endpoint"), str):
            data["endpoint"] = redaction.redact_addresses(data["endpoint"])
        return data


class Handoff(models.Model):
    """A conversation's request handed off to the organization's request system, and what
    became of it there: *to send*, *sending*, *sent* (with the system's id), *send failed*
    (with why, and a way forward), *done externally* (the service closed it)."""

    class State(models.TextChoices):
        TO_SEND = "to_send", _("To send")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        SEND_FAILED = "send_failed", _("Send failed")
        DONE_EXTERNALLY = "done_externally", _("Done by the service")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="handoffs"
    )
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="handoffs"
    )
    system = models.ForeignKey(RequestSystem, on_delete=models.PROTECT, related_name="handoffs")
    state = models.CharField(max_length=16, choices=State.choices, default=State.TO_SEND)
    service_code = models.CharField(max_length=64, blank=True, default="")
    description = models.TextField(blank=True, default="")
    address = models.CharField(max_length=300, blank=True, default="")
    #: Written into the description: how a request whose sending was interrupted is found.
    reference = models.CharField(max_length=40, blank=True, default="")
    external_id = models.CharField(max_length=120, blank=True, default="")
    token = models.CharField(max_length=120, blank=True, default="")
    reason = models.CharField(max_length=32, blank=True, default="")
    detail = models.TextField(blank=True, default="")
    status_notes = models.TextField(blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    sending_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = OrgManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("hand-off")

    def __str__(self) -> str:
        return f"handoff {self.pk} ({self.state})"


class RoutingRule(models.Model):
    """One of the organization's ordered routing rules: when a request's message matches
    (keywords, a query in the watches' language, platforms, sources, authors), it goes to the
    rule's team; ``stop`` decides, ``continue`` lets later rules override. A rule in shadow
    is tried and counted, never applied: how a new rule is checked before it is trusted."""

    class Then(models.TextChoices):
        STOP = "stop", _("Stop here")
        CONTINUE = "continue", _("Continue with the next rules")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="routing_rules"
    )
    position = models.PositiveIntegerField(_("order"), default=0)
    name = models.CharField(_("name"), max_length=120)
    keywords = models.JSONField(_("keywords"), default=list, blank=True)
    query = models.TextField(
        _("query"),
        blank=True,
        default="",
        help_text=_('As in watches: words, "exact phrases", OR, -word, #hashtag, from:, lang:.'),
    )
    platforms = models.JSONField(_("platforms"), default=list, blank=True)
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="routing_rules", verbose_name=_("team")
    )
    then = models.CharField(_("then"), max_length=16, choices=Then.choices, default=Then.STOP)
    shadow = models.BooleanField(
        _("in shadow"),
        default=True,
        help_text=_("Tried and counted on new requests, not applied, until you turn it on."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    #: New requests it routed (live), or would have routed (in shadow).
    hits = models.PositiveIntegerField(default=0)
    shadow_hits = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgManager()

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("routing rule")

    def __str__(self) -> str:
        return self.name


class RequestModel(models.Model):
    """The request detector and router retrained on the organization's corrections (the
    corpus plus what its people said). A new one runs in shadow — judging beside the one in
    force, its agreement counted — until a person puts it in force."""

    class State(models.TextChoices):
        SHADOW = "shadow", _("In shadow")
        ACTIVE = "active", _("In force")
        RETIRED = "retired", _("Retired")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="request_models"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.SHADOW)
    detector = models.BinaryField()
    router = models.BinaryField()
    #: What it learned from: conversations a person said were requests or not, and routed.
    detection_corrections = models.PositiveIntegerField(default=0)
    routing_corrections = models.PositiveIntegerField(default=0)
    #: In shadow: new conversations it judged, and those it judged as the one in force did.
    shadow_judged = models.PositiveIntegerField(default=0)
    shadow_agreed = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(state="active"),
                name="one_active_request_model",
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(state="shadow"),
                name="one_shadow_request_model",
            ),
        ]
        verbose_name = _("request model")

    def __str__(self) -> str:
        return f"request model {self.pk} ({self.state})"

    @property
    def agreement(self) -> float | None:
        return self.shadow_agreed / self.shadow_judged if self.shadow_judged else None
