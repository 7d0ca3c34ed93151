"""Every page of the demo town, in French and in English: nothing left untranslated.

The demo town is loaded, judged and scanned, its desk and its publishing loaded (as
``beffroi demo`` does), then given what the demo does not make by itself: decisions by a
person, a hide the platform refused, an appeal, an evidence bundle, a charter draft, posts in
the states the demo has none in, a pause. Every page of the web interface an administrator
may open (the URL patterns are read from the resolver, as in ``test_permission_matrix.py``)
is rendered in French and in English, a post's page in each state, and every POST action is
made in both languages (rolled back) to read its flash message, the changes made on pages
every member reads (``ALSO_POSTED``) included.

The visible text of each page (text nodes, and the ``title``, ``aria-label``, ``placeholder``
and ``alt`` attributes, the labels of buttons) is cut into fragments. A fragment shown the
same in both languages is either the organization's own content or a string nobody
translated: the content is excluded by construction, since it is read from the database
(every text field of the stored objects, the fields the application writes itself left out)
and the parts of a page marked as content (``translate="no"``, ``lang`` set on an element,
``<code>``, ``<pre>``, ``<samp>``, ``<kbd>``). What is left must be a proper noun of the
allow-list or a catalogue entry translated to itself. A fragment of the English page that is
the French of a catalogue entry is French leaking into English.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from django.db import models, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.web.test_permission_matrix import (
    ALSO_POSTED,
    ORG_PAGES,
    OTHER_PAGES,
    ROUTES,
    TOKEN_GATED,
    Page,
)

# The same on every engine: the SQLite pass runs it (tests/conftest.py).
pytestmark = pytest.mark.database_agnostic

LANGUAGES = ("fr", "en")

#: Words that are the same in both languages by nature: names of products, platforms,
#: standards and formats, units, the interface's own name.
PROPER_NOUNS = frozenset(
    """
    Beffroi Facebook Instagram Meta Threads Mastodon Bluesky YouTube Telegram TikTok LinkedIn
    X Twitter RSS Atom DSA PHAROS JSON CSV PDF YAML API URL URLs HTTP HTTPS OAuth TOTP SHA
    GraphML ClaimReview Google Zeeschuimer Excel UTF Webhook webhook webhooks Slack Matrix
    ntfy SMTP IMAP Gmail Signal OK FR EN Français English id ID pk MB KB Go Mo Ko Unicode
    Saint Aubin Ko Ctrl Alt Shift Enter Esc Tab Django Markdown ISO UTC AFP px
    fr en ar es de it nl pt NDJSON JSONL TSV 4CAT
    """.split()
)

#: Fields the application writes itself: what they hold is shown translated, so it is
#: not the organization's content (a category of the default charter, a trigger, an error).
GENERATED_FIELDS = frozenset(
    {
        # A category has a name and a clause in each language: the French one in the
        # English page is a leak ("Menaces").
        "charter.Category.name_fr",
        "charter.Category.name_en",
        "charter.Category.clause_fr",
        "charter.Category.clause_en",
        "charter.CharterVersion.preamble_fr",
        "charter.CharterVersion.preamble_en",
        "moderation.Case.reason",
        # A category's slug is the charter's key: a page names the category instead.
        "charter.Category.slug",
        "moderation.Case.category",
        "moderation.Decision.category",
        "moderation.Decision.rule",
        "moderation.Decision.clause",
        "veille.Alert.title",
        "audit.AuditEvent.action",
        "sources.Source.last_error",
        "sources.ConnectionAlert.message",
    }
)

#: List fields whose strings are the organization's content.
CONTENT_LISTS = frozenset(
    {
        "veille.Narrative.keywords",
        "veille.ProtectedIdentity.handles",
        "items.Item.urls",
        "items.Item.hashtags",
        "items.Item.mentions",
        "items.Item.quoted",
        "conversations.Conversation.labels",
        "conversations.RoutingRule.keywords",
        "conversations.RoutingRule.platforms",
        "counterspeech.Entry.topics",
        "briefs.Brief.dos",
        "briefs.Brief.donts",
        "briefs.BriefEntry.texts",
        "briefs.ExternalPartner.counterpart",
    }
)

SKIPPED_TAGS = frozenset({"script", "style", "code", "pre", "samp", "kbd", "svg", "template"})
VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
READ_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt", "aria-description")
WORD_RE = re.compile(r"[^\W\d_]{2,}")


# --- reading a page --------------------------------------------------------------------------


class VisibleText(HTMLParser):
    """The fragments of text a person reads (or hears) on a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fragments: list[str] = []
        self._stack: list[tuple[str, bool]] = []

    @property
    def _skipping(self) -> bool:
        return bool(self._stack) and self._stack[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        skip = (
            self._skipping
            or tag in SKIPPED_TAGS
            or values.get("translate") == "no"
            # An element in a language of its own (the language switch, a quoted post).
            or (values.get("lang") is not None and tag != "html")
        )
        if not skip:
            for name in READ_ATTRIBUTES:
                if values.get(name):
                    self.fragments.append(values[name] or "")
            if tag == "input" and values.get("type") in {"submit", "button", "reset"}:
                self.fragments.append(values.get("value") or "")
        if tag not in VOID_TAGS:
            self._stack.append((tag, skip))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID_TAGS and self._stack:
            self._stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_TAGS:
            return
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index][0] == tag:
                del self._stack[index:]
                return

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.fragments.append(data)


