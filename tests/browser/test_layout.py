"""No page scrolls sideways at 1280 × 800, in French and in English.

An administrator of the demo town, with representative data added to it (long texts, long
unbroken words and addresses, long names, many rows), opens every page of the web app for an
organization, and a few of the account's pages. A page fails when the document is wider than
the window (``scrollWidth > innerWidth``); the message names the widest element that sticks
out and the innermost ones that push it (the likely cause). Tables that may be wide scroll in
a container of their own (``.table-scroll``): what sticks out there does not widen the page.

Every named page of ``/o/<slug>/…`` must be listed below, as a page to open or as something
that is not a page (a POST-only action, a download): a new page cannot be forgotten.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from tests.browser.session import verified_session
from tests.browser.test_inbox_browser import CHROMIUM, CHROMIUM_ARGS
from tests.web.factories import make_author, make_item

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing"),
]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

WIDTH, HEIGHT = 1280, 800

#: A word that never breaks by itself, and an address as long as the ones people paste.
LONG_WORD = "Anticonstitutionnellement" * 6
LONG_URL = (
    "https://www.ville-de-saint-aubin.example/actualites/2026/travaux-rue-des-tanneurs/"
    + "reseau-d-eau-potable-analyses-du-laboratoire-departemental-"
    + "resultats-complets-et-calendrier-des-interventions?utm_source=facebook&utm_medium=social"
    + "&utm_campaign=information-des-habitants-sur-la-qualite-de-l-eau-du-robinet"
)
LONG_TEXT = (
    "Vous nous mentez depuis le début, regardez donc " + LONG_URL + " et lisez " + LONG_WORD + " "
) * 3

#: The organization's named routes that are not pages: they only answer a POST (a form's
#: action), they download a file, or they are a fragment a page fetches (the list's reply
#: box). Everything else is opened by the test.
NOT_PAGES = {
    "charter:draft_create",
    "charter:shadow",
    "charter:publish",
    "charter:retire",
    "charter:discard",
    "charter:export",
    "charter:category_delete",
    "charter:rule_delete",
    "moderation:queue_next",
    "moderation:queue_bulk",
    "moderation:undo",
    "moderation:case_decide",
    "moderation:case_release",
    "moderation:case_take",
    "moderation:case_take_over",
    "moderation:case_appeal",
    "moderation:item_decide",
    "moderation:item_reply",
    "moderation:dossier_json",
    "moderation:dossier_pdf",
    "moderation:platform_retry",
    "moderation:statements_json",
    "moderation:statements_csv",
    "moderation:classifier_retrain",
    "moderation:classifier_default",
    "moderation:classifier_activate",
    "organizations:member_invite",
    "organizations:member_create",
    "organizations:member_role",
    "organizations:member_remove",
    "organizations:invitation_revoke",
    "sources:sync",
    "sources:connect",
    "veille:scan",
    "veille:alert_acknowledge",
    "veille:channel_delete",
    "veille:channel_test",
    "veille:watch_delete",
    "veille:narrative_rename",
    "veille:narrative_merge",
    "veille:narrative_split",
    "veille:claim_delete",
    "veille:campaign_status",
    "veille:identity_delete",
    "veille:impersonator_status",
    "conversations:bulk",
    "conversations:presence",
    "conversations:assign",
    "conversations:team",
    "conversations:state",
    "conversations:labels",
    "conversations:snooze",
    "conversations:note",
    "conversations:reply",
    "conversations:reply_retry",
    "conversations:reply_confirm",
    "conversations:saved_reply_delete",
    "conversations:handoff",
    "conversations:handoff_retry",
    "conversations:request",
    "conversations:routing_rule_delete",
    "conversations:request_models_learn",
    "conversations:request_model_activate",
    "conversations:reply_box",
    "counterspeech:import",
    "counterspeech:submit",
    "counterspeech:approve",
    "counterspeech:send_back",
    "counterspeech:retire",
    "counterspeech:publish",
    "counterspeech:unpublish",
    "counterspeech:subscribe",
    "counterspeech:unsubscribe",
    "counterspeech:drafting_test",
    "counterspeech:draft",
    "briefs:send",
    "briefs:close",
    "briefs:export",
    "briefs:import",
    "briefs:import_responses",
    "briefs:acknowledge",
    "briefs:decline",
    "briefs:declare",
    "briefs:export_responses",
    "briefs:propose",
    "briefs:accept",
    "briefs:stop_sending",
    "briefs:stop_receiving",
    "briefs:link_create",
    "briefs:link_join",
    "briefs:link_delete",
    "publishing:check",
    "publishing:submit",
    "publishing:decide",
    "publishing:schedule",
    "publishing:publish_now",
    "publishing:publish_again",
    "publishing:suspend",
    "publishing:reinstate",
    "publishing:comment",
    "publishing:external_link",
    "publishing:variant_retry",
    "publishing:variant_confirm",
    "publishing:variant_package",
    "publishing:calendar_move",
    "publishing:pause_resume",
    "publishing:window_delete",
    "publishing:media_file",
    "publishing:media_delete",
    "publishing:workflow_delete",
}

#: What the page reports when it is wider than the window: the widest element sticking out
#: (outside any scroll container of its own) and the innermost ones, which push it.
OVERFLOW = """() => {
  const width = window.innerWidth;
  const scrollWidth = document.documentElement.scrollWidth;
  if (scrollWidth <= width) return null;
  const contained = (element) => {
    for (let up = element.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== 'visible') return true;
    }
    return false;
  };
  const name = (element) => element.tagName.toLowerCase()
    + (element.id ? '#' + element.id : '')
    + Array.from(element.classList).map((c) => '.' + c).join('');
  const path = (element) => {
    const parts = [];
    for (let e = element; e && e !== document.body && parts.length < 4; e = e.parentElement) {
      parts.unshift(name(e));
    }
    return parts.join(' > ');
  };
  const out = [];
  for (const element of document.body.querySelectorAll('*')) {
    if (contained(element)) continue;
    const box = element.getBoundingClientRect();
    // A long word sticks out of its box without widening it: its content counts too.
    const clips = getComputedStyle(element).overflowX !== 'visible';
    const right = Math.max(box.right, clips ? 0 : box.left + element.scrollWidth);
    if (right > width + 0.5) out.push({element, box, right, wide: right - box.left});
  }
  const sticking = new Set(out.map((o) => o.element));
  const say = (o) => `${path(o.element)} (${Math.round(o.wide)} px wide, `
    + `right edge at ${Math.round(o.right)} px): `
    + JSON.stringify((o.element.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 60));
  const innermost = out
    .filter((o) => !Array.from(o.element.children).some((child) => sticking.has(child)))
    .sort((a, b) => b.right - a.right)
    .slice(0, 3);
  // The widest box that is itself wider than the window, else the text that sticks out.
  const boxes = out.filter((o) => o.box.right > width + 0.5);
  const widest = boxes.length
    ? [boxes.sort((a, b) => b.box.width - a.box.width)[0]]
    : innermost.slice(0, 1);
  return {scrollWidth, width, widest: widest.map(say), innermost: innermost.map(say)};
}"""


#: The tables that scroll inside their own container at this width: their last columns (the
#: decisions log's actions) are out of sight until a person scrolls them.
HIDDEN_COLUMNS = """() => Array.from(document.querySelectorAll('table'))
  .map((table) => {
    let box = table.parentElement;
    while (box && box !== document.body && getComputedStyle(box).overflowX === 'visible') {
      box = box.parentElement;
    }
    return {table, box};
  })
  .filter(({box}) => box && box !== document.body && box.scrollWidth > box.clientWidth + 1)
  .map(({table, box}) => {
    const name = table.tagName.toLowerCase()
      + Array.from(table.classList).map((c) => '.' + c).join('');
    const head = Array.from(table.querySelectorAll('thead th')).map((th) => th.textContent.trim());
    return `${name} (${box.scrollWidth} px in ${box.clientWidth} px; columns: ${head.join(', ')})`;
  })"""


#: How many lines the header's parts take: the brand, the organization menu, the tools, and
#: each entry of the main menu (two entries on one line share their top, give or take).
HEADER_LINES = """() => {
  const parts = document.querySelectorAll(
    '.header-inner > :not(.main-nav):not(.skip-link), .main-nav li');
  const tops = [];
  for (const part of parts) {
    const top = part.getBoundingClientRect().top;
    if (!tops.some((seen) => Math.abs(seen - top) < 12)) tops.push(top);
  }
  return tops.length;
}"""


def org_route_names() -> set[str]:
    """The names (``namespace:name``) of every route under ``/o/<slug>/``."""
    from django.urls import URLPattern, URLResolver, get_resolver

    names: set[str] = set()

    def walk(patterns: list[Any], prefix: str, namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern), pattern.namespace)
            elif isinstance(pattern, URLPattern) and pattern.name and namespace:
                if prefix.startswith("o/<slug:org_slug>/"):
                    names.add(f"{namespace}:{pattern.name}")

    walk(get_resolver().url_patterns, "", None)
    return names


def _long_data(org: Any, admin: Any) -> dict[str, Any]:
    """Rows as wide as real ones get: long texts, words, addresses and names, in every list."""
    from beffroi.audit.services import Actor
    from beffroi.charter.services import create_draft
    from beffroi.moderation.models import Appeal, Case, Decision
    from beffroi.moderation.services import ModerationError, decide, file_appeal
    from beffroi.organizations.services import invite
    from beffroi.sources.models import Source
    from beffroi.veille.models import (
        Alert,
        AlertChannel,
        CheckedClaim,
        ClaimMatch,
        Narrative,
        NarrativeItem,
        ProtectedIdentity,
        Watch,
        WatchHit,
    )

    actor = Actor(admin, "ui")
    source = Source.objects.filter(organization=org, platform="facebook").first()
    assert source is not None
    source.last_error = "Graph API error: " + LONG_URL
    source.save(update_fields=["last_error"])
    Source.objects.create(
        organization=org,
        name="Flux RSS de la préfecture " + LONG_WORD,
        platform="rss",
        settings={"url": LONG_URL},
        status=Source.Status.ERROR,
        last_error="Timeout while fetching " + LONG_URL,
    )
    author = make_author(
        org,
        "collectif_des_habitants_en_colere_du_quartier_" + LONG_WORD.lower(),
        platform="facebook",
        display_name="Collectif des habitants " + LONG_WORD,
        url=LONG_URL,
    )
    item = make_item(
        source,
        author,
        "long-post-1",
        kind="comment",
        text=LONG_TEXT,
        url=LONG_URL,
        urls=[LONG_URL],
    )
    reply = make_item(
        source, author, "long-post-2", kind="reply", text=LONG_TEXT, url=LONG_URL, parent=item
    )
    review_case = Case.objects.create(
        organization=org, item=reply, reason="Signalé " + LONG_WORD[:150], category="insult"
    )
    decision = decide(actor, item, Decision.Action.HIDE, category="insult", note=LONG_TEXT)
    try:
        file_appeal(actor, decision, LONG_TEXT, received_via="courriel " + LONG_URL[:80])
    except ModerationError:
        # The hide has not taken effect on the platform yet: the appeal is written as a
        # connector-less import would have left it, to have an appeal case on the page.
        appeal = Appeal.objects.create(
            organization=org, decision=decision, statement=LONG_TEXT, received_via="courriel"
        )
        Case.objects.create(
            organization=org,
            item=item,
            kind=Case.Kind.APPEAL,
            decision=decision,
            appeal=appeal,
            category="insult",
            priority=4,
        )
    # A charter draft with a long category and a long rule beside the live version.
    draft = create_draft(actor, org)
    category = draft.categories.get(slug="insult")
    category.name_fr = "Injures, insultes et propos outrageants " + LONG_WORD
    category.name_en = "Insults and abuse " + LONG_WORD
    category.legal_reference = LONG_URL
    category.save()
    rule = draft.rules.create(
        category="insult", language="fr", kind="keyword", pattern=LONG_WORD.lower()
    )
    # Veille: a long watch, claim, alert, narrative, identity and channel.
    watch = Watch.objects.create(
        organization=org,
        name="Travaux de la rue des Tanneurs " + LONG_WORD,
        query=" OR ".join(f'"{word} rue des tanneurs"' for word in ("travaux", "chantier") * 8),
    )
    WatchHit.objects.create(watch=watch, item=item)
    claim = CheckedClaim.objects.create(
        organization=org,
        key="long-claim",
        statement="L'eau du robinet est contaminée " + LONG_TEXT,
        verdict="Faux",
        url=LONG_URL,
        source="Vérif' " + LONG_WORD,
        origin=CheckedClaim.Origin.IMPORTED,
    )
    ClaimMatch.objects.create(organization=org, item=item, claim=claim, similarity=0.9)
    from django.utils import timezone

    now = timezone.now()
    alert = Alert.objects.create(
        organization=org,
        kind=Alert.Kind.CLAIM,
        key="long-alert",
        title="Fausse information " + LONG_WORD,
        started_at=now,
        context={"items": [item.pk], "claims": [claim.pk]},
    )
    narrative = Narrative.objects.create(
        organization=org,
        key="long-narrative",
        name="Rumeur " + LONG_WORD,
        keywords=[LONG_WORD.lower(), LONG_URL],
        item_count=1,
        first_seen=now,
        last_seen=now,
    )
    NarrativeItem.objects.create(narrative=narrative, item=item)
    identity = ProtectedIdentity.objects.create(
        organization=org, name="Mairie de Saint-Aubin " + LONG_WORD, handles=[LONG_URL]
    )
    channel = AlertChannel.objects.create(
        organization=org,
        kind=AlertChannel.Kind.WEBHOOK,
        name="Webhook " + LONG_WORD,
        target=LONG_URL,
    )
    # A member and an invitation with long names and addresses.
    from django.contrib.auth import get_user_model

    from beffroi.organizations.models import Membership

    long_user = get_user_model().objects.create_user(
        username="responsable.communication." + LONG_WORD.lower()[:100],
        email=LONG_WORD.lower()[:60] + "@ville-de-saint-aubin.example",
        password="correct-horse-battery-staple-42",
    )
    Membership.objects.create(user=long_user, organization=org, role="analyst")
    invite(actor, org, LONG_WORD.lower()[:60] + "@ville-de-saint-aubin.example", "viewer")
    return {
        "item": item,
        "author": author,
        "decision": decision,
        "draft": draft,
        "category": category,
        "rule": rule,
        "watch": watch,
        "claim": claim,
        "alert": alert,
        "narrative": narrative,
        "identity": identity,
        "channel": channel,
        "member": long_user,
        "review_case": review_case,
    }


def _pages(org: Any, data: dict[str, Any]) -> dict[str, list[str]]:
    """The addresses to open, by route name; most routes have one, some several states."""
    from beffroi.charter.services import live_version
    from beffroi.conversations.models import (
        Conversation,
        RequestSystem,
        RoutingRule,
        SavedReply,
        Team,
    )
    from beffroi.demo.desk import load_demo_desk
    from beffroi.moderation.models import Case
    from beffroi.veille.models import Campaign, ImpersonationFlag

    load_demo_desk(org)
    # The longest conversation: the widest thread of messages and replies.
    conversation = Conversation.objects.filter(organization=org).order_by("-message_count").first()
    saved = SavedReply.objects.filter(organization=org).order_by("pk").first()
    team = Team.objects.filter(organization=org).order_by("pk").first()
    assert conversation is not None and saved is not None and team is not None
    system = RequestSystem.objects.filter(organization=org).order_by("pk").first()
    rule = RoutingRule.objects.filter(organization=org).order_by("pk").first()
    assert system is not None and rule is not None
    slug = org.slug
    live = live_version(org)
    assert live is not None
    draft = data["draft"]
    upload = org.sources.filter(kind="import").first() or org.sources.create(
        name="Import", platform="file", kind="import"
    )
    appeal_case = Case.objects.filter(organization=org, kind=Case.Kind.APPEAL).first()
    review_case = data["review_case"]
    assert appeal_case is not None
    campaign = Campaign.objects.filter(organization=org).order_by("-account_count").first()
    flag = ImpersonationFlag.objects.filter(organization=org).first()
    assert campaign is not None and flag is not None

    def url(name: str, *args: Any, query: str = "") -> str:
        return reverse(name, args=[slug, *args]) + query

    return {
        "overview:dashboard": [url("overview:dashboard")],
        "items:inbox": [url("items:inbox"), url("items:inbox", query="?kind=comment")],
        "items:item": [url("items:item", data["item"].pk)],
        "items:author": [url("items:author", data["author"].pk)],
        "organizations:settings": [url("organizations:settings")],
        "organizations:members": [url("organizations:members")],
        "organizations:audit": [url("organizations:audit")],
        "sources:list": [url("sources:list")],
        "sources:create": [
            url("sources:create"),
            url("sources:create", query="?platform=facebook"),
            url("sources:create", query="?platform=mastodon"),
        ],
        "sources:edit": [url("sources:edit", org.sources.get(platform="rss").pk)],
        "sources:import": [url("sources:import", upload.pk)],
        "sources:connect_choose": [url("sources:connect_choose")],
        "charter:index": [url("charter:index")],
        "charter:import": [url("charter:import")],
        "charter:diff": [url("charter:diff", query=f"?old={live.number}&new={draft.number}")],
        "charter:version": [url("charter:version", live.pk), url("charter:version", draft.pk)],
        "charter:version_edit": [url("charter:version_edit", draft.pk)],
        "charter:category_create": [url("charter:category_create", draft.pk)],
        "charter:category_edit": [url("charter:category_edit", data["category"].pk)],
        "charter:rules": [url("charter:rules", live.pk), url("charter:rules", draft.pk)],
        "charter:rule_create": [url("charter:rule_create", draft.pk)],
        "charter:rule_edit": [url("charter:rule_edit", data["rule"].pk)],
        "charter:rule_bulk": [url("charter:rule_bulk", draft.pk)],
        "moderation:queue": [url("moderation:queue")],
        "moderation:case": [
            url("moderation:case", review_case.pk),
            url("moderation:case", appeal_case.pk),
        ],
        "moderation:decisions": [url("moderation:decisions")],
        "moderation:appeal_create": [url("moderation:appeal_create", data["decision"].pk)],
        "moderation:classifier": [url("moderation:classifier")],
        "veille:dashboard": [url("veille:dashboard")],
        "veille:alerts": [url("veille:alerts")],
        "veille:alert": [url("veille:alert", data["alert"].pk)],
        "veille:channels": [url("veille:channels")],
        "veille:channel_create": [url("veille:channel_create")],
        "veille:channel_edit": [url("veille:channel_edit", data["channel"].pk)],
        "veille:watches": [url("veille:watches")],
        "veille:watch_create": [url("veille:watch_create")],
        "veille:watch": [url("veille:watch", data["watch"].pk)],
        "veille:watch_edit": [url("veille:watch_edit", data["watch"].pk)],
        "veille:narratives": [url("veille:narratives")],
        "veille:narrative": [url("veille:narrative", data["narrative"].pk)],
        "veille:claims": [url("veille:claims")],
        "veille:claim_create": [url("veille:claim_create")],
        "veille:claims_import": [url("veille:claims_import")],
        "veille:claim_matches": [url("veille:claim_matches")],
        "veille:claim_edit": [url("veille:claim_edit", data["claim"].pk)],
        "veille:campaigns": [url("veille:campaigns")],
        "veille:campaign": [url("veille:campaign", campaign.pk)],
        "veille:identities": [url("veille:identities")],
        "veille:identity_create": [url("veille:identity_create")],
        "veille:identity_edit": [url("veille:identity_edit", data["identity"].pk)],
        "veille:impersonators": [url("veille:impersonators")],
        "veille:impersonator": [url("veille:impersonator", flag.pk)],
        "conversations:list": [url("conversations:list"), url("conversations:list") + "?view=all"],
        "conversations:detail": [url("conversations:detail", conversation.pk)],
        "conversations:response_times": [url("conversations:response_times")],
        "conversations:saved_replies": [url("conversations:saved_replies")],
        "conversations:saved_reply_create": [url("conversations:saved_reply_create")],
        "conversations:saved_reply_edit": [url("conversations:saved_reply_edit", saved.pk)],
        "conversations:teams": [url("conversations:teams")],
        "conversations:routing_rules": [url("conversations:routing_rules")],
        "conversations:request_models": [url("conversations:request_models")],
        "conversations:routing_rule_create": [url("conversations:routing_rule_create")],
        "conversations:routing_rule_edit": [url("conversations:routing_rule_edit", rule.pk)],
        "conversations:request_systems": [url("conversations:request_systems")],
        "conversations:request_system_create": [url("conversations:request_system_create")],
        "conversations:request_system_edit": [url("conversations:request_system_edit", system.pk)],
        "conversations:team_create": [url("conversations:team_create")],
        "conversations:team_edit": [url("conversations:team_edit", team.pk)],
    } | _publishing_pages(org)


def _counter_speech_pages(org: Any) -> dict[str, list[str]]:
    """The library's pages, with an entry as long as real ones get (a long title, a long
    text, a long source address) and the sharing page."""
    from beffroi.counterspeech import services
    from beffroi.counterspeech.validation import EntryData, SourceData
    from beffroi.organizations.context import OrgContext

    data = EntryData(
        strategy="facts",
        title=("Eau " + LONG_WORD)[:200],
        texts=[("fr", LONG_TEXT[:5000]), ("en", LONG_WORD)],
        topics=[LONG_WORD[:60]],
        sources=[SourceData(LONG_URL[:1000], LONG_WORD[:300])],
    )
    entry = services.create_entry(OrgContext.for_command_line(org, "layout"), data)

    def url(name: str, *args: Any) -> str:
        return reverse(name, args=[org.slug, *args])

    return {
        "counterspeech:library": [url("counterspeech:library")],
        "counterspeech:create": [url("counterspeech:create")],
        "counterspeech:detail": [url("counterspeech:detail", entry.pk)],
        "counterspeech:edit": [url("counterspeech:edit", entry.pk)],
        "counterspeech:sharing": [url("counterspeech:sharing")],
        "counterspeech:outcomes": [url("counterspeech:outcomes")],
        "counterspeech:gaps": [url("counterspeech:gaps")],
        "counterspeech:drafting": [url("counterspeech:drafting")],
    } | _brief_pages(org)


def _brief_pages(org: Any) -> dict[str, list[str]]:
    """The response briefs' pages: a long brief sent to a partner (the sender's page, the
    partner's), the lists and the partners."""
    from beffroi.briefs import services
    from tests.briefs import factories

    partner = factories.accepted_partner(org)
    brief, sent = factories.sent_brief(org, partner, title=("Rumeur " + LONG_WORD)[:200])
    services.declare_response(factories.system(partner), sent, brief.posts.first(), LONG_URL[:1000])
    delivery = factories.delivered_to(org)

    def url(name: str, *args: Any) -> str:
        return reverse(name, args=[org.slug, *args])

    return {
        "briefs:list": [url("briefs:list"), url("briefs:list") + "?box=received"],
        "briefs:create": [url("briefs:create")],
        "briefs:detail": [url("briefs:detail", brief.pk)],
        "briefs:edit": [url("briefs:edit", brief.pk)],
        "briefs:received": [url("briefs:received", delivery.pk)],
        "briefs:partners": [url("briefs:partners")],
    }


