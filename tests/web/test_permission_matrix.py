"""Every page of the web interface, every kind of visitor.

The URL patterns are read from the project's resolver, so a view added later cannot escape:
the test fails until the pattern is added to ``ORG_PAGES`` or ``OTHER_PAGES`` with a way to
build a request for it. The JSON API (``api/v1/``, covered by its own matrix), the Django
admin and the request systems' signed status calls are left out.

Organization pages: an anonymous visitor is sent to the login page; a member of another
organization gets 404; each role gets its page (200, or a redirect for POST-only actions)
when ``ROLE_CAPABILITIES`` allows the view's ``required_capability``, else 403. Two more
columns for each role the page allows:

- another organization's object: the same address with the id of the other organization's
  object of the same kind answers 404 and writes nothing (``tests/web/test_cross_organization.py``
  probes the same addresses as the other organization's administrator, GET and POST);
- the audit event: every POST the role makes writes an audit event of the organization,
  unless the page is in ``NOT_AUDITED`` with the reason. Pages outside organizations that
  take an id answer 404 with someone else's object, and their POSTs are audited too.

A view may check a further capability inside (``FURTHER_CAPABILITIES``): every member reads a
post, but comments on it only who writes or approves posts. A page every member reads and
some change (the media library, the publishing settings, the pause) is posted to as well
(``ALSO_POSTED``), by every role, with the same two promises: an allowed change is audited,
a refused one (403) writes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from beffroi.organizations.roles import ROLE_CAPABILITIES, Capability, Role
from beffroi.sources.webhooks import VERIFY_TOKEN_ENV
from tests.conftest import PASSWORD
from tests.cross_org import fill_world

#: The request systems' status calls (``hooks/requests/``) are machine-to-machine, signed with a
#: system's secret and no one's session: tests/conversations/test_handoff_webhook.py covers them.
EXCLUDED_PREFIXES = ("api/v1/", "django-admin/", "hooks/requests/")
LOGIN_PATH = "/accounts/login/"


# --- walking the resolver ---------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    route: str
    callback: Any

    @property
    def org_scoped(self) -> bool:
        return "<slug:org_slug>" in self.route


def walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = ":".join(part for part in (namespace, entry.namespace or "") if part)
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else (entry.name or "")
            yield Route(
                name or f"<unnamed {prefix}{entry.pattern}>",
                prefix + str(entry.pattern),
                entry.callback,
            )


def project_routes() -> list[Route]:
    return [
        route
        for route in walk(get_resolver().url_patterns)
        if not route.route.startswith(EXCLUDED_PREFIXES)
    ]


# --- the world each case runs in ------------------------------------------------------------


@dataclass
class World:
    org: Any
    other_org: Any
    source: Any
    author: Any
    item: Any
    target_membership: Any
    loose_user: Any
    token_owner: Any
    token: Any
    counter: dict[str, int] = field(default_factory=lambda: {"n": 0})
    made: dict[str, Any] = field(default_factory=dict)

    def unique(self, stem: str) -> str:
        self.counter["n"] += 1
        return f"{stem}{self.counter['n']}"

    @property
    def remote_source(self) -> Any:
        """A source fetched from its platform (``source`` is filled by file imports)."""
        if "remote_source" not in self.made:
            from beffroi.sources.models import Source

            self.made["remote_source"] = Source.objects.create(
                organization=self.org, name="Mastodon", platform="mastodon"
            )
        return self.made["remote_source"]

    # Charter objects are made on first use, so that other pages do not pay for them.
    @property
    def charter_live(self) -> Any:
        """Version 1, Beffroi's default charter, live."""
        from beffroi.charter.services import ensure_default_charter

        return ensure_default_charter(self.org)

    @property
    def charter_draft(self) -> Any:
        if "charter_draft" not in self.made:
            from beffroi.audit.services import Actor
            from beffroi.charter.services import create_draft, ensure_default_charter

            ensure_default_charter(self.org)
            self.made["charter_draft"] = create_draft(Actor.system(), self.org)
        return self.made["charter_draft"]

    @property
    def charter_category(self) -> Any:
        return self.charter_draft.categories.get(slug="insult")

    @property
    def charter_rule(self) -> Any:
        return self.charter_draft.rules.get_or_create(
            category="insult", language="fr", kind="keyword", pattern="malotru"
        )[0]

    # Invitations, made on first use too.
    @property
    def invitation(self) -> Any:
        """The organization's invitation to the loose user."""
        if "invitation" not in self.made:
            from beffroi.audit.services import Actor
            from beffroi.organizations.services import invite

            self.made["invitation"] = invite(
                Actor.system(), self.org, self.loose_user.username, "viewer"
            )
        return self.made["invitation"]

    @property
    def own_invitation(self) -> Any:
        """The other organization's invitation to the member the pages are called as."""
        if "own_invitation" not in self.made:
            from beffroi.audit.services import Actor
            from beffroi.organizations.services import invite

            self.made["own_invitation"] = invite(
                Actor.system(), self.other_org, self.token_owner.username, "viewer"
            )
        return self.made["own_invitation"]

    @property
    def invitation_key(self) -> str:
        from beffroi.organizations.services import issue_link_key

        return issue_link_key(self.own_invitation)

    # Moderation objects, made on first use too.
    @property
    def case(self) -> Any:
        if "case" not in self.made:
            from beffroi.moderation.models import Case

            self.made["case"] = Case.objects.create(
                organization=self.org, item=self.item, category="insult"
            )
        return self.made["case"]

    @property
    def hide_decision(self) -> Any:
        """A hide by another member (so that any role may judge its appeal)."""
        if "hide_decision" not in self.made:
            from beffroi.audit.services import Actor
            from beffroi.moderation.services import decide

            self.made["hide_decision"] = decide(Actor(self.token_owner, "ui"), self.item, "hide")
        return self.made["hide_decision"]

    @property
    def refused_decision(self) -> Any:
        """A hide the platform refused (what Retry sends again)."""
        if "refused_decision" not in self.made:
            from beffroi.moderation.models import Decision

            self.made["refused_decision"] = Decision.objects.create(
                organization=self.org,
                item=self.item,
                action=Decision.Action.HIDE,
                platform_status=Decision.PlatformStatus.FAILED,
                platform_result={"detail": "refused", "reason": "refused"},
            )
        return self.made["refused_decision"]

    @property
    def appeal_case(self) -> Any:
        if "appeal_case" not in self.made:
            from beffroi.audit.services import Actor
            from beffroi.moderation.services import file_appeal

            appeal = file_appeal(Actor(self.token_owner, "ui"), self.hide_decision, "Je conteste")
            self.made["appeal_case"] = appeal.cases.get()
        return self.made["appeal_case"]

    @property
    def classifier_version(self) -> Any:
        if "classifier_version" not in self.made:
            from beffroi.moderation.models import ClassifierVersion

            self.made["classifier_version"] = ClassifierVersion.objects.create(
                organization=self.org, version="v1", model=b""
            )
        return self.made["classifier_version"]

    # Veille objects, made on first use too.
    def _veille(self, name: str, build: Callable[[], Any]) -> Any:
        if name not in self.made:
            self.made[name] = build()
        return self.made[name]

    @property
    def watch(self) -> Any:
        from beffroi.veille.models import Watch

        return self._veille(
            "watch", lambda: Watch.objects.create(organization=self.org, name="w", query="eau")
        )

    @property
    def alert(self) -> Any:
        from django.utils import timezone

        from beffroi.veille.models import Alert

        return self._veille(
            "alert",
            lambda: Alert.objects.create(
                organization=self.org,
                kind="spike",
                key="k",
                title="t",
                started_at=timezone.now(),
                context={"items": [self.item.pk]},
            ),
        )

    @property
    def channel(self) -> Any:
        from beffroi.veille.models import AlertChannel

        return self._veille(
            "channel",
            lambda: AlertChannel.objects.create(
                organization=self.org, name="c", kind="webhook", target="http://127.0.0.1:9/h"
            ),
        )

    @property
    def narrative(self) -> Any:
        from django.utils import timezone

        from beffroi.veille.models import Narrative, NarrativeItem
        from tests.web.factories import make_item

        def build() -> Any:
            narrative = Narrative.objects.create(
                organization=self.org,
                key="n1",
                keywords=["eau"],
                item_count=1,
                first_seen=timezone.now(),
                last_seen=timezone.now(),
            )
            NarrativeItem.objects.create(narrative=narrative, item=self.item)
            # A second item, so that the first can be split off.
            second = make_item(self.source, self.author, self.unique("n1-"), text="De l'eau")
            NarrativeItem.objects.create(narrative=narrative, item=second)
            return narrative

        return self._veille("narrative", build)

    @property
    def other_narrative(self) -> Any:
        from django.utils import timezone

        from beffroi.veille.models import Narrative

        return self._veille(
            "other_narrative",
            lambda: Narrative.objects.create(
                organization=self.org, key="n2", first_seen=timezone.now(), last_seen=timezone.now()
            ),
        )

    @property
    def claim(self) -> Any:
        from beffroi.veille.models import CheckedClaim

        return self._veille(
            "claim",
            lambda: CheckedClaim.objects.create(
                organization=self.org, key=self.unique("claim"), statement="L'eau est polluée"
            ),
        )

    @property
    def campaign(self) -> Any:
        from django.utils import timezone

        from beffroi.veille.models import Campaign

        def build() -> Any:
            campaign = Campaign.objects.create(
                organization=self.org,
                key="copy:1",
                kind="copy",
                first_at=timezone.now(),
                last_at=timezone.now(),
                shared="Signez la pétition",
            )
            campaign.items.add(self.item)
            campaign.authors.add(self.author)
            return campaign

        return self._veille("campaign", build)

    @property
    def identity(self) -> Any:
        from beffroi.veille.models import ProtectedIdentity

        return self._veille(
            "identity",
            lambda: ProtectedIdentity.objects.create(
                organization=self.org, name="Claire Dumas", handles=["claire"]
            ),
        )

    @property
    def flag(self) -> Any:
        from beffroi.veille.models import ImpersonationFlag

        return self._veille(
            "flag",
            lambda: ImpersonationFlag.objects.create(
                organization=self.org,
                identity=self.identity,
                author=self.author,
                score=0.9,
                evidence=["display name"],
            ),
        )

    # The answering desk's objects, made on first use too.
    @property
    def conversation(self) -> Any:
        from beffroi.conversations.models import Conversation

        def build() -> Any:
            conversation = Conversation.objects.create(
                organization=self.org,
                key=f"public:{self.source.pk}:{self.item.platform_id}",
                kind="public",
                source=self.source,
                platform=self.source.platform,
                author=self.author,
                root=self.item,
                opened_at=self.item.created_at,
                last_citizen_at=self.item.created_at,
            )
            conversation.items.add(self.item)
            return conversation

        return self._veille("conversation", build)

    @property
    def failed_reply(self) -> Any:
        from beffroi.conversations.models import Reply

        return self._veille(
            "failed_reply",
            lambda: Reply.objects.create(
                organization=self.org,
                conversation=self.conversation,
                item=self.item,
                key=self.unique("failed"),
                text="Bonjour",
                state="failed",
                reason="refused",
            ),
        )

    @property
    def unknown_reply(self) -> Any:
        from beffroi.conversations.models import Reply

        return self._veille(
            "unknown_reply",
            lambda: Reply.objects.create(
                organization=self.org,
                conversation=self.conversation,
                item=self.item,
                key=self.unique("unknown"),
                text="Bonjour",
                state="unknown",
                reason="interrupted",
            ),
        )

    @property
    def saved_reply(self) -> Any:
        from beffroi.conversations.models import SavedReply

        return self._veille(
            "saved_reply",
            lambda: SavedReply.objects.create(
                organization=self.org, name="Merci", text="Merci {prénom}."
            ),
        )

    @property
    def request_system(self) -> Any:
        from beffroi.conversations.models import RequestSystem

        return self._veille(
            "request_system",
            lambda: RequestSystem.objects.create(
                organization=self.org, name="Courriel", kind="email", email="s@ville.example"
            ),
        )

    @property
    def failed_handoff(self) -> Any:
        from beffroi.conversations.models import Handoff

        return self._veille(
            "failed_handoff",
            lambda: Handoff.objects.create(
                organization=self.org,
                conversation=self.conversation,
                system=self.request_system,
                state="send_failed",
                reason="error",
            ),
        )

    @property
    def correction(self) -> dict[str, Any]:
        """A person said the conversation is a request: something to learn from."""
        from beffroi.conversations.models import Conversation

        Conversation.objects.filter(pk=self.conversation.pk).update(
            is_request=True, request_checked_by=self.token_owner
        )
        return {}

    @property
    def request_model(self) -> Any:
        from beffroi.conversations.models import RequestModel

        return self._veille(
            "request_model",
            lambda: RequestModel.objects.create(organization=self.org, detector=b"", router=b""),
        )

    @property
    def routing_rule(self) -> Any:
        from beffroi.conversations.models import RoutingRule

        return self._veille(
            "routing_rule",
            lambda: RoutingRule.objects.create(
                organization=self.org, name="Écoles", keywords=["école"], team=self.team
            ),
        )

    @property
    def team(self) -> Any:
        from beffroi.conversations.models import Team

        return self._veille(
            "team",
            lambda: Team.objects.create(organization=self.org, slug="voirie", name="Voirie"),
        )

    # The publishing desk's objects, made on first use too, through its services.
    @property
    def writer(self) -> Any:
        """The publisher who writes the posts: the roles tested read, approve and act on
        what someone else wrote (no one approves their own post)."""
        from django.contrib.auth import get_user_model

        from beffroi.organizations.models import Membership

        def build() -> Any:
            user = get_user_model().objects.create_user(username=f"{self.org.slug}-writer")
            Membership.objects.create(user=user, organization=self.org, role="publisher")
            return user

        return self._veille("writer", build)

    def _demo_account(self, name: str, platform: str) -> Any:
        """A demo account: what it publishes is simulated, nothing reaches a platform."""
        from beffroi.sources.models import DEMO_SETTING, Source

        return Source.objects.create(
            organization=self.org,
            name=name,
            platform=platform,
            settings={DEMO_SETTING: True, "base_url": "https://social.example"},
        )

    # The counter-speech library's objects, made on first use too, through its services:
    # written by the publisher ``writer``, so that every role may approve them.
    def _library_ctx(self, user: Any) -> Any:
        from beffroi.organizations.context import OrgContext
        from beffroi.organizations.models import Membership

        membership = Membership.objects.select_related("user", "organization").get(
            user=user, organization=self.org
        )
        return OrgContext.for_member(membership, "ui")

    def _library_entry(self, title: str, *, submit: bool) -> Any:
        from beffroi.counterspeech import services
        from beffroi.counterspeech.validation import EntryData

        data = EntryData(
            strategy="facts",
            title=title,
            texts=[("fr", "L'eau du robinet est contrôlée chaque semaine.")],
        )
        return services.create_entry(self._library_ctx(self.writer), data, submit=submit)

    @property
    def library_draft(self) -> Any:
        return self._veille(
            "library_draft", lambda: self._library_entry("Eau du robinet", submit=False)
        )

    @property
    def library_in_review(self) -> Any:
        return self._veille(
            "library_in_review", lambda: self._library_entry("Eau potable", submit=True)
        )

    @property
    def library_publisher(self) -> Any:
        """A third organization that shares its library (the organization may subscribe)."""
        from beffroi.counterspeech import services
        from beffroi.organizations.context import OrgContext
        from beffroi.organizations.models import Organization

        def build() -> Any:
            cell = Organization.objects.create(
                slug=f"{self.org.slug}-cellule", name="Cellule nationale"
            )
            ctx = OrgContext.for_command_line(cell, "matrix")
            services.publish_library(ctx, "Cellule nationale")
            return cell

        return self._veille("library_publisher", build)

    @property
    def library_subscription(self) -> Any:
        from beffroi.counterspeech.models import LibrarySubscription

        return self._veille(
            "library_subscription",
            lambda: LibrarySubscription.objects.create(
                subscriber=self.org, publisher=self.library_publisher
            ),
        )

    # The response briefs' objects, made on first use too (tests/briefs/factories.py): the
    # organization's own brief, one exported with its partner's report, briefs of others in
    # its desk (delivered here, imported from another Beffroi), a link, and the organizations
    # on the other side of its partnerships.
    def _brief_made(self, name: str, build: Callable[[Any], Any]) -> Any:
        return self._veille(name, lambda: build(self.org))

    @property
    def brief_draft(self) -> Any:
        from tests.briefs import factories

        return self._brief_made("brief_draft", factories.brief)

    @property
    def brief_exported(self) -> Any:
        """A brief exported to a partner of another Beffroi (``brief_report``: its report)."""
        from tests.briefs import factories

        made = self._brief_made("brief_export", factories.responses_file)
        return made[0]

    @property
    def brief_report(self) -> bytes:
        self.brief_exported  # noqa: B018 (made with it)
        return bytes(self.made["brief_export"][1])

    @property
    def brief_delivery(self) -> Any:
        from tests.briefs import factories

        return self._brief_made("brief_delivery", factories.delivered_to)

    @property
    def brief_imported(self) -> Any:
        from tests.briefs import factories

        return self._brief_made("brief_imported", factories.imported_into)

    @property
    def brief_link(self) -> Any:
        from tests.briefs import factories

        return self._brief_made("brief_link", lambda org: factories.link(org)[0])

    @property
    def brief_partner(self) -> Any:
        from tests.briefs import factories

        return self._brief_made("brief_partner", factories.accepted_partner)

    @property
    def brief_proposer(self) -> Any:
        from tests.briefs import factories

        return self._brief_made("brief_proposer", factories.proposing_sender)

    @property
    def brief_candidate(self) -> Any:
        from tests.briefs import factories

        return self._brief_made(
            "brief_candidate",
            lambda org: factories.third_org(org, "brief-candidate", "Réseau candidat"),
        )

    @property
    def publishing_account(self) -> Any:
        """The account the posts go out from, with no approval workflow."""
        return self._veille(
            "publishing_account", lambda: self._demo_account("Mastodon de la mairie", "mastodon")
        )

    @property
    def cabinet_account(self) -> Any:
        """The mayor's page, whose posts the cabinet approves (``workflow``)."""
        return self._veille(
            "cabinet_account", lambda: self._demo_account("Page du maire", "facebook")
        )

    @property
    def workflow(self) -> Any:
        """The cabinet page's workflow: one step, any of the members who may approve (those
        of the roles tested included, made before it), or someone without an account."""
        from beffroi.audit.services import Actor
        from beffroi.publishing.workflows import StepInput, eligible_approvers, save_workflow

        def build() -> Any:
            self.writer  # noqa: B018 (a member before the approvers are read)
            return save_workflow(
                Actor.system(),
                self.org,
                name="Cabinet",
                source=self.cabinet_account,
                steps=[
                    StepInput(
                        name="Cabinet du maire",
                        approvers=list(eligible_approvers(self.org)),
                        allow_external=True,
                    )
                ],
            )

        return self._veille("workflow", build)

    def _post(
        self,
        title: str,
        *,
        source: Any = None,
        when: Any = None,
        submit: bool = False,
        evergreen: bool = False,
    ) -> Any:
        from beffroi.audit.services import Actor
        from beffroi.publishing import services
        from beffroi.publishing.services import VariantInput

        actor = Actor(self.writer, "ui")
        post = services.save_post(
            actor,
            self.org,
            [VariantInput(source or self.publishing_account, text=f"{title} : venez nombreux.")],
            title=title,
            scheduled_at=when,
            evergreen=evergreen,
        )
        return services.submit(actor, post) if submit else post

    @property
    def post(self) -> Any:
        """A draft."""
        return self._veille("post", lambda: self._post("Collecte des encombrants"))

    @property
    def variant(self) -> Any:
        return self.post.variants.get()

    @property
    def review_post(self) -> Any:
        """A post on the cabinet's page, waiting for its approval."""
        from datetime import timedelta

        from django.utils import timezone

        def build() -> Any:
            self.workflow  # noqa: B018 (the workflow before the post)
            return self._post(
                "Vœux du maire",
                source=self.cabinet_account,
                when=timezone.now() + timedelta(days=5),
                submit=True,
            )

        return self._veille("review_post", build)

    @property
    def scheduled_post(self) -> Any:
        """An approved post waiting for its time (no workflow: submitting approves it)."""
        from datetime import timedelta

        from django.utils import timezone

        return self._veille(
            "scheduled_post",
            lambda: self._post(
                "Conseil municipal", when=timezone.now() + timedelta(days=3), submit=True
            ),
        )

    @property
    def suspended_post(self) -> Any:
        from datetime import timedelta

        from django.utils import timezone

        from beffroi.audit.services import Actor
        from beffroi.publishing import services

        def build() -> Any:
            post = self._post(
                "Fête de la musique", when=timezone.now() + timedelta(days=4), submit=True
            )
            return services.suspend(Actor(self.writer, "ui"), post, "En attente du préfet")

        return self._veille("suspended_post", build)

    def _sent_variant(
        self, title: str, state: str, reason: str = "", evergreen: bool = False
    ) -> Any:
        """The variant of a post whose time came, as its platform left it."""
        from django.utils import timezone

        from beffroi.publishing import sending, services

        post = self._post(title, when=timezone.now(), submit=True, evergreen=evergreen)
        services.release_due(organization_id=self.org.pk)
        variant = post.variants.get()
        sending.finish_variant(variant, state, reason=reason, detail="HTTP 503")
        services.settle(post.pk)
        return variant

    @property
    def failed_variant(self) -> Any:
        from beffroi.sources.failures import REASON_REFUSED

        return self._veille(
            "failed_variant", lambda: self._sent_variant("Travaux", "failed", REASON_REFUSED)
        )

    @property
    def unknown_variant(self) -> Any:
        from beffroi.publishing.sending import REASON_INTERRUPTED

        return self._veille(
            "unknown_variant",
            lambda: self._sent_variant("Canicule", "unknown", REASON_INTERRUPTED),
        )

    @property
    def evergreen_post(self) -> Any:
        """An evergreen post, published: it may go out again."""
        return self._veille(
            "evergreen_post",
            lambda: self._sent_variant("Horaires de la mairie", "published", evergreen=True).post,
        )

    @property
    def media(self) -> Any:
        """An image of the library, described."""
        from beffroi.audit.services import Actor
        from beffroi.publishing.media import save_upload

        return self._veille(
            "media",
            lambda: save_upload(
                Actor(self.writer, "ui"),
                self.org,
                png_upload("affiche.png"),
                alt_text="Affiche bleue du marché de Noël",
                name="Affiche du marché",
            ),
        )

    @property
    def pause(self) -> Any:
        """The cabinet's page paused (the other accounts still publish)."""
        from beffroi.audit.services import Actor
        from beffroi.publishing import services

        return self._veille(
            "pause",
            lambda: services.pause(
                Actor.system(), self.org, "Compte piraté", source=self.cabinet_account
            ),
        )

    @property
    def window(self) -> Any:
        """A period planned without publishing."""
        from datetime import timedelta

        from django.utils import timezone

        from beffroi.audit.services import Actor
        from beffroi.publishing import services

        start = timezone.now() + timedelta(days=20)
        return self._veille(
            "window",
            lambda: services.save_window(
                Actor.system(),
                self.org,
                "Réserve électorale",
                start,
                start + timedelta(days=7),
                "Élection partielle",
            ),
        )

    @property
    def external_token(self) -> str:
        """The key of a link to approve the post in review without an account."""
        from beffroi.audit.services import Actor
        from beffroi.publishing import services

        def build() -> str:
            _link, token = services.create_external_link(
                Actor(self.writer, "ui"), self.review_post, "Claire Dumas"
            )
            return token

        return str(self._veille("external_token", build))

    @property
    def media_token(self) -> str:
        """The key of the signed address a platform fetches the image by."""
        from beffroi.publishing.sending import media_url

        return token_of(media_url(self.media))

    @property
    def feed_token(self) -> str:
        from beffroi.publishing.feed import feed_token

        return feed_token(self.org)