def fragments(html: str) -> set[str]:
    parser = VisibleText()
    parser.feed(html)
    parser.close()
    out = set()
    for fragment in parser.fragments:
        text = " ".join(fragment.split())
        if WORD_RE.search(text):
            out.add(text)
    return out


# --- what the organization wrote --------------------------------------------------------------


@dataclass
class Content:
    """Every string the database holds as the organization's (or the platforms') content."""

    exact: set[str] = field(default_factory=set)
    haystack: str = ""
    pieces: list[str] = field(default_factory=list)

    def covers(self, fragment: str) -> bool:
        stem = fragment.rstrip("…").strip()
        if stem in self.exact or fragment in self.exact:
            return True
        # Long fragments are parts of a text cut by the page (truncated, one line of many).
        return len(stem) >= 12 and stem in self.haystack

    def strip(self, fragment: str) -> str:
        """The fragment without the content it quotes ("@alice · Alice Martin" → "·"), whole
        or cut: a text shortened, quoted, or one sentence of it."""
        # Whole texts first (a text holding brackets or sentences would be cut below), then
        # the parts of texts, then short values (a name, a keyword), as whole words.
        fragment = self._remove(fragment, (p for p in self.pieces if len(p) >= 20))
        out = []
        for chunk in CHUNK_RE.split(fragment):
            core = _core(chunk)
            found = core and (
                core in self.exact
                or (len(core) >= 12 and core in self.haystack)
                or all(word in self.exact for word in core.split(", "))
            )
            out.append(" " if found else chunk)
        return self._remove("".join(out), (p for p in self.pieces if len(p) < 20))

    @staticmethod
    def _remove(text: str, pieces: Iterator[str]) -> str:
        for piece in pieces:
            if piece in text:  # whole words only: "com" is not taken out of "commerçants"
                text = re.sub(rf"(?<!\w){re.escape(piece)}(?!\w)", " ", text)
        return text


#: Where a page cuts or quotes content: quotation marks, brackets, an ellipsis, a colon, the
#: end of a sentence.
CHUNK_RE = re.compile(r"([«»“”\"()\[\]…]|\s:\s|(?<=[.!?])\s+)")


URL_RE = re.compile(r"https?://\S+")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple):
        for entry in value:
            yield from _strings(entry)
    elif isinstance(value, dict):
        for entry in value.values():
            yield from _strings(entry)


def read_content() -> Content:
    from django.apps import apps

    found: set[str] = set()
    for model in apps.get_models():
        if not model.__module__.startswith("beffroi.") and model._meta.label != "auth.User":
            continue
        label = model._meta.label
        wanted = []
        for model_field in model._meta.get_fields():
            if not isinstance(model_field, models.Field) or model_field.choices:
                continue
            name = f"{label}.{model_field.name}"
            if name in GENERATED_FIELDS:
                continue
            if isinstance(model_field, models.CharField | models.TextField):
                wanted.append(model_field.name)
            elif isinstance(model_field, models.JSONField) and name in CONTENT_LISTS:
                wanted.append(model_field.name)
        if not wanted:
            continue
        for row in model._default_manager.values_list(*wanted):
            for value in row:
                for text in _strings(value):
                    # As written, line by line, and without its links (a narrative is named
                    # by its representative post so).
                    for line in [text, *text.splitlines(), URL_RE.sub("", text)]:
                        line = " ".join(line.split())
                        if line:
                            found.add(line)
    pieces = sorted((s for s in found if len(s) >= 3), key=len, reverse=True)
    return Content(exact=found, haystack="\n".join(found), pieces=pieces)


# --- the catalogue --------------------------------------------------------------------------


@dataclass
class Catalogue:
    same_in_both: set[str]
    french: dict[str, str]
    english: set[str] = field(default_factory=set)
    #: The entries translated to themselves that hold a value ("Version %(number)s").
    same_patterns: list[re.Pattern[str]] = field(default_factory=list)

    def same(self, fragment: str) -> bool:
        return fragment in self.same_in_both or any(
            pattern.fullmatch(fragment) for pattern in self.same_patterns
        )


PLACEHOLDER_RE = re.compile(r"%\([a-z_]+\)[sdf]|%[sd]|%\([a-z_]+\)\.\d+f")