def _publishing_pages(org: Any) -> dict[str, list[str]]:
    """The publishing desk as the demo left it, with rows as long as real ones get: a post
    too long for its networks with a long link and labels, a media with a long name and
    description, a workflow, a period without publishing, and a pause of an account with a
    long name (its banner is on every page)."""
    from datetime import timedelta

    from django.utils import timezone

    from beffroi.audit.services import Actor
    from beffroi.demo.publishing import load_demo_publishing
    from beffroi.publishing import services
    from beffroi.publishing.media import save_upload
    from beffroi.publishing.models import Post
    from beffroi.publishing.services import VariantInput
    from beffroi.publishing.workflows import StepInput, eligible_approvers, save_workflow
    from beffroi.sources.models import Source
    from tests.web.test_permission_matrix import png_upload

    load_demo_publishing(org)
    actor = Actor(org.memberships.get(role="admin").user, "ui")
    accounts = {
        source.platform: source
        for source in Source.objects.filter(organization=org).order_by("-pk")
        if source.is_demo and source.kind == Source.Kind.ACCOUNT
    }
    media = save_upload(
        actor, org, png_upload("affiche.png"), alt_text=LONG_TEXT[:1400], name=LONG_WORD
    )
    when = timezone.now() + timedelta(days=3)
    long_post = services.save_post(
        actor,
        org,
        [
            VariantInput(accounts["mastodon"], text=LONG_TEXT, media=(media,)),
            VariantInput(accounts["facebook"], text=LONG_TEXT, link=LONG_URL),
        ],
        title="Travaux " + LONG_WORD,
        labels=["Travaux " + LONG_WORD[:50]],
        campaign=LONG_WORD[:100],
        scheduled_at=when,
    )
    workflow = save_workflow(
        actor,
        org,
        name="Circuit " + LONG_WORD,
        source=accounts["facebook"],
        steps=[StepInput(name=LONG_WORD[:120], approvers=list(eligible_approvers(org)))],
    )
    window = services.save_window(
        actor, org, "Réserve " + LONG_WORD, when + timedelta(days=1), when + timedelta(days=2)
    )
    services.pause(actor, org, LONG_TEXT[:2000], source=org.sources.get(platform="rss"))
    posts = Post.objects.filter(organization=org)
    in_review = posts.filter(state=Post.State.IN_REVIEW).first()
    failed = posts.filter(state=Post.State.FAILED).first()
    published = posts.filter(state=Post.State.PUBLISHED).first()
    assert in_review is not None and failed is not None and published is not None

    def url(name: str, *args: Any, query: str = "") -> str:
        return reverse(name, args=[org.slug, *args]) + query

    return {
        "publishing:list": [url("publishing:list"), url("publishing:list", query="?state=draft")],
        "publishing:create": [url("publishing:create")],
        "publishing:detail": [
            url("publishing:detail", post.pk) for post in (long_post, in_review, failed, published)
        ],
        "publishing:edit": [url("publishing:edit", long_post.pk)],
        "publishing:calendar": [
            url("publishing:calendar"),
            url("publishing:calendar", query=f"?view=week&date={when.date().isoformat()}"),
            url("publishing:calendar", query="?view=list"),
        ],
        "publishing:calendar_feed": [url("publishing:calendar_feed")],
        "publishing:pause": [url("publishing:pause")],
        "publishing:window_create": [url("publishing:window_create")],
        "publishing:window_edit": [url("publishing:window_edit", window.pk)],
        "publishing:media": [url("publishing:media")],
        "publishing:media_edit": [url("publishing:media_edit", media.pk)],
        "publishing:workflows": [url("publishing:workflows")],
        "publishing:workflow_create": [url("publishing:workflow_create")],
        "publishing:workflow_edit": [url("publishing:workflow_edit", workflow.pk)],
        "publishing:settings": [url("publishing:settings")],
    }