@pytest.fixture
def world(org: Any, other_org: Any, source: Any, make_user: Callable[..., Any]) -> World:
    from beffroi.accounts.models import ApiToken
    from beffroi.organizations.models import Membership
    from tests.web.factories import make_author, make_item

    author = make_author(org, "someone")
    item = make_item(source, author, "x1", text="Hello")
    target = make_user("target", org=org, role="viewer")
    owner = make_user("tokenowner", org=org, role="viewer")
    token, _key = ApiToken.issue(owner, "script")
    return World(
        org=org,
        other_org=other_org,
        source=source,
        author=author,
        item=item,
        target_membership=Membership.objects.get(user=target, organization=org),
        loose_user=make_user("loose"),
        token_owner=owner,
        token=token,
    )


@pytest.fixture(autouse=True)
def _oauth_app_for_x(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server has an OAuth application for X: "connect" starts a sign-in (audited)."""
    monkeypatch.setenv("BEFFROI_OAUTH_X_CLIENT_ID", "matrix-client")
    monkeypatch.setenv("BEFFROI_OAUTH_X_CLIENT_SECRET", "matrix-secret")


def png_upload(name: str, color: str = "navy") -> Any:
    """An image file as a browser sends it (a PNG made here)."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def library_file(world: World) -> Any:
    """A counter-speech library file as a browser sends it (one entry)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = f"title,strategy,text_fr\n{world.unique('Eau ')},facts,L'eau est contrôlée.\n"
    return SimpleUploadedFile("library.csv", body.encode(), content_type="text/csv")


def _brief_file(world: World) -> Any:
    """A brief a partner of another Beffroi signed for the organization, as uploaded."""
    from tests.briefs import factories

    return _brief_upload(factories.brief_file(world.org))


def _brief_upload(content: bytes) -> Any:
    """A signed file as a browser sends it (made anew for each request: it is read once)."""
    from tests.briefs import factories

    return factories.upload("brief.json", content)


def _brief_link_code(world: World) -> str:
    """A link code another organization made, for the organization to join."""
    from tests.briefs import factories

    return factories.new_link_code(world.org)


def token_of(url: str) -> str:
    """The token of a signed address (its last part)."""
    from urllib.parse import urlsplit

    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


def local_input(days: int) -> str:
    """A date and time ``days`` from now as a ``datetime-local`` field sends it."""
    from datetime import timedelta

    from django.utils import timezone

    return timezone.localtime(timezone.now() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def local_day(days: int) -> str:
    from datetime import timedelta

    from django.utils import timezone

    return (timezone.localdate() + timedelta(days=days)).isoformat()


# --- what each pattern needs ----------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """How to call a page: method, pk filler (an attribute of World), POST data, and the
    query of a GET (``data`` too)."""

    method: str = "GET"
    pk: str | None = None
    data: Callable[[World], dict[str, Any]] = lambda world: {}
    url_kwargs: Callable[[World], dict[str, Any]] = lambda world: {}

    def kwargs(self, world: World, org_scoped: bool) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"org_slug": world.org.slug} if org_scoped else {}
        if self.pk is not None:
            kwargs["pk"] = getattr(world, self.pk).pk
        return kwargs | self.url_kwargs(world)


ORG_PAGES: dict[str, Page] = {
    "overview:dashboard": Page(),
    "items:inbox": Page(),
    "items:item": Page(pk="item"),
    "items:author": Page(pk="author"),
    "organizations:settings": Page(),
    "organizations:members": Page(),
    "organizations:member_invite": Page(
        "POST",
        data=lambda w: {"invite-identifier": w.loose_user.username, "invite-role": "viewer"},
    ),
    "organizations:member_create": Page(
        "POST", data=lambda w: {"new-username": w.unique("newcomer"), "new-role": "viewer"}
    ),
    "organizations:member_role": Page(
        "POST", pk="target_membership", data=lambda w: {"role": "analyst"}
    ),
    "organizations:member_remove": Page("POST", pk="target_membership"),
    "organizations:invitation_revoke": Page("POST", pk="invitation"),
    "organizations:audit": Page(),
    "sources:list": Page(),
    "sources:create": Page(),
    "sources:edit": Page(pk="source"),
    "sources:sync": Page("POST", pk="remote_source"),
    "sources:import": Page(pk="source"),
    "sources:connect": Page("POST", url_kwargs=lambda w: {"platform": "x"}),
    "sources:connect_choose": Page(),
    "charter:index": Page(),
    "charter:draft_create": Page("POST"),
    "charter:import": Page(),
    "charter:diff": Page(),
    "charter:version": Page(pk="charter_draft"),
    "charter:version_edit": Page(pk="charter_draft"),
    "charter:shadow": Page("POST", pk="charter_draft"),
    "charter:publish": Page("POST", pk="charter_draft"),
    "charter:retire": Page("POST", pk="charter_live"),
    "charter:discard": Page("POST", pk="charter_draft"),
    "charter:export": Page(pk="charter_draft"),
    "charter:category_create": Page(pk="charter_draft"),
    "charter:category_edit": Page(pk="charter_category"),
    "charter:category_delete": Page("POST", pk="charter_category"),
    "charter:rules": Page(pk="charter_draft"),
    "charter:rule_create": Page(pk="charter_draft"),
    "charter:rule_bulk": Page(pk="charter_draft"),
    "charter:rule_edit": Page(pk="charter_rule"),
    "charter:rule_delete": Page("POST", pk="charter_rule"),
    "moderation:queue": Page(),
    "moderation:queue_next": Page("POST"),
    "moderation:queue_bulk": Page("POST", data=lambda w: {"action": "keep", "cases": [w.case.pk]}),
    "moderation:undo": Page("POST", data=lambda w: {"decision": w.hide_decision.pk}),
    "moderation:platform_retry": Page("POST", pk="refused_decision"),
    "moderation:case": Page(pk="case"),
    "moderation:case_decide": Page("POST", pk="case", data=lambda w: {"action": "keep"}),
    "moderation:case_release": Page("POST", pk="case"),
    "moderation:case_take": Page("POST", pk="case"),
    "moderation:case_take_over": Page("POST", pk="case"),
    "moderation:case_appeal": Page(
        "POST", pk="appeal_case", data=lambda w: {"outcome": "upheld", "note": "Fondé"}
    ),
    "moderation:item_decide": Page("POST", pk="item", data=lambda w: {"action": "keep"}),
    "moderation:item_reply": Page("POST", pk="item", data=lambda w: {"reply_text": "Merci."}),
    "moderation:dossier_json": Page(pk="item"),
    "moderation:dossier_pdf": Page(pk="item"),
    "moderation:decisions": Page(),
    "moderation:appeal_create": Page(pk="hide_decision"),
    "moderation:statements_json": Page(),
    "moderation:statements_csv": Page(),
    "moderation:classifier": Page(),
    "moderation:classifier_retrain": Page("POST"),
    "moderation:classifier_default": Page("POST"),
    "moderation:classifier_activate": Page("POST", pk="classifier_version"),
    "veille:dashboard": Page(),
    "veille:scan": Page("POST"),
    "veille:alerts": Page(),
    "veille:alert": Page(pk="alert"),
    "veille:alert_acknowledge": Page("POST", pk="alert"),
    "veille:channels": Page(),
    "veille:channel_create": Page(),
    "veille:channel_edit": Page(pk="channel"),
    "veille:channel_delete": Page("POST", pk="channel"),
    "veille:channel_test": Page("POST", pk="channel"),
    "veille:watches": Page(),
    "veille:watch_create": Page(),
    "veille:watch": Page(pk="watch"),
    "veille:watch_edit": Page(pk="watch"),
    "veille:watch_delete": Page("POST", pk="watch"),
    "veille:narratives": Page(),
    "veille:narrative": Page(pk="narrative"),
    "veille:narrative_rename": Page("POST", pk="narrative", data=lambda w: {"name": "Eau"}),
    "veille:narrative_merge": Page(
        "POST", pk="narrative", data=lambda w: {"into": w.other_narrative.pk}
    ),
    "veille:narrative_split": Page("POST", pk="narrative", data=lambda w: {"items": [w.item.pk]}),
    "veille:claims": Page(),
    "veille:claim_create": Page(),
    "veille:claims_import": Page(),
    "veille:claim_matches": Page(),
    "veille:claim_edit": Page(pk="claim"),
    "veille:claim_delete": Page("POST", pk="claim"),
    "veille:campaigns": Page(),
    "veille:campaign": Page(pk="campaign"),
    "veille:campaign_status": Page("POST", pk="campaign", data=lambda w: {"status": "confirmed"}),
    "veille:identities": Page(),
    "veille:identity_create": Page(),
    "veille:identity_edit": Page(pk="identity"),
    "veille:identity_delete": Page("POST", pk="identity"),
    "veille:impersonators": Page(),
    "veille:impersonator": Page(pk="flag"),
    "veille:impersonator_status": Page("POST", pk="flag", data=lambda w: {"status": "dismissed"}),
    "conversations:list": Page(),
    "conversations:response_times": Page(),
    "conversations:bulk": Page(
        "POST",
        data=lambda w: {"action": "label", "label": "voirie", "conversation": [w.conversation.pk]},
    ),
    "conversations:detail": Page(pk="conversation"),
    "conversations:presence": Page(
        "POST", pk="conversation", data=lambda w: {"activity": "viewing"}
    ),
    "conversations:assign": Page(
        "POST", pk="conversation", data=lambda w: {"assignee": w.token_owner.pk}
    ),
    "conversations:team": Page("POST", pk="conversation", data=lambda w: {"team": w.team.pk}),
    "conversations:state": Page("POST", pk="conversation", data=lambda w: {"state": "closed"}),
    "conversations:labels": Page("POST", pk="conversation", data=lambda w: {"labels": "a, b"}),
    "conversations:request": Page("POST", pk="conversation", data=lambda w: {"is_request": "yes"}),
    "conversations:snooze": Page("POST", pk="conversation", data=lambda w: {"until": ""}),
    "conversations:note": Page("POST", pk="conversation", data=lambda w: {"text": "À voir"}),
    "conversations:reply": Page(
        "POST", pk="conversation", data=lambda w: {"text": "Bonjour", "key": w.unique("key")}
    ),
    "conversations:reply_retry": Page("POST", pk="failed_reply"),
    "conversations:handoff": Page(
        "POST", pk="conversation", data=lambda w: {"system": w.request_system.pk}
    ),
    "conversations:handoff_retry": Page("POST", pk="failed_handoff"),
    "conversations:request_systems": Page(),
    "conversations:request_system_create": Page(),
    "conversations:request_system_edit": Page(pk="request_system"),
    "conversations:reply_confirm": Page("POST", pk="unknown_reply"),
    "conversations:saved_replies": Page(),
    "conversations:saved_reply_create": Page(),
    "conversations:saved_reply_edit": Page(pk="saved_reply"),
    "conversations:saved_reply_delete": Page("POST", pk="saved_reply"),
    "conversations:request_models": Page(),
    "conversations:request_models_learn": Page("POST", data=lambda w: w.correction),
    "conversations:request_model_activate": Page("POST", pk="request_model"),
    "conversations:routing_rules": Page(),
    "conversations:routing_rule_create": Page(),
    "conversations:routing_rule_edit": Page(pk="routing_rule"),
    "conversations:routing_rule_delete": Page("POST", pk="routing_rule"),
    "conversations:teams": Page(),
    "conversations:team_create": Page(),
    "conversations:team_edit": Page(pk="team"),
    "conversations:reply_box": Page(pk="conversation"),
    "publishing:list": Page(),
    "publishing:create": Page(),
    "publishing:check": Page(
        "POST",
        data=lambda w: {"accounts": [w.publishing_account.pk], "main_text": "Marché samedi"},
    ),
    "publishing:detail": Page(pk="post"),
    "publishing:edit": Page(pk="post"),
    "publishing:submit": Page("POST", pk="post"),
    "publishing:decide": Page(
        "POST",
        pk="review_post",
        data=lambda w: {"decision": "approve", "seen_hash": w.review_post.content_hash},
    ),
    "publishing:schedule": Page("POST", pk="post", data=lambda w: {"when": local_input(3)}),
    "publishing:publish_now": Page("POST", pk="scheduled_post"),
    "publishing:publish_again": Page(
        "POST", pk="evergreen_post", data=lambda w: {"again-when": local_input(10)}
    ),
    "publishing:suspend": Page(
        "POST", pk="scheduled_post", data=lambda w: {"reason": "En attente du préfet"}
    ),
    "publishing:reinstate": Page("POST", pk="suspended_post"),
    "publishing:comment": Page("POST", pk="post", data=lambda w: {"body": "À relire"}),
    "publishing:external_link": Page(
        "POST", pk="review_post", data=lambda w: {"name": "Claire Dumas"}
    ),
    "publishing:variant_retry": Page("POST", pk="failed_variant"),
    "publishing:variant_confirm": Page(
        "POST", pk="unknown_variant", data=lambda w: {"url": "https://social.example/@mairie/1"}
    ),
    "publishing:variant_package": Page(pk="variant"),
    "publishing:calendar": Page(),
    "publishing:calendar_move": Page(
        "POST", data=lambda w: {"post": w.scheduled_post.pk, "date": local_day(4)}
    ),
    "publishing:calendar_feed": Page(),
    "publishing:pause": Page(),
    "publishing:pause_resume": Page("POST", pk="pause"),
    "publishing:window_create": Page(),
    "publishing:window_edit": Page(pk="window"),
    "publishing:window_delete": Page("POST", pk="window"),
    "publishing:media": Page(),
    "publishing:media_edit": Page(pk="media"),
    "publishing:media_file": Page(pk="media"),
    "publishing:media_delete": Page("POST", pk="media"),
    "publishing:workflows": Page(),
    "publishing:workflow_create": Page(),
    "publishing:workflow_edit": Page(pk="workflow"),
    "publishing:workflow_delete": Page("POST", pk="workflow"),
    "publishing:settings": Page(),
    "counterspeech:library": Page(),
    "counterspeech:outcomes": Page(),
    "counterspeech:gaps": Page(),
    "counterspeech:drafting": Page(),
    "counterspeech:drafting_test": Page("POST"),
    "counterspeech:draft": Page(
        "POST", pk="item", data=lambda w: {"entries": [w.library_draft.key], "language": "fr"}
    ),
    "counterspeech:import": Page("POST", data=lambda w: {"file": library_file(w)}),
    "counterspeech:create": Page(),
    "counterspeech:detail": Page(pk="library_draft"),
    "counterspeech:edit": Page(pk="library_draft"),
    "counterspeech:submit": Page("POST", pk="library_draft"),
    "counterspeech:approve": Page(
        "POST",
        pk="library_in_review",
        data=lambda w: {"seen_hash": w.library_in_review.content_hash},
    ),
    "counterspeech:send_back": Page(
        "POST", pk="library_in_review", data=lambda w: {"comment": "Citer la source"}
    ),
    "counterspeech:retire": Page("POST", pk="library_draft", data=lambda w: {"reason": "Daté"}),
    "counterspeech:sharing": Page(),
    "counterspeech:publish": Page("POST", data=lambda w: {"public_name": "Bibliothèque"}),
    "counterspeech:unpublish": Page("POST"),
    "counterspeech:subscribe": Page("POST", data=lambda w: {"publisher": w.library_publisher.pk}),
    "counterspeech:unsubscribe": Page("POST", pk="library_subscription"),
    "briefs:list": Page(),
    "briefs:create": Page(),
    "briefs:import": Page("POST", data=lambda w: {"file": _brief_file(w)}),
    "briefs:detail": Page(pk="brief_draft"),
    "briefs:edit": Page(pk="brief_draft"),
    "briefs:send": Page(
        "POST", pk="brief_draft", data=lambda w: {"partners": [w.brief_partner.pk]}
    ),
    "briefs:close": Page("POST", pk="brief_draft"),
    "briefs:export": Page("POST", pk="brief_draft", data=lambda w: {"link": w.brief_link.pk}),
    "briefs:import_responses": Page(
        "POST", pk="brief_exported", data=lambda w: {"file": _brief_upload(w.brief_report)}
    ),
    "briefs:received": Page(pk="brief_delivery"),
    "briefs:acknowledge": Page("POST", pk="brief_delivery"),
    "briefs:decline": Page("POST", pk="brief_delivery", data=lambda w: {"reason": "Pas de compte"}),
    "briefs:declare": Page(
        "POST",
        pk="brief_delivery",
        data=lambda w: {
            "post": w.brief_delivery.brief.posts.first().pk,
            "url": f"https://x.example/{w.unique('answer-')}",
        },
    ),
    "briefs:export_responses": Page("POST", pk="brief_imported"),
    "briefs:partners": Page(),
    "briefs:propose": Page("POST", data=lambda w: {"partner": w.brief_candidate.slug}),
    "briefs:accept": Page("POST", data=lambda w: {"organization": w.brief_proposer.pk}),
    "briefs:stop_sending": Page("POST", data=lambda w: {"organization": w.brief_partner.pk}),
    "briefs:stop_receiving": Page("POST", data=lambda w: {"organization": w.brief_proposer.pk}),
    "briefs:link_create": Page("POST", data=lambda w: {"name": "Association (autre Beffroi)"}),
    "briefs:link_join": Page(
        "POST", data=lambda w: {"name": "Partenaire", "code": _brief_link_code(w)}
    ),
    "briefs:link_delete": Page("POST", pk="brief_link"),
}

#: Pages every member reads (GET) that some also change (POST), and how to change them: the
#: view checks the further capability of ``FURTHER_CAPABILITIES`` inside. Each POST is made
#: by every role, as the pages above.
ALSO_POSTED: dict[str, Page] = {
    "publishing:media": Page(
        "POST",
        data=lambda w: {
            "file": png_upload(w.unique("marche-") + ".png", "darkgreen"),
            "alt_text": "Les étals du marché sous la halle",
            "name": "Marché",
        },
    ),
    "publishing:settings": Page(
        "POST",
        data=lambda w: {
            "own_domains": "ville.example",
            "utm_source": "beffroi",
            "utm_medium": "social",
            "utm_campaign": "",
            "approval_hours": "2",
        },
    ),
    "publishing:pause": Page(
        "POST",
        data=lambda w: {"scope": "organization", "reason": "Crise en cours", "confirm": "on"},
    ),
    # The feed's address is read and remade by administrators only.
    "publishing:calendar_feed": Page("POST"),
}

#: What a POST to these views needs besides the view's own capability (``org_view``), one
#: of these: checked inside the view (every member reads a post and the library; commenting
#: is for those who write or approve posts, uploading for those who publish).
FURTHER_CAPABILITIES: dict[str, frozenset[Capability]] = {
    "publishing:comment": frozenset({Capability.PUBLISH, Capability.APPROVE}),
    "publishing:external_link": frozenset({Capability.PUBLISH, Capability.APPROVE}),
    "publishing:media": frozenset({Capability.PUBLISH}),
    "publishing:settings": frozenset({Capability.MANAGE}),
    "publishing:pause": frozenset({Capability.MANAGE}),
}


def _webhook_verification(world: World) -> dict[str, str]:
    os.environ[VERIFY_TOKEN_ENV] = "matrix-verify-token"
    return {
        "hub.mode": "subscribe",
        "hub.verify_token": "matrix-verify-token",
        "hub.challenge": "1",
    }


#: Machine addresses gated by a bearer token of their own (the setting that holds it), not
#: by a session: signed in or not, without the token they answer 404 while the setting is
#: unset and 401 once it is set (tests/web/test_metrics.py reads them with it).
TOKEN_GATED: dict[str, str] = {"metrics": "BEFFROI_METRICS_TOKEN"}

#: Pages outside organizations: whether an anonymous visitor may see them.
OTHER_PAGES: dict[str, tuple[Page, bool]] = {
    "core:home": (Page(), False),
    "core:healthz": (Page(), True),
    "accounts:login": (Page(), True),
    "accounts:logout": (Page("POST"), True),
    "accounts:verify": (Page(), False),
    "accounts:two_factor_setup": (Page(), False),
    "accounts:profile": (Page(), False),
    "accounts:password_change": (
        Page(
            "POST",
            data=lambda w: {
                "old_password": PASSWORD,
                "new_password1": "a-new-long-passphrase-77",
                "new_password2": "a-new-long-passphrase-77",
            },
        ),
        False,
    ),
    "accounts:token_create": (Page("POST", data=lambda w: {"name": "ci"}), False),
    "accounts:token_revoke": (Page("POST", pk="token"), False),
    # A person's own invitations (the member here is invited by the other organization).
    "invitations:list": (Page(), False),
    "invitations:open": (Page(url_kwargs=lambda w: {"key": w.invitation_key}), False),
    "invitations:accept": (Page("POST", pk="own_invitation"), False),
    "invitations:decline": (Page("POST", pk="own_invitation"), False),
    "set_language": (Page("POST", data=lambda w: {"language": "en", "next": "/"}), True),
    # The platforms' OAuth return (an unknown state sends the member home) and Meta's
    # webhook (its subscription check answers the challenge; deliveries need a signature).
    "oauth_callback": (Page(data=lambda w: {"state": "unknown", "code": "x"}), False),
    "meta_webhook": (Page(data=_webhook_verification), True),
    # The public charter (the live version, made here on first use).
    "charter_public:page": (
        Page(url_kwargs=lambda w: {"slug": w.charter_draft.organization.slug}),
        True,
    ),
    # The publishing desk's addresses opened by a signed token, without an account: the
    # external approval page, a library file platforms fetch, the calendar feed.
    "publishing_public:approve": (Page(url_kwargs=lambda w: {"token": w.external_token}), True),
    "publishing_public:media": (Page(url_kwargs=lambda w: {"token": w.media_token}), True),
    "publishing_public:calendar_feed": (
        Page(url_kwargs=lambda w: {"token": w.feed_token}),
        True,
    ),
}

#: POST pages that write no audit event, and why. Every other POST a role makes (and an
#: allowed one: a refused one writes nothing) must add an audit event: the matrix's audit
#: column fails when a service stops recording.
NOT_AUDITED: dict[str, str] = {
    "counterspeech:drafting_test": "asks the endpoint for one word and stores nothing",
    "counterspeech:draft": (
        "drafting is off in the matrix's organization: refused before anything is sent (a "
        "draft asked is audited: tests/counterspeech/test_drafting.py)"
    ),
    "accounts:logout": "ends the session only",
    "set_language": "a preference kept in a cookie",
    "moderation:queue_next": "claims a case: who holds a case is working state, shown on it",
    "moderation:case_release": "lets go of a case: working state, as claiming it",
    "moderation:case_take": "takes a case: working state, as claiming it",
    "veille:scan": "queues a scan: the analysis run again over the items, nobody's data changed",
    "veille:channel_test": "sends a test message through the channel and stores nothing",
    "conversations:presence": "says who is looking at a conversation: working state, not data",
    "publishing:check": "checks a draft as it is typed: nothing is stored",
}

#: Someone else's object of each kind the pages outside organizations take by id: the
#: member the matrix calls them as gets 404.
SOMEONE_ELSES: dict[str, Callable[[World], Any]] = {
    "token": lambda w: _token_of(w.loose_user),
    # The organization's invitation to another person (the member is not its invitee).
    "own_invitation": lambda w: w.invitation,
}


def _token_of(user: Any) -> Any:
    from beffroi.accounts.models import ApiToken

    return ApiToken.issue(user, "theirs")[0]


ROUTES = project_routes()
ROLES = [role.value for role in Role]


def _login(user: Any) -> Client:
    """A client past the password and the second factor."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client = Client()
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


def _call(client: Client, page: Page, url: str, world: World) -> Any:
    if page.method == "POST":
        return client.post(url, page.data(world))
    return client.get(url, page.data(world))


def _last_event() -> int:
    from beffroi.audit.models import AuditEvent

    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _events_since(last: int, **match: Any) -> list[str]:
    from beffroi.audit.models import AuditEvent

    return list(AuditEvent.objects.filter(pk__gt=last, **match).values_list("action", flat=True))


def _is_login_redirect(response: Any) -> bool:
    return response.status_code == 302 and response["Location"].startswith(LOGIN_PATH)


# --- the tests ------------------------------------------------------------------------------


def test_every_pattern_is_in_the_matrix() -> None:
    names = {route.name for route in ROUTES}
    unknown = sorted(names - set(ORG_PAGES) - set(OTHER_PAGES) - set(TOKEN_GATED))
    assert not unknown, f"URL patterns missing from the permission matrix: {unknown}"
    stale = sorted((set(ORG_PAGES) | set(OTHER_PAGES) | set(TOKEN_GATED)) - names)
    assert not stale, f"The matrix lists patterns that no longer exist: {stale}"
    for route in ROUTES:
        assert route.org_scoped == (route.name in ORG_PAGES), route


def test_every_organization_view_declares_its_capability() -> None:
    for route in ROUTES:
        if route.org_scoped:
            assert getattr(route.callback, "required_capability", None) is not None, (
                f"{route.name} is not decorated with org_view(capability)"
            )


ORG_ROUTES = [route for route in ROUTES if route.org_scoped]
OTHER_ROUTES = [route for route in ROUTES if not route.org_scoped]


def _org_page(route: Route) -> Page:
    if route.name not in ORG_PAGES:
        pytest.fail(f"No way to build {route.name} ({route.route}): add it to ORG_PAGES")
    return ORG_PAGES[route.name]


@pytest.mark.django_db
@pytest.mark.parametrize("route", ORG_ROUTES, ids=lambda r: r.name)
def test_anonymous_is_sent_to_login(route: Route, world: World) -> None:
    page = _org_page(route)
    url = reverse(route.name, kwargs=page.kwargs(world, True))
    response = _call(Client(), page, url, world)
    assert _is_login_redirect(response), (route.name, response.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize("route", ORG_ROUTES, ids=lambda r: r.name)
def test_member_of_another_organization_gets_404(
    route: Route, world: World, make_user: Callable[..., Any]
) -> None:
    page = _org_page(route)
    outsider = make_user("outsider", org=world.other_org, role="admin")
    url = reverse(route.name, kwargs=page.kwargs(world, True))
    response = _call(_login(outsider), page, url, world)
    assert response.status_code == 404, (route.name, response.status_code)


def allows(role: str, route: Route, method: str) -> bool:
    """Whether ``role`` may call ``route``: the capability its view declares and, for a
    POST, one of the further ones the view checks inside (``FURTHER_CAPABILITIES``)."""
    granted = ROLE_CAPABILITIES[role]
    if route.callback.required_capability not in granted:
        return False
    further = FURTHER_CAPABILITIES.get(route.name) if method == "POST" else None
    return further is None or bool(further & granted)


def _assert_answer(
    response: Any, page: Page, allowed: bool, name: str, role: str, last: int, world: World
) -> None:
    """Refused: 403 and nothing written. Allowed: the page, or the action done and audited."""
    if not allowed:
        assert response.status_code == 403, (name, role, response.status_code)
        assert not _events_since(last), (name, role)
        return
    expected = {302, 303} if page.method == "POST" else {200}
    if page.method == "POST":
        expected.add(200)  # an action that answers with a page (a password shown once)
    assert response.status_code in expected, (name, role, response.status_code)
    if page.method == "POST" and name not in NOT_AUDITED:
        written = _events_since(last, organization=world.org)
        assert written, f"{name} ({role}) wrote no audit event of the organization"


@pytest.mark.django_db
@pytest.mark.postgres_runs_only(role="admin")
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ORG_ROUTES, ids=lambda r: r.name)
def test_each_role_gets_what_its_capabilities_allow(
    route: Route, role: str, world: World, make_user: Callable[..., Any]
) -> None:
    page = _org_page(route)
    allowed = allows(role, route, page.method)
    user = make_user(f"member-{role}", org=world.org, role=role)
    # A second administrator, so that role changes and removals are not refused as the last.
    make_user("second-admin", org=world.org, role="admin")
    url = reverse(route.name, kwargs=page.kwargs(world, True))
    client = _login(user)
    if allowed and page.pk is not None:
        # Another organization's object in this organization's address: not found, and
        # nothing written. (Objects are made before counting: making some is audited.)
        other = fill_world(world.other_org, world.org, make_user)
        theirs = page.kwargs(world, True) | {"pk": getattr(other, page.pk).pk}
        data = page.data(world)
        last = _last_event()
        call = client.post if page.method == "POST" else client.get
        response = call(reverse(route.name, kwargs=theirs), data)
        assert response.status_code == 404, (route.name, role, "theirs", response.status_code)
        assert not _events_since(last), (route.name, role, "theirs")
    data = page.data(world)
    last = _last_event()
    response = client.post(url, data) if page.method == "POST" else client.get(url, data)
    _assert_answer(response, page, allowed, route.name, role, last, world)
    if allowed and page.method == "POST":
        # POST-only actions refuse a GET, after the access checks.
        assert client.get(url).status_code == 405, route.name


POSTED_ROUTES = [route for route in ORG_ROUTES if route.name in ALSO_POSTED]


def test_pages_also_posted_are_read_by_get() -> None:
    """``ALSO_POSTED`` adds the POST of a page the matrix reads by GET; the further
    capabilities are those of a POST."""
    assert {route.name for route in POSTED_ROUTES} == set(ALSO_POSTED)
    for name, page in ALSO_POSTED.items():
        assert ORG_PAGES[name].method == "GET" and page.method == "POST", name
    for name in FURTHER_CAPABILITIES:
        assert name in ALSO_POSTED or ORG_PAGES[name].method == "POST", name


@pytest.mark.django_db
@pytest.mark.postgres_runs_only(role="admin")
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", POSTED_ROUTES, ids=lambda r: r.name)
def test_each_role_changes_what_its_capabilities_allow(
    route: Route, role: str, world: World, make_user: Callable[..., Any]
) -> None:
    page = ALSO_POSTED[route.name]
    allowed = allows(role, route, "POST")
    client = _login(make_user(f"member-{role}", org=world.org, role=role))
    url = reverse(route.name, kwargs=page.kwargs(world, True))
    assert _is_login_redirect(Client().post(url, page.data(world))), route.name
    data = page.data(world)
    last = _last_event()
    response = client.post(url, data)
    _assert_answer(response, page, allowed, route.name, role, last, world)


@pytest.mark.django_db
@pytest.mark.parametrize("route", OTHER_ROUTES, ids=lambda r: r.name)
def test_pages_outside_organizations(
    route: Route, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    if route.name in TOKEN_GATED:
        url = reverse(route.name)
        member = _login(world.token_owner)
        monkeypatch.delenv(TOKEN_GATED[route.name], raising=False)
        assert Client().get(url).status_code == 404, route.name
        assert member.get(url).status_code == 404, route.name
        monkeypatch.setenv(TOKEN_GATED[route.name], "a-token-nobody-sent")
        assert Client().get(url).status_code == 401, route.name
        assert member.get(url).status_code == 401, route.name  # a session is not the token
        return
    if route.name not in OTHER_PAGES:
        pytest.fail(f"No way to build {route.name} ({route.route}): add it to OTHER_PAGES")
    page, public = OTHER_PAGES[route.name]
    url = reverse(route.name, kwargs=page.kwargs(world, False))
    anonymous = _call(Client(), page, url, world)
    if public:
        assert anonymous.status_code in {200, 302}, (route.name, anonymous.status_code)
        if anonymous.status_code == 302 and route.name != "accounts:logout":
            assert not anonymous["Location"].startswith(LOGIN_PATH), route.name
    else:
        assert _is_login_redirect(anonymous), (route.name, anonymous.status_code)
    client = _login(world.token_owner)
    if page.pk is not None:
        # Someone else's token or invitation: not found, and nothing written.
        assert page.pk in SOMEONE_ELSES, f"{route.name}: add {page.pk} to SOMEONE_ELSES"
        theirs = page.kwargs(world, False) | {"pk": SOMEONE_ELSES[page.pk](world).pk}
        data = page.data(world)
        last = _last_event()
        call = client.post if page.method == "POST" else client.get
        response = call(reverse(route.name, kwargs=theirs), data)
        assert response.status_code == 404, (route.name, "theirs", response.status_code)
        assert not _events_since(last), (route.name, "theirs")
    data = page.data(world)
    last = _last_event()
    member = client.post(url, data) if page.method == "POST" else client.get(url, data)
    assert member.status_code in {200, 302}, (route.name, member.status_code)
    if page.method == "POST" and route.name not in NOT_AUDITED:
        assert _events_since(last), f"{route.name} wrote no audit event"


#: The veille's pages, read apart from changed: moderators read what the veille found
#: (narratives, fact-checks, campaigns, impersonators); analysts and administrators work on it.
VEILLE_CAPABILITIES: dict[str, str] = {
    "veille:dashboard": "view",
    "veille:alerts": "view",
    "veille:alert": "view",
    "veille:narratives": "read_veille",
    "veille:narrative": "read_veille",
    "veille:claims": "read_veille",
    "veille:claim_matches": "read_veille",
    "veille:campaigns": "read_veille",
    "veille:campaign": "read_veille",
    "veille:impersonators": "read_veille",
    "veille:impersonator": "read_veille",
    "veille:narrative_rename": "analyze",
    "veille:narrative_merge": "analyze",
    "veille:narrative_split": "analyze",
    "veille:claim_create": "analyze",
    "veille:claim_edit": "analyze",
    "veille:claim_delete": "analyze",
    "veille:claims_import": "analyze",
    "veille:campaign_status": "analyze",
    "veille:impersonator_status": "analyze",
    "veille:identities": "analyze",
    "veille:watches": "analyze",
}


def test_veille_reading_and_working_are_apart() -> None:
    required = {route.name: str(route.callback.required_capability) for route in ORG_ROUTES}
    assert {name: required[name] for name in VEILLE_CAPABILITIES} == VEILLE_CAPABILITIES
    allowed = {role: {str(c) for c in ROLE_CAPABILITIES[role]} for role in ROLES}
    for role in (Role.ADMIN, Role.MODERATOR, Role.ANALYST):
        assert "read_veille" in allowed[role], role
    assert "analyze" not in allowed[Role.MODERATOR]
    assert {"analyze", "read_veille"} <= allowed[Role.ANALYST]
    for role in (Role.PUBLISHER, Role.VIEWER):
        assert not {"analyze", "read_veille"} & allowed[role], role