def _pattern(msgid: str) -> re.Pattern[str] | None:
    parts = PLACEHOLDER_RE.split(msgid)
    # Only an entry with words of its own: "%(label)s: %(value)s" would match anything.
    if len(parts) == 1 or not WORD_RE.search(" ".join(parts)):
        return None
    return re.compile(".+?".join(re.escape(part.replace("%%", "%")) for part in parts))


def read_catalogue() -> Catalogue:
    from django.utils.translation import trans_real

    catalog = trans_real.translation("fr")._catalog  # type: ignore[attr-defined]
    same: set[str] = set()
    french: dict[str, str] = {}
    english: set[str] = set()
    patterns = []
    for key, value in catalog.items():
        msgid = key[0] if isinstance(key, tuple) else key
        if not isinstance(msgid, str) or not msgid or not isinstance(value, str):
            continue
        # A message with a context (pgettext) is keyed "context\x04message": the page shows
        # the message alone.
        msgid = msgid.rpartition("\x04")[2]
        msgid = " ".join(msgid.split())
        value = " ".join(value.split())
        english.add(msgid)
        if value == msgid:
            same.add(msgid)
            pattern = _pattern(msgid)
            if pattern is not None:
                patterns.append(pattern)
        elif value:
            french[value] = msgid
    return Catalogue(same_in_both=same, french=french, english=english, same_patterns=patterns)


# --- the world ------------------------------------------------------------------------------


@dataclass(repr=False)
class Town:
    org: Any
    admin: Any
    objects: dict[str, Any]
    content: Content
    catalogue: Catalogue

    def __repr__(self) -> str:
        return f"Town({self.org})"

    def unique(self, stem: str) -> str:
        self.objects["counter"] = self.objects.get("counter", 0) + 1
        return f"{stem}{self.objects['counter']}"

    def __getattr__(self, name: str) -> Any:
        try:
            return self.objects[name]
        except KeyError:
            raise AttributeError(name) from None


def _first(model: Any, **filters: Any) -> Any:
    found = model.objects.filter(**filters).order_by("pk").first()
    assert found is not None, f"the demo town has no {model.__name__} {filters}"
    return found