@pytest.fixture
def wide_town(transactional_db: Any) -> dict[str, Any]:
    """The demo town after a scan of its veille, with the long rows above added."""
    from beffroi.demo.load import load_demo
    from beffroi.veille.scan import scan

    org = load_demo().organization
    admin = org.memberships.get(role="admin").user
    data = _long_data(org, admin)
    scan(org)
    pages = _pages(org, data) | _counter_speech_pages(org)
    account = [
        reverse("accounts:profile"),
        reverse("invitations:list"),
        reverse("charter_public:page", args=[org.slug]),
    ]
    return {"org": org, "session": verified_session(admin), "pages": pages, "account": account}


@pytest.fixture
def browser(live_server: Any) -> Iterator[Callable[[str], Any]]:
    """``open_tab(language)``: a logged-out tab at 1280 × 800 in that language."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        contexts: list[Any] = []

        def open_tab(language: str) -> Any:
            context = chromium.new_context(
                locale={"fr": "fr-FR", "en": "en-GB"}[language],
                viewport={"width": WIDTH, "height": HEIGHT},
            )
            context.set_default_timeout(15000)
            # The interface language a person picks (the header's FR/EN buttons) is this cookie.
            context.add_cookies(
                [{"name": "django_language", "value": language, "url": live_server.url}]
            )
            contexts.append(context)
            return context.new_page()

        yield open_tab
        for context in contexts:
            context.close()
        chromium.close()


def overflow(tab: Any, url: str) -> str | None:
    """Why the page at ``url`` scrolls sideways, or None when it does not."""
    response = tab.goto(url)
    assert response is not None and response.status == 200, f"{url}: {response and response.status}"
    found = tab.evaluate(OVERFLOW)
    hidden = tab.evaluate(HIDDEN_COLUMNS)
    lines = tab.evaluate(HEADER_LINES)
    if lines > 2:
        return f"{url}: the header takes {lines} lines"
    if found is None and not hidden:
        return None
    if found is None:
        return f"{url}: a table hides columns: " + "; ".join(hidden)
    return (
        f"{url} is {found['scrollWidth']} px wide in a {found['width']} px window;\n"
        f"    widest: {'; '.join(found['widest'])}\n"
        f"    pushed by: " + "\n               ".join(found["innermost"])
    )


def test_every_page_is_listed() -> None:
    """A new route of an organization is either opened by the layout test or declared."""
    listed = set(NOT_PAGES)
    names = org_route_names()
    # The names come from the real routes: an empty walk would prove nothing.
    assert {"overview:dashboard", "items:inbox", "moderation:queue", "veille:alert"} <= names
    unlisted = names - listed - set(_PAGE_NAMES)
    assert not unlisted, f"routes neither opened nor declared as not pages: {sorted(unlisted)}"
    assert not (listed - names), f"declared routes that do not exist: {sorted(listed - names)}"


#: The routes ``_pages`` opens (checked against the real routes without building the town).
_PAGE_NAMES = (
    "overview:dashboard",
    "items:inbox",
    "items:item",
    "items:author",
    "organizations:settings",
    "organizations:members",
    "organizations:audit",
    "sources:list",
    "sources:create",
    "sources:edit",
    "sources:import",
    "sources:connect_choose",
    "charter:index",
    "charter:import",
    "charter:diff",
    "charter:version",
    "charter:version_edit",
    "charter:category_create",
    "charter:category_edit",
    "charter:rules",
    "charter:rule_create",
    "charter:rule_edit",
    "charter:rule_bulk",
    "moderation:queue",
    "moderation:case",
    "moderation:decisions",
    "moderation:appeal_create",
    "moderation:classifier",
    "veille:dashboard",
    "veille:alerts",
    "veille:alert",
    "veille:channels",
    "veille:channel_create",
    "veille:channel_edit",
    "veille:watches",
    "veille:watch_create",
    "veille:watch",
    "veille:watch_edit",
    "veille:narratives",
    "veille:narrative",
    "veille:claims",
    "veille:claim_create",
    "veille:claims_import",
    "veille:claim_matches",
    "veille:claim_edit",
    "veille:campaigns",
    "veille:campaign",
    "veille:identities",
    "veille:identity_create",
    "veille:identity_edit",
    "veille:impersonators",
    "veille:impersonator",
    "conversations:list",
    "conversations:detail",
    "conversations:response_times",
    "conversations:saved_replies",
    "conversations:saved_reply_create",
    "conversations:saved_reply_edit",
    "conversations:teams",
    "conversations:routing_rules",
    "conversations:request_models",
    "conversations:routing_rule_create",
    "conversations:routing_rule_edit",
    "conversations:request_systems",
    "conversations:request_system_create",
    "conversations:request_system_edit",
    "conversations:team_create",
    "conversations:team_edit",
    "publishing:list",
    "publishing:create",
    "publishing:detail",
    "publishing:edit",
    "publishing:calendar",
    "publishing:calendar_feed",
    "publishing:pause",
    "publishing:window_create",
    "publishing:window_edit",
    "publishing:media",
    "publishing:media_edit",
    "publishing:workflows",
    "publishing:workflow_create",
    "publishing:workflow_edit",
    "publishing:settings",
    "counterspeech:library",
    "counterspeech:create",
    "counterspeech:detail",
    "counterspeech:edit",
    "counterspeech:sharing",
    "counterspeech:outcomes",
    "counterspeech:gaps",
    "counterspeech:drafting",
    "briefs:list",
    "briefs:create",
    "briefs:detail",
    "briefs:edit",
    "briefs:received",
    "briefs:partners",
)


def test_the_check_sees_a_page_wider_than_the_window(live_server: Any, browser: Any) -> None:
    """The measure can fail, and names the element that sticks out."""
    tab = browser("fr")
    tab.goto(live_server.url + reverse("accounts:login"))
    assert tab.evaluate(OVERFLOW) is None
    # Preformatted text never wraps: a long line of it widens the page.
    tab.evaluate(
        "() => document.querySelector('main').insertAdjacentHTML('beforeend',"
        " '<pre class=\"too-wide\">' + 'x'.repeat(400) + '</pre>')"
    )
    found = tab.evaluate(OVERFLOW)
    assert found is not None and found["scrollWidth"] > WIDTH
    assert "pre.too-wide" in found["innermost"][0]
    assert "pre.too-wide" in found["widest"][0]


def test_the_check_sees_hidden_columns_and_a_tall_header(live_server: Any, browser: Any) -> None:
    """A table wider than its scroll container, and a menu on three lines, are caught."""
    tab = browser("fr")
    tab.goto(live_server.url + reverse("accounts:login"))
    assert tab.evaluate(HIDDEN_COLUMNS) == [] and tab.evaluate(HEADER_LINES) == 1
    # Column headers keep their words whole: a long one makes the table scroll in its box.
    tab.evaluate(
        "() => document.querySelector('main').insertAdjacentHTML('beforeend',"
        ' \'<div class="table-scroll"><table class="wide"><thead><tr><th>\''
        " + 'x'.repeat(300) + '</th><th>Actions</th></tr></thead></table></div>')"
    )
    hidden = tab.evaluate(HIDDEN_COLUMNS)
    assert len(hidden) == 1 and hidden[0].startswith("table.wide (") and "Actions" in hidden[0]
    tab.evaluate(
        "() => document.querySelector('.header-inner').insertAdjacentHTML('beforeend',"
        " '<nav class=\"main-nav\"><ul>' + '<li><a href=\"#\">Une entrée de menu</a></li>'"
        ".repeat(20) + '</ul></nav>')"
    )
    assert tab.evaluate(HEADER_LINES) > 2


@pytest.mark.parametrize("language", ["fr", "en"])
def test_no_page_scrolls_sideways(
    live_server: Any, browser: Any, wide_town: dict[str, Any], language: str
) -> None:
    pages = wide_town["pages"]
    assert set(pages) == set(_PAGE_NAMES)
    tab = browser(language)
    base = live_server.url
    tab.context.add_cookies([{"name": "sessionid", "value": wide_town["session"], "url": base}])
    problems: list[str] = []
    opened = 0
    for url in [*(u for urls in pages.values() for u in urls), *wide_town["account"]]:
        problem = overflow(tab, base + url)
        opened += 1
        if opened == 1:
            # The page is in the language asked for: the test measures what a person reads.
            assert tab.evaluate("document.documentElement.lang") == language
        if problem:
            problems.append(problem)
    assert not problems, f"{len(problems)} of {opened} pages scroll sideways:\n" + "\n".join(
        problems
    )


def test_a_table_that_scrolls_is_reached_from_the_keyboard(
    live_server: Any, browser: Any, wide_town: dict[str, Any]
) -> None:
    """In a narrow window the decisions log scrolls in its box: a named region, reached with
    Tab and scrolled with the arrow keys; at 1280 px it does not scroll, and is no tab stop."""
    base = live_server.url
    tab = browser("fr")
    tab.context.add_cookies([{"name": "sessionid", "value": wide_town["session"], "url": base}])
    decisions = base + wide_town["pages"]["moderation:decisions"][0]
    tab.goto(decisions)
    box = tab.locator("main .table-scroll").first
    assert box.get_attribute("tabindex") is None
    tab.set_viewport_size({"width": 640, "height": HEIGHT})
    tab.goto(decisions)
    assert box.get_attribute("tabindex") == "0" and box.get_attribute("role") == "region"
    assert box.get_attribute("aria-label")
    box.focus()
    tab.keyboard.press("ArrowRight")
    tab.wait_for_function(
        "() => document.querySelector('main .table-scroll').scrollLeft > 0", timeout=3000
    )
    # Wide again: the box stops scrolling and leaves the tab order.
    tab.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    tab.wait_for_function(
        "() => !document.querySelector('main .table-scroll').hasAttribute('tabindex')",
        timeout=3000,
    )