def _build(org: Any) -> dict[str, Any]:
    """What the pages are called with: the demo's objects, and what a person adds."""
    from django.contrib.auth import get_user_model

    from beffroi.accounts.models import ApiToken
    from beffroi.audit.services import Actor
    from beffroi.charter.services import create_draft, ensure_default_charter
    from beffroi.connectors.base import AuthError
    from beffroi.demo.load import DEMO_PASSWORD
    from beffroi.items.models import Author, Item
    from beffroi.moderation.evidence import preserve
    from beffroi.moderation.models import Case, ClassifierVersion, Decision
    from beffroi.moderation.services import decide, file_appeal
    from beffroi.organizations.models import Membership, Organization
    from beffroi.organizations.services import invite
    from beffroi.sources.credentials import credentials_refused, raise_alert
    from beffroi.sources.models import ConnectionAlert, Source
    from beffroi.veille.models import (
        Alert,
        AlertChannel,
        Campaign,
        CheckedClaim,
        ImpersonationFlag,
        Narrative,
        ProtectedIdentity,
        Watch,
    )

    admin = org.memberships.get(role="admin").user
    moderator = org.memberships.get(role="moderator").user
    actor = Actor(moderator, "ui")
    live = ensure_default_charter(org)
    draft = create_draft(Actor.system(), org)
    rule = draft.rules.create(category="insult", language="fr", kind="keyword", pattern="malotru")
    # An open case the administrator can decide (its flash names the next case), and two
    # comments without one, nor a hide the automation already asked for, for the decisions
    # made here.
    case = _first(Case, organization=org, kind="review", state="open")
    comments = (
        Item.objects.filter(organization=org, kind="comment")
        .exclude(cases__isnull=False)
        .exclude(decisions__action__in=("hide", "delete"))
        .order_by("pk")
    )
    hidden, refused = comments[0], comments[1]
    hide = decide(actor, hidden, "hide", category="insult")
    refusal = decide(actor, refused, "hide", category="insult")
    Decision.objects.filter(pk=refusal.pk).update(
        platform_status=Decision.PlatformStatus.FAILED,
        platform_result={"error": "(#200) Permissions error", "code": 200},
        platform_attempts=3,
    )
    appeal = file_appeal(Actor(admin, "ui"), hide, "Mon commentaire était ironique.")
    preserve(hidden, admin)
    other = Organization.objects.create(slug="ville-voisine", name="Ville voisine")
    token_owner = Membership.objects.filter(organization=org, role="viewer").get().user
    own_invitation = invite(Actor.system(), other, admin.get_username(), "viewer")
    channel = AlertChannel.objects.create(
        organization=org, name="Astreinte", kind="webhook", target="https://hooks.example/a"
    )
    classifier = ClassifierVersion.objects.create(organization=org, version="v1", model=b"")
    imports = Source.objects.create(
        organization=org, name="Fichier", platform="file", kind="import"
    )
    # A connection the platform refused, and one about to expire: errors in the platform's
    # words, said to the reader in a sentence of their language.
    refused_source, expiring_source = Source.objects.filter(organization=org).order_by("pk")[:2]
    credentials_refused(refused_source, AuthError("(#190) Error validating access token"))
    raise_alert(
        expiring_source,
        ConnectionAlert.Kind.EXPIRING,
        "Expire bientôt",
        expires_at=timezone.now() + timedelta(hours=20),
    )
    Source.objects.filter(pk=expiring_source.pk).update(
        status=Source.Status.RATE_LIMITED, last_error="HTTP 429: Too Many Requests"
    )
    loose_user = get_user_model().objects.create_user(username="loose", password=DEMO_PASSWORD)
    # The desk: a conversation with a reply the platform refused and one whose sending was
    # interrupted (their sentences are read in both languages too).
    from beffroi.conversations.models import (
        Conversation,
        Handoff,
        Reply,
        RequestModel,
        RequestSystem,
        RoutingRule,
        SavedReply,
        Team,
    )

    conversation = (
        Conversation.objects.filter(organization=org, kind="public")
        .exclude(team=None)
        .order_by("pk")
        .first()
    )
    assert conversation is not None, "the demo desk has no routed conversation"
    failed_reply, unknown_reply = (
        Reply.objects.create(
            organization=org,
            conversation=conversation,
            item=conversation.root,
            key=f"matrix-{state}",
            text="Bonjour, c'est transmis.",
            state=state,
            reason=reason,
            detail="(#200) Permissions error",
        )
        for state, reason in (("failed", "credentials"), ("unknown", "interrupted"))
    )
    system = _first(RequestSystem, organization=org)
    return {
        "admin": admin,
        "item": hidden,
        "author": _first(Author, organization=org),
        "source": imports,
        "remote_source": _first(Source, organization=org),
        "charter_live": live,
        "charter_draft": draft,
        "charter_category": draft.categories.get(slug="insult"),
        "charter_rule": rule,
        "case": case,
        "hide_decision": hide,
        "refused_decision": refusal,
        "appeal_case": appeal.cases.get(),
        "classifier_version": classifier,
        "watch": _first(Watch, organization=org),
        "alert": _first(Alert, organization=org),
        "channel": channel,
        "narrative": _first(Narrative, organization=org),
        "other_narrative": Narrative.objects.filter(organization=org).order_by("-pk").first(),
        "claim": _first(CheckedClaim, organization=org),
        "campaign": _first(Campaign, organization=org),
        "identity": _first(ProtectedIdentity, organization=org),
        "flag": _first(ImpersonationFlag, organization=org),
        "target_membership": Membership.objects.get(organization=org, user=moderator),
        "token": ApiToken.issue(admin, "script")[0],
        "token_owner": token_owner,
        "loose_user": loose_user,
        "own_invitation": own_invitation,
        "invitation": invite(Actor(admin, "ui"), org, "nouvelle.recrue@exemple.fr", "viewer"),
        "invitation_key": "unknown-key",
        "conversation": conversation,
        "failed_reply": failed_reply,
        "unknown_reply": unknown_reply,
        "saved_reply": _first(SavedReply, organization=org),
        "team": _first(Team, organization=org),
        "request_system": system,
        "routing_rule": _first(RoutingRule, organization=org),
        # Nothing is corrected in the demo: "learn" answers that there is nothing to learn.
        "correction": {},
        "request_model": RequestModel.objects.create(
            organization=org, detector=b"", router=b"", shadow_judged=12, shadow_agreed=9
        ),
        "failed_handoff": Handoff.objects.create(
            organization=org,
            conversation=conversation,
            system=system,
            state="send_failed",
            reason="refused",
            detail="Open311: 400 service_code not found",
            reference=f"BF-{org.pk}-0",
        ),
    }


def _publishing(org: Any) -> dict[str, Any]:
    """The publishing desk's objects the pages are called with: the demo's (a post waiting
    for the mayor, one scheduled, a refusal of Instagram, the library's poster, the cabinet's
    workflow, the electoral reserve), and what people add: a draft, a suspended post, an
    evergreen post published, a post whose outcome was lost, a pause of one account, an
    approval link."""
    from beffroi.audit.services import Actor
    from beffroi.publishing import feed, sending, services
    from beffroi.publishing.models import (
        ApprovalWorkflow,
        MediaAsset,
        PauseWindow,
        Post,
        PostVariant,
    )
    from beffroi.publishing.sending import REASON_INTERRUPTED
    from beffroi.publishing.services import VariantInput
    from beffroi.sources.models import Source
    from tests.web.test_permission_matrix import token_of

    writer = Actor(org.memberships.get(role="publisher").user, "ui")
    cabinet = Actor(org.memberships.get(role="approver").user, "ui")
    accounts = {
        source.platform: source
        for source in Source.objects.filter(organization=org).order_by("-pk")
        if source.is_demo and source.kind == Source.Kind.ACCOUNT
    }
    mastodon = accounts["mastodon"]

    def approved(title: str, text: str, *, evergreen: bool = False) -> Post:
        """A post approved by the cabinet, due now, handed to publishing."""
        post = services.save_post(
            writer,
            org,
            [VariantInput(mastodon, text=text)],
            title=title,
            scheduled_at=timezone.now(),
            evergreen=evergreen,
        )
        services.decide(cabinet, services.submit(writer, post), True, "Validé.")
        services.release_due(organization_id=org.pk)
        return post

    draft = services.save_post(
        writer,
        org,
        [
            VariantInput(
                mastodon,
                text="Fête de la musique le 21 juin : scène ouverte place de la mairie, "
                "inscriptions à l'accueil.",
            )
        ],
        title="Fête de la musique",
        labels=["culture"],
    )
    suspended = services.save_post(
        writer,
        org,
        [VariantInput(mastodon, text="Nouveaux horaires de la piscine dès lundi.")],
        title="Horaires de la piscine",
        scheduled_at=timezone.now() + timedelta(days=8),
    )
    suspended = services.suspend(
        writer, services.submit(writer, suspended), "En attente de la délibération."
    )
    evergreen = approved(
        "Horaires de la mairie",
        "La mairie vous accueille du lundi au vendredi de 8 h 30 à 17 h.",
        evergreen=True,
    )
    sending.publish(evergreen.variants.get().pk)
    lost = approved("Alerte canicule", "Canicule : pensez aux personnes isolées.")
    unknown = lost.variants.get()
    sending.finish_variant(
        unknown, PostVariant.State.UNKNOWN, reason=REASON_INTERRUPTED, detail="timeout"
    )
    services.settle(lost.pk)
    review = _first(Post, organization=org, state=Post.State.IN_REVIEW)
    media = _first(MediaAsset, organization=org)
    _link, token = services.create_external_link(writer, review, "Jeanne Moreau")
    paused = services.pause(
        Actor(org.memberships.get(role="admin").user, "ui"),
        org,
        "Message suspect publié cette nuit : nous vérifions le compte.",
        source=accounts["instagram"],
    )
    return {
        "publishing_account": mastodon,
        "post": draft,
        "variant": _first(PostVariant, post__organization=org, state="simulated"),
        "review_post": review,
        "scheduled_post": _first(Post, organization=org, state=Post.State.SCHEDULED),
        "suspended_post": suspended,
        "evergreen_post": Post.objects.get(pk=evergreen.pk),
        "failed_variant": _first(PostVariant, post__organization=org, state="failed"),
        "unknown_variant": unknown,
        "media": media,
        "pause": paused,
        "window": _first(PauseWindow, organization=org),
        "workflow": _first(ApprovalWorkflow, organization=org),
        "external_token": token,
        "media_token": token_of(sending.media_url(media)),
        "feed_token": feed.feed_token(org),
    }


def _counter_speech(org: Any) -> dict[str, Any]:
    """The library's objects the pages are called with: a draft and an entry in review by a
    publisher of the town, an approved one with a source read and changed since, and the
    library of a national cell the town subscribes to (its approved entry read-only)."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from beffroi.counterspeech import services
    from beffroi.counterspeech.models import EntrySource, LibrarySubscription
    from beffroi.counterspeech.validation import EntryData, SourceData
    from beffroi.organizations.context import OrgContext
    from beffroi.organizations.models import Membership, Organization

    def ctx(organization: Any, role: str) -> OrgContext:
        membership = Membership.objects.filter(organization=organization, role=role).first()
        assert membership is not None, role
        return OrgContext.for_member(membership, "ui")

    def data(title: str, **extra: Any) -> EntryData:
        return EntryData(
            strategy="facts",
            title=title,
            texts=[
                (
                    "fr",
                    "L'eau du robinet est contrôlée chaque semaine : les résultats sont publics.",
                ),
                ("en", "Tap water is tested every week: the results are public."),
            ],
            targets=["migrants"],
            topics=["eau"],
            sources=[SourceData("https://www.example.org/qualite-eau", "Qualité de l'eau")],
            **extra,
        )

    writer, admin = ctx(org, "publisher"), ctx(org, "admin")
    draft = services.create_entry(writer, data("Eau du robinet"))
    review = services.create_entry(writer, data("Eau potable"), submit=True)
    approved = services.approve(
        admin,
        services.create_entry(
            writer,
            data("Analyses de l'eau", valid_until=timezone.localdate() - timedelta(days=1)),
            submit=True,
        ),
    )
    EntrySource.objects.filter(entry=approved).update(
        sha256="b" * 64, reference_sha256="a" * 64, fetched_at=timezone.now()
    )
    cell = Organization.objects.create(slug="cellule-nationale", name="Cellule nationale")
    approver = get_user_model().objects.create_user(username="cellule-approbation")
    Membership.objects.create(user=approver, organization=cell, role="approver")
    cell_ctx = OrgContext.for_command_line(cell, "demo")
    shared = services.approve(
        ctx(cell, "approver"),
        services.create_entry(cell_ctx, data("Rumeur sur l'eau"), submit=True),
    )
    services.publish_library(cell_ctx, "Cellule nationale")
    return {
        "library_draft": draft,
        "library_in_review": review,
        "library_approved": approved,
        "library_publisher": cell,
        "library_shared": shared,
        "library_subscription": LibrarySubscription.objects.create(subscriber=org, publisher=cell),
    }


def _briefs(org: Any) -> dict[str, Any]:
    """The response briefs' objects (tests/briefs/factories.py): a draft, a brief sent to a
    partner that answered it, one exported to a partner of another Beffroi with its report,
    briefs of others in the town's desk, a link, and the town's partnerships."""
    from beffroi.briefs import services
    from tests.briefs import factories

    partner = factories.accepted_partner(org)
    sent, delivery = factories.sent_brief(org, partner, title="Rumeur des compteurs")
    services.declare_response(
        factories.system(partner), delivery, sent.posts.get(), "https://x.example/reponse/1"
    )
    exported, report = factories.responses_file(org)
    # Imported once already: what the report says is the town's content (imported again by
    # the page, it changes nothing).
    services.import_responses(factories.system(org), report)
    return {
        "brief_draft": factories.brief(org, title="Rumeur de l'eau"),
        "brief_sent": sent,
        "brief_exported": exported,
        "brief_report": report,
        "brief_delivery": factories.delivered_to(org),
        "brief_imported": factories.imported_into(org),
        "brief_link": factories.link(org, "Association du quartier")[0],
        "brief_partner": partner,
        "brief_proposer": factories.proposing_sender(org),
        "brief_candidate": factories.third_org(org, "brief-candidate", "Réseau candidat"),
    }


@pytest.fixture(scope="module")
def town(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Town]:
    from beffroi.demo.desk import load_demo_desk
    from beffroi.demo.load import load_demo
    from beffroi.demo.publishing import load_demo_publishing
    from beffroi.moderation.services import moderate_items
    from beffroi.veille.scan import scan

    with django_db_blocker.unblock():
        org = load_demo().organization
        items = list(org.items.select_related("source", "author").order_by("id"))
        moderate_items(items)
        scan(org)
        load_demo_desk(org)
        load_demo_publishing(org)
        objects = _build(org) | _publishing(org) | _counter_speech(org) | _briefs(org)
        yield Town(org, objects["admin"], objects, read_content(), read_catalogue())
        from django.core.management import call_command

        call_command("flush", interactive=False, verbosity=0)


# --- calling the pages ----------------------------------------------------------------------

#: A case that posts to a page the matrix reads by GET (``ALSO_POSTED``).
POSTED = "(POST)"

#: Pages shown with a query too, so that each variant of the page is read.
VARIANTS: dict[str, list[str]] = {
    "sources:create": ["?platform=mastodon", "?platform=facebook", "?platform=telegram"],
    "items:inbox": ["?kind=comment", "?status=hidden"],
    "moderation:decisions": ["?status=failed"],
    "charter:diff": ["?old=1&new=2"],
    "publishing:list": ["?state=in_review"],
    "publishing:calendar": ["?view=week", "?view=list"],
    # A post in each state a person meets: its sentence, its approval, its actions.
    "publishing:detail": [
        "#review_post",
        "#scheduled_post",
        "#suspended_post",
        "#evergreen_post",
        "#failed_variant.post",
        "#unknown_variant.post",
        "#variant.post",
    ],
    "publishing:edit": ["#review_post"],
    # An entry in each state a person meets, and one of a subscribed library (read-only).
    "counterspeech:detail": ["#library_in_review", "#library_approved", "#library_shared"],
    "counterspeech:library": ["?library=shared"],
    # A brief sent and answered; the briefs in the town's desk.
    "briefs:detail": ["#brief_sent"],
    "briefs:list": ["?box=received"],
    # The change made on a page every member reads (``ALSO_POSTED``): its flash message.
    "publishing:media": [POSTED],
    "publishing:settings": [POSTED],
    "publishing:pause": [POSTED],
    "publishing:calendar_feed": [POSTED],
}

#: Pages that are not HTML for a person (files, redirects, machine endpoints).
NOT_PAGES = frozenset(
    {
        "core:healthz",
        "moderation:dossier_json",
        "moderation:dossier_pdf",
        "moderation:statements_json",
        "moderation:statements_csv",
        "charter:export",
        "meta_webhook",
        "oauth_callback",
        "set_language",
        "accounts:logout",
        "invitations:open",
        "publishing:variant_package",
        "publishing:media_file",
        "publishing_public:media",
        "publishing_public:calendar_feed",
    }
)


def _pages() -> dict[str, tuple[Page, bool]]:
    pages = {name: (page, True) for name, page in ORG_PAGES.items()}
    for name, (page, _anonymous) in OTHER_PAGES.items():
        pages[name] = (page, False)
    return pages


PAGES = _pages()
ROUTE_BY_NAME = {route.name: route for route in ROUTES}


def _client(town: Town, language: str) -> Client:
    from django.conf import settings
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=town.admin, confirmed=True).first()
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(town.admin)
    session = client.session
    assert device is not None
    session["otp_device_id"] = device.persistent_id
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def _url(town: Town, name: str, page: Page, org_scoped: bool) -> str:
    kwargs: dict[str, Any] = {"org_slug": town.org.slug} if org_scoped else {}
    if page.pk is not None:
        kwargs["pk"] = getattr(town, page.pk).pk
    return reverse(name, kwargs=kwargs | page.url_kwargs(town))  # type: ignore[arg-type]


#: Pages read by a visitor who has not signed in, or not passed the second factor yet.
ANONYMOUS = frozenset({"accounts:login", "charter_public:page", "publishing_public:approve"})
UNVERIFIED = frozenset({"accounts:verify"})


def _data(town: Town, name: str, page: Page) -> dict[str, Any]:
    from beffroi.demo.load import DEMO_PASSWORD

    data: dict[str, Any] = page.data(town)  # type: ignore[arg-type]
    if name == "accounts:password_change":
        data["old_password"] = DEMO_PASSWORD  # the demo administrator's
    return data


def _page_of(town: Town, name: str, suffix: str) -> tuple[Page, bool, str]:
    """The page a case calls, whether it is an organization's, and its query: a suffix is a
    query (``?view=week``), the POST of a page every member reads (``POSTED``), or another
    object of the town (``#review_post``, ``#failed_variant.post``: its post)."""
    page, org_scoped = PAGES[name]
    if suffix == POSTED:
        return ALSO_POSTED[name], org_scoped, ""
    if suffix.startswith("#"):
        found: Any = town
        for attribute in suffix[1:].split("."):
            found = getattr(found, attribute)
        town.objects[suffix] = found
        return replace(page, pk=suffix), org_scoped, ""
    return page, org_scoped, suffix


def _render(town: Town, language: str, name: str, suffix: str = "") -> set[str]:
    from django.conf import settings

    page, org_scoped, suffix = _page_of(town, name, suffix)
    if name in ANONYMOUS:
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    elif name in UNVERIFIED:
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        client.force_login(town.admin)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    else:
        client = _client(town, language)
    url = _url(town, name, page, org_scoped) + suffix
    data = _data(town, name, page)
    if page.method == "GET":
        # A page that sends the administrator on (home → the organization) is read there.
        response = client.get(url, data, follow=True)
        assert response.status_code == 200, f"{url}: {response.status_code}"
        return fragments(response.content.decode())
    # A POST: its flash message on the page it leads to; rolled back afterwards.
    with transaction.atomic():
        response = client.post(url, data, follow=True)
        transaction.set_rollback(True)
    # 400: a form sent back with its errors (the demo password is hashed with a hasher
    # these tests turn off), read as well.
    assert response.status_code in {200, 400, 403}, f"POST {url}: {response.status_code}"
    # What the POST wrote (a name, a note) is content too, shown back on the page.
    written = [str(value) for value in data.values() if isinstance(value, str) and value]
    # A file sent is content with the type the browser gave it ("image/png").
    written += [value.content_type for value in data.values() if hasattr(value, "content_type")]
    found = set()
    for fragment in fragments(response.content.decode()):
        for value in written:
            # Whole words only: a checkbox's "on" is not taken out of "Mastodon".
            fragment = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", " ", fragment)
        fragment = " ".join(fragment.split())
        if WORD_RE.search(fragment):
            found.add(fragment)
    return found


#: What pages put between the parts of a fragment (a title, a breadcrumb, a byline).
SEPARATOR_RE = re.compile(r"\s+[·›|—]\s+|^[·›|—]\s+|\s+[·›|—]$")


def _untranslated(town: Town, fragment: str) -> bool:
    catalogue, content = town.catalogue, town.content
    if catalogue.same(fragment) or content.covers(fragment):
        return False
    parts = [part.strip() for part in SEPARATOR_RE.split(fragment) if part.strip()]
    if parts != [fragment]:
        return any(_untranslated(town, part) for part in parts)
    rest = content.strip(fragment)
    # A catalogue entry translated to itself, in brackets or quoted ("(Image)"), is translated.
    chunks = (chunk for chunk in CHUNK_RE.split(rest) if not catalogue.same(_core(chunk)))
    return any(word not in PROPER_NOUNS for chunk in chunks for word in WORD_RE.findall(chunk))


def _core(chunk: str) -> str:
    return chunk.strip(" ,.;:!?'\"«»“”()…·")


SENTENCE_RE = re.compile(r"(?<=[.!?…])\s+")


def _units(town: Town, page: set[str]) -> set[str]:
    """The fragments, and the sentences of those that are not content: a message made of
    two ("Masqué. Next case.") shows its untranslated half in both languages."""
    units = set(page)
    for fragment in page:
        if not town.content.covers(fragment) and not town.catalogue.same(fragment):
            rest = " ".join(town.content.strip(fragment).split())
            units.update(part.strip() for part in SENTENCE_RE.split(rest) if part.strip())
    return units


def problems(town: Town, french: set[str], english: set[str]) -> list[str]:
    found = []
    catalogue = town.catalogue
    for fragment in sorted(_units(town, french) & _units(town, english)):
        if _untranslated(town, fragment):
            found.append(f"the same in both languages: {fragment!r}")
    for fragment in sorted(english - french):
        if (
            fragment in catalogue.french
            and fragment not in catalogue.english
            and not town.content.covers(fragment)
        ):
            found.append(f"French in the English page: {fragment!r}")
    return found


def _cases() -> list[tuple[str, str]]:
    cases = []
    for name in sorted(PAGES):
        if name in NOT_PAGES:
            continue
        cases.append((name, ""))
        cases.extend((name, suffix) for suffix in VARIANTS.get(name, []))
    return cases


def test_every_page_is_read_here() -> None:
    """A page added later is rendered here once the permission matrix knows it."""
    missing = {r.name for r in ROUTES} - set(PAGES) - set(TOKEN_GATED)
    assert not missing, f"pages unknown to the permission matrix: {sorted(missing)}"


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "suffix"), _cases())
def test_page_says_everything_in_both_languages(town: Town, name: str, suffix: str) -> None:
    french = _render(town, "fr", name, suffix)
    english = _render(town, "en", name, suffix)
    found = problems(town, french, english)
    assert not found, f"{name}{suffix}:\n" + "\n".join(found)


# --- the test can fail ----------------------------------------------------------------------


def _fake_town(content: set[str]) -> Town:
    found = set(content)
    return Town(
        org=None,
        admin=None,
        objects={},
        content=Content(exact=found, haystack="\n".join(found), pieces=sorted(found)),
        catalogue=Catalogue(
            same_in_both={"Total"},
            french={"Douteux": "Doubtful", "Active": "Acts"},
            english={"Doubtful", "Acts", "Active"},
            same_patterns=[
                p for p in [_pattern("Version %(number)s"), _pattern("%(a)s. %(b)s")] if p
            ],
        ),
    )


def test_an_untranslated_string_fails() -> None:
    town = _fake_town({"Alice Martin"})
    page = (
        '<p>Next case.</p><p>Alice Martin</p><p>Total</p><p title="Filter">x</p>'
        "<h1>Version 2</h1><title>Total · Alice Martin · Beffroi</title>"
    )
    french = fragments(page)
    english = fragments(page)
    assert problems(town, french, english) == [
        "the same in both languages: 'Filter'",
        "the same in both languages: 'Next case.'",
    ]
    # A word translated to itself stays so in brackets; an untranslated one does not.
    brackets = fragments("<p>(Total)</p><p>(Filter)</p>")
    assert problems(town, brackets, brackets) == ["the same in both languages: '(Filter)'"]
    # Half a message untranslated: the sentence shown in both languages is found.
    assert problems(
        town, fragments("<p>Masqué. Next case.</p>"), fragments("<p>Hidden. Next case.</p>")
    ) == ["the same in both languages: 'Next case.'"]


def test_french_in_english_fails() -> None:
    town = _fake_town(set())
    assert problems(town, fragments("<td>Douteux</td>"), fragments("<td>Douteux</td>")) == [
        "the same in both languages: 'Douteux'"
    ]
    assert problems(town, fragments("<td>Doubtful</td>"), fragments("<td>Douteux</td>")) == [
        "French in the English page: 'Douteux'"
    ]
    # "Active" is English too (a French word of the catalogue that is also one of its msgids).
    assert problems(town, fragments("<td>Actif</td>"), fragments("<td>Active</td>")) == []


def test_raw_enum_and_content_marked_as_such() -> None:
    town = _fake_town({"STATEMENT_CATEGORY_VIOLENCE"})
    page = '<span translate="no">moderation.appeal.decided</span><code>(#200) error</code>'
    assert problems(town, fragments(page), fragments(page)) == []
    raw = "<td>STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE</td>"
    assert problems(town, fragments(raw), fragments(raw)) == [
        "the same in both languages: 'STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE'"
    ]
