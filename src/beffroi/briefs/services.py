"""The briefs' only writers: partnerships proposed, accepted and ended; links with partners of
another Beffroi made, joined and deleted; briefs prepared, sent and closed; deliveries
acknowledged or declined; answers counted (from the desk, from publishing, declared by hand,
imported); signed files exported and imported.

Each service takes the :class:`~beffroi.organizations.context.OrgContext` of whoever acts,
checks the capability its rule asks for (:meth:`OrgContext.require`), checks the briefs' own
rules (a :class:`BriefError` with a sentence), writes, and records the audit event.

Who may do what:

- prepare, change, send and close a brief, export it signed, import a partner's report of
  its answers: those who approve (``APPROVE``: approvers, administrators) — a brief speaks
  for the organization to others, as a post does;
- acknowledge or decline a received brief, declare an answer, import a brief file, export
  the report of the organization's answers: those who answer (``ANSWER``);
- choose the partners (propose, accept, end) and the links with other Beffroi instances:
  administrators (``MANAGE``);
- read: every member (``VIEW``).

A brief reaches a partner of this instance only through a partnership the partner accepted;
another organization's brief is read only through a delivery of it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from beffroi.audit.actions import AuditAction
from beffroi.audit.services import Actor, record
from beffroi.briefs import signing
from beffroi.briefs.models import (
    Brief,
    BriefDelivery,
    BriefEntry,
    BriefPost,
    BriefResponse,
    ExternalPartner,
    Partnership,
    snapshot,
)
from beffroi.counterspeech.models import Entry
from beffroi.counterspeech.services import visible_entries
from beffroi.items.models import Item
from beffroi.organizations.context import OrgContext
from beffroi.organizations.models import Organization
from beffroi.organizations.roles import Capability
from beffroi.veille.models import Campaign, Narrative

logger = logging.getLogger(__name__)

State = Brief.State
How = BriefResponse.How

MAX_POSTS = 100
MAX_ENTRIES = 20
MAX_RULES = 30
MAX_RULE_CHARS = 500
MAX_EXCERPT_CHARS = 1000
#: How long a signed file may be imported when its brief has no end date.
FILE_VALIDITY = timedelta(days=30)
#: The posts of a narrative or a campaign a brief takes at most, newest first.
SUBJECT_POSTS = 20
#: Who counts the answers made in the desks (no one's click).
COUNTER = Actor.system("briefs")


class BriefError(Exception):
    """A refused action, with a sentence for the person (translated) and a ``code`` where a
    caller answers differently by cause (``invalid``, ``state``, ``duplicate``…)."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.code = code


class FileRefused(BriefError):
    """A signed file that was not imported (nothing stored): ``code`` says why
    (``malformed``, ``format``, ``unknown_key``, ``signature``, ``own``, ``sender``,
    ``expired``, ``conflict``, ``not_sent``)."""


# --- reading ----------------------------------------------------------------------------------


def sent_briefs(organization: Organization | int) -> QuerySet[Brief]:
    """The briefs the organization wrote (an imported brief is read as a received one)."""
    return Brief.objects.for_org(organization).filter(origin=Brief.Origin.WRITTEN)


def received(organization: Organization | int) -> QuerySet[BriefDelivery]:
    """The briefs in the organization's desk: delivered by a partner of this instance, or
    imported from a signed file."""
    return BriefDelivery.objects.for_org(organization).select_related(
        "brief", "brief__organization"
    )


def partners_of(organization: Organization | int) -> QuerySet[Partnership]:
    """The partnerships in which ``organization`` sends (proposed or accepted)."""
    return Partnership.objects.filter(sender=organization).select_related("organization")


def accepted_partners(organization: Organization | int) -> QuerySet[Organization]:
    """The organizations that accepted ``organization``'s briefs."""
    return Organization.objects.filter(
        brief_senders__sender=organization, brief_senders__state=Partnership.State.ACCEPTED
    ).order_by("name", "id")


def senders_of(organization: Organization | int) -> QuerySet[Partnership]:
    """The partnerships in which ``organization`` receives (proposed to it, or accepted)."""
    return Partnership.objects.for_org(organization).select_related("sender")


def matching_items(organization: Organization | int, posts: Sequence[BriefPost]) -> dict[int, Item]:
    """The organization's own items that are the brief's posts (same platform and id, or
    the same address): where its members answer them. By post id."""
    wanted = Q()
    for post in posts:
        if post.platform and post.platform_id:
            wanted |= Q(platform=post.platform, platform_id=post.platform_id)
        if post.url:
            wanted |= Q(url=post.url)
    if not wanted:
        return {}
    items = list(Item.objects.for_org(organization).filter(wanted).order_by("id"))
    found: dict[int, Item] = {}
    for post in posts:
        for item in items:
            same_id = bool(post.platform_id) and (item.platform, item.platform_id) == (
                post.platform,
                post.platform_id,
            )
            if same_id or (post.url and item.url == post.url):
                found[post.pk] = item
                break
    return found


def response_counts(brief: Brief) -> dict[tuple[int, int], int]:
    """How many answers each delivery gave to each post: ``{(post id, delivery id): n}``."""
    rows = (
        BriefResponse.objects.filter(delivery__brief=brief)
        .values("post_id", "delivery_id")
        .annotate(n=Count("id"))
    )
    return {(row["post_id"], row["delivery_id"]): row["n"] for row in rows}


def responses_of(brief: Brief) -> QuerySet[BriefResponse]:
    """Every answer counted for ``brief``, by every partner, in the order they came."""
    return (
        BriefResponse.objects.filter(delivery__brief=brief)
        .select_related("post", "delivery__organization", "delivery__external_partner")
        .order_by("answered_at", "id")
    )


def identity(organization: Organization) -> dict[str, str]:
    """Who signs a file: this instance's address and the organization."""
    return {
        "instance": str(settings.BEFFROI_PUBLIC_URL),
        "organization": organization.slug,
        "name": organization.name,
    }


def _user(ctx: OrgContext) -> Any:
    return ctx.actor.user if getattr(ctx.actor.user, "is_authenticated", False) else None


def _record(ctx: OrgContext, action: AuditAction, brief: Brief, **after: Any) -> None:
    record(
        ctx.actor,
        action,
        organization=ctx.organization,
        obj=brief,
        after={**snapshot(brief), **after},
    )


# --- partnerships -----------------------------------------------------------------------------


def propose_partnership(ctx: OrgContext, partner_slug: str) -> Partnership:
    """Offer to send our briefs to the organization whose address is ``partner_slug``: it
    receives them once its administrators accept."""
    ctx.require(Capability.MANAGE)
    slug = partner_slug.strip().lower()
    partner = Organization.objects.filter(slug=slug).first()
    if partner is None:
        raise BriefError(_("No organization of this Beffroi has this address."), "unknown")
    if partner.pk == ctx.organization.pk:
        raise BriefError(_("An organization does not send briefs to itself."))
    with transaction.atomic():
        partnership, created = Partnership.objects.get_or_create(
            organization=partner,
            sender=ctx.organization,
            defaults={"proposed_by": _user(ctx)},
        )
        if created:
            record(
                ctx.actor,
                AuditAction.BRIEF_PARTNER_PROPOSE,
                organization=ctx.organization,
                obj=partnership,
                after={"partner": partner.slug},
            )
    return partnership


def accept_partnership(ctx: OrgContext, sender: Organization) -> Partnership:
    """Receive ``sender``'s briefs, as it proposed."""
    ctx.require(Capability.MANAGE)
    with transaction.atomic():
        partnership = (
            Partnership.objects.for_org(ctx.organization)
            .select_for_update()
            .filter(sender=sender)
            .first()
        )
        if partnership is None:
            raise BriefError(_("This organization has not proposed to send us its briefs."))
        if partnership.state == Partnership.State.ACCEPTED:
            return partnership
        partnership.state = Partnership.State.ACCEPTED
        partnership.accepted_by = _user(ctx)
        partnership.accepted_at = timezone.now()
        partnership.save(update_fields=["state", "accepted_by", "accepted_at"])
        record(
            ctx.actor,
            AuditAction.BRIEF_PARTNER_ACCEPT,
            organization=ctx.organization,
            obj=partnership,
            after={"sender": sender.slug},
        )
    return partnership


def _end(ctx: OrgContext, partnership: Partnership | None, side: str, other: str) -> None:
    if partnership is None:
        raise BriefError(_("There is no partnership with this organization."))
    record(
        ctx.actor,
        AuditAction.BRIEF_PARTNER_END,
        organization=ctx.organization,
        obj=partnership,
        before={"state": partnership.state, side: other},
    )
    partnership.delete()


def stop_sending(ctx: OrgContext, partner: Organization) -> None:
    """Withdraw a proposal, or stop sending briefs to ``partner`` (what it received stays)."""
    ctx.require(Capability.MANAGE)
    with transaction.atomic():
        found = partners_of(ctx.organization).filter(organization=partner).first()
        _end(ctx, found, "partner", partner.slug)


def stop_receiving(ctx: OrgContext, sender: Organization) -> None:
    """Decline a proposal, or stop receiving ``sender``'s briefs (what arrived stays)."""
    ctx.require(Capability.MANAGE)
    with transaction.atomic():
        found = senders_of(ctx.organization).filter(sender=sender).first()
        _end(ctx, found, "sender", sender.slug)


# --- links with partners of another Beffroi ------------------------------------------------


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())[:200]
    if not cleaned:
        raise BriefError(_("Give the partner a name."))
    return cleaned


def create_link(ctx: OrgContext, name: str) -> tuple[ExternalPartner, str]:
    """A new link with a partner of another Beffroi, and its code: shown this once, to be
    given to the partner by a trusted channel (it holds the shared secret)."""
    ctx.require(Capability.MANAGE)
    key_id, secret = signing.new_link()
    link = ExternalPartner(
        organization=ctx.organization, name=_clean_name(name), key_id=key_id, created_by=_user(ctx)
    )
    link.set_secret(secret)
    with transaction.atomic():
        link.save()
        record(
            ctx.actor,
            AuditAction.BRIEF_LINK_CREATE,
            organization=ctx.organization,
            obj=link,
            after={"name": link.name, "key_id": key_id},
        )
    return link, signing.link_code(key_id, secret)


def join_link(ctx: OrgContext, name: str, code: str) -> ExternalPartner:
    """Keep the link whose code a partner of another Beffroi gave us."""
    ctx.require(Capability.MANAGE)
    read = signing.read_link_code(code)
    if read is None:
        raise BriefError(_("This is not a link code: it starts with “bfl1.”."), "code")
    key_id, secret = read
    cleaned = _clean_name(name)
    with transaction.atomic():
        if ExternalPartner.objects.for_org(ctx.organization).filter(key_id=key_id).exists():
            raise BriefError(_("The organization already has this link."), "duplicate")
        link = ExternalPartner(
            organization=ctx.organization, name=cleaned, key_id=key_id, created_by=_user(ctx)
        )
        link.set_secret(secret)
        link.save()
        record(
            ctx.actor,
            AuditAction.BRIEF_LINK_JOIN,
            organization=ctx.organization,
            obj=link,
            after={"name": link.name, "key_id": key_id},
        )
    return link


def delete_link(ctx: OrgContext, link: ExternalPartner) -> None:
    """Forget a link: its files are no longer signed nor accepted (what came through stays)."""
    ctx.require(Capability.MANAGE)
    if link.organization_id != ctx.organization.pk:
        raise BriefError(_("This link is not one of the organization's."))
    with transaction.atomic():
        record(
            ctx.actor,
            AuditAction.BRIEF_LINK_DELETE,
            organization=ctx.organization,
            obj=link,
            before={"name": link.name, "key_id": link.key_id},
        )
        link.delete()


# --- preparing a brief ------------------------------------------------------------------------


@dataclass(frozen=True)
class PostData:
    """A post to answer, as given: from one of the sender's items, or an address."""

    url: str = ""
    platform: str = ""
    platform_id: str = ""
    author_handle: str = ""
    excerpt: str = ""
    item: Item | None = None

    @classmethod
    def of_item(cls, item: Item) -> PostData:
        return cls(
            url=item.url,
            platform=item.platform,
            platform_id=item.platform_id,
            author_handle=item.author.handle if item.author_id else "",
            excerpt=item.text[:MAX_EXCERPT_CHARS],
            item=item,
        )

    @property
    def identity(self) -> tuple[str, str, str]:
        if self.platform and self.platform_id:
            return (self.platform, self.platform_id, "")
        return ("", "", self.url)


@dataclass
class BriefData:
    title: str
    summary: str = ""
    narrative: Narrative | None = None
    campaign: Campaign | None = None
    dos: list[str] = field(default_factory=list)
    donts: list[str] = field(default_factory=list)
    valid_until: date | None = None
    posts: list[PostData] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    #: Add the narrative's or the campaign's latest posts to those given.
    subject_posts: bool = False


def subject_posts(narrative: Narrative | None, campaign: Campaign | None) -> list[PostData]:
    """The latest posts of the narrative and of the campaign (at most ``SUBJECT_POSTS``)."""
    items: list[Item] = []
    if narrative is not None:
        items += list(
            Item.objects.filter(narrative_link__narrative=narrative)
            .select_related("author")
            .order_by("-created_at", "-id")[:SUBJECT_POSTS]
        )
    if campaign is not None:
        items += list(
            campaign.items.select_related("author").order_by("-created_at", "-id")[:SUBJECT_POSTS]
        )
    items.sort(key=lambda item: (item.created_at, item.pk), reverse=True)
    return [PostData.of_item(item) for item in items[:SUBJECT_POSTS]]


def _rules(lines: Sequence[str]) -> list[str]:
    """The do's (or don'ts), one per line, blank lines left out."""
    rules = [" ".join(line.split()) for line in lines]
    rules = [rule for rule in rules if rule]
    if len(rules) > MAX_RULES:
        raise BriefError(_("At most %(n)d do's, and %(n)d don'ts.") % {"n": MAX_RULES})
    if any(len(rule) > MAX_RULE_CHARS for rule in rules):
        raise BriefError(
            _("A do or a don't holds at most %(n)d characters.") % {"n": MAX_RULE_CHARS}
        )
    return rules


def _is_web_address(url: str) -> bool:
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        return False
    return len(url) <= 1000


def _checked(ctx: OrgContext, data: BriefData) -> BriefData:
    """``data`` cleaned, or a refusal that says what is wrong."""
    org_id = ctx.organization.pk
    title = " ".join(data.title.split())
    if not title:
        raise BriefError(_("Give the brief a title."))
    if len(title) > 200:
        raise BriefError(_("The title holds at most 200 characters."))
    if data.narrative is not None and data.narrative.organization_id != org_id:
        raise BriefError(_("This narrative is not one of the organization's."))
    if data.campaign is not None and data.campaign.organization_id != org_id:
        raise BriefError(_("This campaign is not one of the organization's."))
    posts = list(data.posts)
    if data.subject_posts:
        posts += subject_posts(data.narrative, data.campaign)
    unique: dict[tuple[str, str, str], PostData] = {}
    for post in posts:
        if post.item is not None and post.item.organization_id != org_id:
            raise BriefError(_("This item is not one of the organization's."))
        if post.url and not _is_web_address(post.url):
            raise BriefError(
                _("“%(url)s” is not a web address (http or https).") % {"url": post.url[:200]}
            )
        if not post.url and not (post.platform and post.platform_id):
            raise BriefError(_("A post to answer needs its address."))
        unique.setdefault(post.identity, post)
    if len(unique) > MAX_POSTS:
        raise BriefError(_("A brief asks to answer at most %(n)d posts.") % {"n": MAX_POSTS})
    entries = list(dict.fromkeys(data.entries))
    if len(entries) > MAX_ENTRIES:
        raise BriefError(_("A brief suggests at most %(n)d entries.") % {"n": MAX_ENTRIES})
    readable = set(
        visible_entries(ctx.organization)
        .suggestible()
        .filter(pk__in=[entry.pk for entry in entries])
        .values_list("pk", flat=True)
    )
    if any(entry.pk not in readable for entry in entries):
        raise BriefError(
            _("Only approved entries the organization reads, within their dates, are suggested.")
        )
    if data.valid_until is not None and data.valid_until < timezone.localdate():
        raise BriefError(_("The brief's end date is already past."))
    return BriefData(
        title=title,
        summary=data.summary.strip()[:10000],
        narrative=data.narrative,
        campaign=data.campaign,
        dos=_rules(data.dos),
        donts=_rules(data.donts),
        valid_until=data.valid_until,
        posts=list(unique.values()),
        entries=entries,
    )


def _subject(data: BriefData) -> str:
    """What the brief is about, in words its partners read."""
    parts = []
    if data.narrative is not None:
        parts.append(data.narrative.label)
    if data.campaign is not None:
        parts.append(str(data.campaign))
    return " · ".join(parts)[:300]


def _write_posts(brief: Brief, posts: Sequence[PostData]) -> None:
    """Keep the posts still given (and the answers counted for them), add the new ones; a
    post already answered is not removed."""
    kept = {
        (p.platform, p.platform_id, "") if p.platform and p.platform_id else ("", "", p.url): p
        for p in brief.posts.all()
    }
    wanted = {post.identity for post in posts}
    gone = [post for identity, post in kept.items() if identity not in wanted]
    if any(post.responses.exists() for post in gone):
        raise BriefError(_("A post that partners already answered stays in the brief."), "answered")
    for post in gone:
        post.delete()
    for position, given in enumerate(posts):
        values = {
            "position": position,
            "platform": given.platform,
            "platform_id": given.platform_id,
            "url": given.url,
            "author_handle": given.author_handle[:255],
            "excerpt": given.excerpt[:MAX_EXCERPT_CHARS],
            "item": given.item,
        }
        found = kept.get(given.identity)
        if found is None:
            BriefPost.objects.create(brief=brief, **values)
        else:
            for name, value in values.items():
                setattr(found, name, value)
            found.save()


def _frozen(entry: Entry) -> dict[str, Any]:
    return {
        "key": entry.key,
        "title": entry.title,
        "strategy": entry.strategy,
        "texts": {text.language: text.text for text in entry.texts.all()},
    }


def _write_entries(brief: Brief, entries: Sequence[Entry]) -> None:
    """The suggested entries, each copied as it reads now (a kept one keeps its copy)."""
    kept = {
        suggested.entry_id: suggested for suggested in brief.entries.all() if suggested.entry_id
    }
    wanted = {entry.pk for entry in entries}
    brief.entries.exclude(entry_id__in=wanted).delete()
    for position, entry in enumerate(entries):
        found = kept.get(entry.pk)
        if found is None:
            BriefEntry.objects.create(brief=brief, position=position, entry=entry, **_frozen(entry))
        elif found.position != position:
            found.position = position
            found.save(update_fields=["position"])


def _apply(brief: Brief, data: BriefData) -> None:
    brief.title = data.title
    brief.summary = data.summary
    brief.narrative = data.narrative
    brief.campaign = data.campaign
    brief.subject = _subject(data)
    brief.dos = data.dos
    brief.donts = data.donts
    brief.valid_until = data.valid_until
    brief.save()
    _write_posts(brief, data.posts)
    _write_entries(brief, data.entries)


def create_brief(ctx: OrgContext, data: BriefData) -> Brief:
    """Prepare a brief: a draft of the organization, sent to no one yet."""
    ctx.require(Capability.APPROVE)
    data = _checked(ctx, data)
    with transaction.atomic():
        brief = Brief(organization=ctx.organization, created_by=_user(ctx))
        _apply(brief, data)
        _record(ctx, AuditAction.BRIEF_CREATE, brief, posts=len(data.posts))
    return brief


def _own(ctx: OrgContext, brief: Brief) -> Brief:
    """The brief, locked, if it is one the organization wrote."""
    if brief.organization_id != ctx.organization.pk or brief.imported:
        raise BriefError(_("Only the organization that wrote a brief changes it."), "read_only")
    return Brief.objects.select_for_update().get(pk=brief.pk)


def update_brief(ctx: OrgContext, brief: Brief, data: BriefData) -> Brief:
    """Change a brief that is not closed; its partners of this instance read the change at
    once (a partner of another Beffroi, with the file exported again)."""
    ctx.require(Capability.APPROVE)
    data = _checked(ctx, data)
    with transaction.atomic():
        brief = _own(ctx, brief)
        if brief.state == State.CLOSED:
            raise BriefError(_("A closed brief does not change."), "state")
        _apply(brief, data)
        _record(ctx, AuditAction.BRIEF_EDIT, brief, posts=len(data.posts))
    return brief


def send_brief(
    ctx: OrgContext, brief: Brief, partners: Sequence[Organization]
) -> list[BriefDelivery]:
    """Deliver the brief to ``partners`` (organizations that accepted our briefs): it
    appears in their desks. Sent again to a partner that has it, nothing changes."""
    ctx.require(Capability.APPROVE)
    if not partners:
        raise BriefError(_("Choose at least one partner."))
    accepted = set(accepted_partners(ctx.organization).values_list("pk", flat=True))
    if any(partner.pk not in accepted for partner in partners):
        raise BriefError(
            _("A brief is sent only to organizations that accepted to receive our briefs.")
        )
    now = timezone.now()
    with transaction.atomic():
        brief = _own(ctx, brief)
        _sendable(brief)
        delivered = []
        for partner in partners:
            delivery, created = BriefDelivery.objects.get_or_create(
                brief=brief,
                organization=partner,
                external_partner=None,
                defaults={"delivered_at": now},
            )
            if created:
                delivered.append(delivery)
                record(
                    Actor.system(f"brief from {ctx.organization.name}"[:200]),
                    AuditAction.BRIEF_RECEIVE,
                    organization=partner,
                    obj=delivery,
                    after={"brief": brief.key, "sender": ctx.organization.slug},
                )
        _mark_sent(brief, now)
        _record(ctx, AuditAction.BRIEF_SEND, brief, partners=sorted(p.slug for p in partners))
    return delivered


def _sendable(brief: Brief) -> None:
    if brief.state == State.CLOSED:
        raise BriefError(_("A closed brief is no longer sent."), "state")
    if brief.valid_until is not None and brief.valid_until < timezone.localdate():
        raise BriefError(_("The brief's end date is past: change it before sending."), "state")


def _mark_sent(brief: Brief, now: datetime) -> None:
    if brief.state == State.DRAFT:
        brief.state = State.SENT
        brief.sent_at = now
        brief.save(update_fields=["state", "sent_at", "updated_at"])


def close_brief(ctx: OrgContext, brief: Brief) -> Brief:
    """Close the brief: its partners are no longer asked to answer, and answers made from
    now on are not counted (those counted stay)."""
    ctx.require(Capability.APPROVE)
    with transaction.atomic():
        brief = _own(ctx, brief)
        if brief.state == State.CLOSED:
            raise BriefError(_("This brief is already closed."), "state")
        brief.state = State.CLOSED
        brief.closed_at = timezone.now()
        brief.save(update_fields=["state", "closed_at", "updated_at"])
        _record(ctx, AuditAction.BRIEF_CLOSE, brief)
    return brief


# --- the partner's side -----------------------------------------------------------------------


def _own_delivery(ctx: OrgContext, delivery: BriefDelivery) -> BriefDelivery:
    if delivery.organization_id != ctx.organization.pk:
        raise BriefError(_("This brief is not in the organization's desk."), "read_only")
    return BriefDelivery.objects.select_for_update().select_related("brief").get(pk=delivery.pk)


def _delivery_state(
    ctx: OrgContext, delivery: BriefDelivery, state: str, action: AuditAction, reason: str = ""
) -> BriefDelivery:
    ctx.require(Capability.ANSWER)
    with transaction.atomic():
        delivery = _own_delivery(ctx, delivery)
        if delivery.state == state:
            return delivery
        before = delivery.state
        delivery.state = state
        delivery.state_reason = reason.strip()[:5000]
        delivery.state_changed_at = timezone.now()
        delivery.save(update_fields=["state", "state_reason", "state_changed_at"])
        record(
            ctx.actor,
            action,
            organization=ctx.organization,
            obj=delivery,
            before={"state": before},
            after={"state": state, "brief": delivery.brief.key, "reason": delivery.state_reason},
        )
    return delivery


def acknowledge(ctx: OrgContext, delivery: BriefDelivery) -> BriefDelivery:
    """Say to the sender that the organization takes part."""
    return _delivery_state(
        ctx, delivery, BriefDelivery.State.ACKNOWLEDGED, AuditAction.BRIEF_ACKNOWLEDGE
    )


def decline(ctx: OrgContext, delivery: BriefDelivery, reason: str = "") -> BriefDelivery:
    """Say to the sender that the organization does not take part (and why)."""
    return _delivery_state(
        ctx, delivery, BriefDelivery.State.DECLINED, AuditAction.BRIEF_DECLINE, reason
    )


def declare_response(
    ctx: OrgContext,
    delivery: BriefDelivery,
    post: BriefPost,
    url: str,
    *,
    answered_at: datetime | None = None,
) -> BriefResponse:
    """ "We answered it": an answer made outside Beffroi (from the platform's own app), with
    its link. The same link is counted once."""
    ctx.require(Capability.ANSWER)
    url = url.strip()
    if not _is_web_address(url):
        raise BriefError(_("Give the address of the answer (http or https)."))
    now = timezone.now()
    when = answered_at or now
    if when > now + timedelta(minutes=5):
        raise BriefError(_("An answer is not made in the future."))
    with transaction.atomic():
        delivery = _own_delivery(ctx, delivery)
        if post.brief_id != delivery.brief_id:
            raise BriefError(_("This post is not one of the brief's."))
        if not delivery.brief.open:
            raise BriefError(_("The brief is closed: answers are no longer counted."), "state")
        if delivery.responses.filter(reference=url).exists():
            raise BriefError(_("This answer is already counted."), "duplicate")
        user = _user(ctx)
        response = BriefResponse.objects.create(
            delivery=delivery,
            post=post,
            how=How.DECLARED,
            reference=url,
            url=url,
            answered_by=(user.get_username() if user is not None else ctx.actor.name)[:200],
            user=user,
            answered_at=when,
        )
        _record_response(ctx.actor, ctx.organization, response)
    return response


def _record_response(
    actor: Actor, organization: Organization | None, response: BriefResponse
) -> None:
    record(
        actor,
        AuditAction.BRIEF_RESPONSE,
        organization=organization,
        obj=response.delivery,
        after={
            "brief": response.delivery.brief.key,
            "post": response.post.key,
            "how": response.how,
            "url": response.url,
        },
    )


# --- counting the answers made in the desks ---------------------------------------------------


def _posts_answered_by(organization_id: int, item: Item) -> list[tuple[BriefPost, BriefDelivery]]:
    """The open briefs' posts delivered to the organization that ``item`` is, with their
    delivery."""
    same = Q()
    if item.platform and item.platform_id:
        same |= Q(platform=item.platform, platform_id=item.platform_id)
    if item.url:
        same |= Q(url=item.url)
    if not same:
        return []
    deliveries = {
        delivery.brief_id: delivery
        for delivery in BriefDelivery.objects.for_org(organization_id)
        .exclude(brief__state=State.CLOSED)
        .select_related("brief")
    }
    if not deliveries:
        return []
    posts = BriefPost.objects.filter(same, brief_id__in=list(deliveries)).order_by("id")
    return [(post, deliveries[post.brief_id]) for post in posts]


def _count(
    organization_id: int,
    item: Item,
    *,
    how: str,
    reference: str,
    url: str,
    platform_id: str,
    user: Any,
    answered_at: datetime,
) -> list[BriefResponse]:
    """An answer to ``item`` made by the organization: a response for each open brief
    delivered to it that asks to answer that post, once per reply (``reference``)."""
    counted = []
    for post, delivery in _posts_answered_by(organization_id, item):
        try:
            with transaction.atomic():
                response, created = BriefResponse.objects.get_or_create(
                    delivery=delivery,
                    reference=reference[:1000],
                    defaults={
                        "post": post,
                        "how": how,
                        "url": url[:1000] if url.startswith(("https://", "http://")) else "",
                        "platform_id": platform_id[:255],
                        "answered_by": user.get_username()[:200] if user is not None else "",
                        "user": user,
                        "answered_at": answered_at,
                    },
                )
                if created:
                    _record_response(COUNTER, delivery.organization, response)
        except IntegrityError:  # counted by a concurrent call
            continue
        if created:
            counted.append(response)
    return counted


def _reference(platform: str, platform_id: str, url: str, fallback: str) -> str:
    """What names an answer once: its address, else its platform id, else its key here."""
    if url.startswith(("https://", "http://")):
        return url
    if platform_id:
        return f"{platform}:{platform_id}"
    return fallback


def count_reply(reply: Any) -> list[BriefResponse]:
    """A reply of the answering desk reached its platform: an answer to the briefs' posts it
    answers (``conversations.signals.reply_posted``)."""
    item = reply.item
    return _count(
        reply.organization_id,
        item,
        how=How.DESK_REPLY,
        reference=_reference(item.platform, reply.platform_id, reply.url, f"reply:{reply.key}"),
        url=reply.url,
        platform_id=reply.platform_id,
        user=reply.author,
        answered_at=reply.sent_at or timezone.now(),
    )


def count_post(post: Any, variant: Any) -> list[BriefResponse]:
    """A post written in answer to an item (``in_reply_to``) was published: an answer to the
    briefs' posts that item is (``publishing.signals.post_published``). A desk reply held for
    approval is counted as a reply, when the desk sends it."""
    item = post.in_reply_to
    if item is None or post.reply_id is not None:
        return []
    return _count(
        post.organization_id,
        item,
        how=How.PUBLISHED_POST,
        reference=_reference(
            variant.source.platform, variant.platform_id, variant.url, f"post:{variant.key}"
        ),
        url=variant.url,
        platform_id=variant.platform_id,
        user=post.author,
        answered_at=variant.published_at or timezone.now(),
    )


def on_reply_posted(sender: Any, reply: Any, **kwargs: Any) -> None:
    """Receiver: counting never stops a reply's sending (a failure is logged)."""
    try:
        count_reply(reply)
    except Exception:
        logger.exception("Could not count reply %s for the briefs", getattr(reply, "pk", None))


def on_post_published(sender: Any, post: Any, variant: Any, **kwargs: Any) -> None:
    """Receiver: counting never stops a publication (a failure is logged)."""
    try:
        count_post(post, variant)
    except Exception:
        logger.exception("Could not count post %s for the briefs", getattr(post, "pk", None))


# --- signed files -----------------------------------------------------------------------------


def _end_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.max))


def _envelope(
    file_format: str, link: ExternalPartner, organization: Organization, expires_at: datetime
) -> dict[str, Any]:
    return {
        "format": file_format,
        "version": signing.VERSION,
        "key_id": link.key_id,
        "signed_at": timezone.now().isoformat(),
        "expires_at": expires_at.isoformat(),
        "from": identity(organization),
        "to": link.name,
    }


def _brief_payload(brief: Brief) -> dict[str, Any]:
    return {
        "key": brief.key,
        "title": brief.title,
        "summary": brief.summary,
        "subject": brief.subject,
        "dos": list(brief.dos),
        "donts": list(brief.donts),
        "valid_until": brief.valid_until.isoformat() if brief.valid_until else None,
        "state": brief.state,
        "sent_at": brief.sent_at.isoformat() if brief.sent_at else None,
        "posts": [
            {
                "key": post.key,
                "platform": post.platform,
                "platform_id": post.platform_id,
                "url": post.url,
                "author_handle": post.author_handle,
                "excerpt": post.excerpt,
            }
            for post in brief.posts.all()
        ],
        "entries": [
            {
                "key": entry.key,
                "title": entry.title,
                "strategy": entry.strategy,
                "texts": dict(entry.texts),
            }
            for entry in brief.entries.all()
        ],
    }


def export_brief(ctx: OrgContext, brief: Brief, link: ExternalPartner) -> str:
    """The brief as a file signed for the partner of ``link`` (another Beffroi): sending it
    to them. The file expires with the brief (or after ``FILE_VALIDITY``)."""
    ctx.require(Capability.APPROVE)
    if link.organization_id != ctx.organization.pk:
        raise BriefError(_("This link is not one of the organization's."))
    now = timezone.now()
    with transaction.atomic():
        brief = _own(ctx, brief)
        _sendable(brief)
        _mark_sent(brief, now)
        BriefDelivery.objects.update_or_create(
            brief=brief,
            external_partner=link,
            organization=None,
            defaults={"external_name": link.name},
            create_defaults={"external_name": link.name, "delivered_at": now},
        )
        expires = _end_of(brief.valid_until) if brief.valid_until else now + FILE_VALIDITY
        document = _envelope(signing.BRIEF_FORMAT, link, ctx.organization, expires)
        document["brief"] = _brief_payload(brief)
        _record(ctx, AuditAction.BRIEF_EXPORT, brief, partner=link.name)
    return signing.dumps(signing.sign(document, link.secret))


def _refuse(ctx: OrgContext, code: str, message: str, detail: str = "") -> FileRefused:
    """Keep in the audit trail that a file was refused (a forged one is worth knowing of)."""
    record(
        ctx.actor,
        AuditAction.BRIEF_FILE_REFUSED,
        organization=ctx.organization,
        after={"code": code, "detail": detail[:200]},
    )
    return FileRefused(message, code)


_PROBLEMS = {
    "malformed": lambda: _("This file is not a Beffroi brief file (it cannot be read)."),
    "unsigned": lambda: _("This file is not signed: it cannot be trusted."),
    "version": lambda: _("This file was written by a version of Beffroi this one does not read."),
    "signature": lambda: _(
        "The signature does not match: the file was changed after it was signed, or signed "
        "with another secret than this link's."
    ),
}


def _opened(
    ctx: OrgContext, data: bytes, file_format: str
) -> tuple[dict[str, Any], ExternalPartner]:
    """The document of a signed file and the link it was signed with, once everything that
    makes it trustworthy is checked: its format, its key, its signature, who signed it and
    until when it holds."""
    try:
        document = signing.parse(data, file_format)
    except signing.SignatureProblem as problem:
        if problem.code == "format":
            message = (
                _("This is a report of answers, not a brief: import it on the brief's page.")
                if problem.detail == signing.RESPONSES_FORMAT
                else _("This is a brief, not a report of answers: import it with the briefs.")
                if problem.detail == signing.BRIEF_FORMAT
                else _PROBLEMS["malformed"]()
            )
            raise _refuse(ctx, "format", message, problem.detail) from problem
        raise _refuse(ctx, problem.code, _PROBLEMS[problem.code](), problem.detail) from problem
    link = (
        ExternalPartner.objects.for_org(ctx.organization).filter(key_id=document["key_id"]).first()
    )
    if link is None:
        raise _refuse(
            ctx,
            "unknown_key",
            _(
                "This file was signed with a link this organization does not have (another "
                "partner's, or one that was deleted)."
            ),
            str(document["key_id"])[:40],
        )
    try:
        signing.verify(document, link.secret)
    except signing.SignatureProblem as problem:
        raise _refuse(ctx, problem.code, _PROBLEMS[problem.code](), problem.detail) from problem
    signer = document.get("from")
    if not isinstance(signer, dict) or not all(
        isinstance(signer.get(k), str) and signer.get(k)
        for k in ("instance", "organization", "name")
    ):
        raise _refuse(ctx, "malformed", _PROBLEMS["malformed"](), "from")
    who = {k: str(signer[k])[:200] for k in ("instance", "organization", "name")}
    mine = identity(ctx.organization)
    if (who["instance"], who["organization"]) == (mine["instance"], mine["organization"]):
        raise _refuse(ctx, "own", _("This file was signed by this organization itself."))
    pinned = link.counterpart
    if pinned and (pinned.get("instance"), pinned.get("organization")) != (
        who["instance"],
        who["organization"],
    ):
        raise _refuse(
            ctx,
            "sender",
            _(
                "This file comes from another organization than the one this link was made "
                "with (%(name)s)."
            )
            % {"name": pinned.get("name", "")},
        )
    expires = parse_datetime(str(document.get("expires_at") or ""))
    if expires is None or timezone.is_naive(expires):
        raise _refuse(ctx, "malformed", _PROBLEMS["malformed"](), "expires_at")
    if expires < timezone.now():
        raise _refuse(
            ctx,
            "expired",
            _("This file expired on %(day)s: ask the partner for a new one.")
            % {"day": timezone.localtime(expires).date().isoformat()},
        )
    document["from"] = who
    return document, link


def _pin(link: ExternalPartner, who: dict[str, str]) -> None:
    """The first file through a link names the partner: later ones must come from it."""
    if link.counterpart != who:
        link.counterpart = who
        link.save(update_fields=["counterpart"])


def _text(value: Any, limit: int, *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValueError("text")
    return value[:limit]


def _read_brief(payload: Any) -> dict[str, Any]:
    """The brief of a signed file, each field checked (ValueError otherwise): a partner's
    software may be older, or wrong."""
    if not isinstance(payload, dict):
        raise ValueError("brief")
    valid_until = payload.get("valid_until")
    day = parse_date(valid_until) if isinstance(valid_until, str) else None
    if valid_until is not None and day is None:
        raise ValueError("valid_until")
    sent_at = payload.get("sent_at")
    sent = parse_datetime(sent_at) if isinstance(sent_at, str) else None
    if sent is not None and timezone.is_naive(sent):
        sent = None
    state = payload.get("state")
    if state not in (State.SENT, State.CLOSED):
        raise ValueError("state")
    rules = {}
    for name in ("dos", "donts"):
        value = payload.get(name) or []
        if not isinstance(value, list) or not all(isinstance(rule, str) for rule in value):
            raise ValueError(name)
        rules[name] = [rule[:MAX_RULE_CHARS] for rule in value[:MAX_RULES]]
    posts = payload.get("posts") or []
    entries = payload.get("entries") or []
    if not isinstance(posts, list) or len(posts) > MAX_POSTS:
        raise ValueError("posts")
    if not isinstance(entries, list) or len(entries) > MAX_ENTRIES:
        raise ValueError("entries")
    read_posts = []
    for post in posts:
        if not isinstance(post, dict):
            raise ValueError("post")
        url = _text(post.get("url"), 1000)
        if url and not _is_web_address(url):
            url = ""  # shown as text, never as a link: the file's author is not ours
        read_posts.append(
            {
                "key": _text(post.get("key"), 64, required=True),
                "platform": _text(post.get("platform"), 32),
                "platform_id": _text(post.get("platform_id"), 255),
                "url": url,
                "author_handle": _text(post.get("author_handle"), 255),
                "excerpt": _text(post.get("excerpt"), MAX_EXCERPT_CHARS),
            }
        )
    if len({post["key"] for post in read_posts}) != len(read_posts):
        raise ValueError("post keys")
    read_entries = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise ValueError("entry")
        texts = entry.get("texts") or {}
        if not isinstance(texts, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in texts.items()
        ):
            raise ValueError("texts")
        read_entries.append(
            {
                "key": _text(entry.get("key"), 64),
                "title": _text(entry.get("title"), 200, required=True),
                "strategy": _text(entry.get("strategy"), 16),
                "texts": {k[:8]: v[:10000] for k, v in list(texts.items())[:30]},
            }
        )
    return {
        "key": _text(payload.get("key"), 64, required=True),
        "title": _text(payload.get("title"), 200, required=True),
        "summary": _text(payload.get("summary"), 10000),
        "subject": _text(payload.get("subject"), 300),
        "dos": rules["dos"],
        "donts": rules["donts"],
        "valid_until": day,
        "state": state,
        "sent_at": sent,
        "posts": read_posts,
        "entries": read_entries,
    }


def import_brief(ctx: OrgContext, data: bytes) -> BriefDelivery:
    """Import a brief a partner of another Beffroi signed for us: it arrives in the
    organization's desk. The same brief imported again is updated (answers kept), never
    duplicated."""
    ctx.require(Capability.ANSWER)
    document, link = _opened(ctx, data, signing.BRIEF_FORMAT)
    try:
        read = _read_brief(document.get("brief"))
    except ValueError as exc:
        raise _refuse(ctx, "malformed", _PROBLEMS["malformed"](), str(exc)) from exc
    who = document["from"]
    with transaction.atomic():
        brief = (
            Brief.objects.for_org(ctx.organization)
            .select_for_update()
            .filter(key=read["key"])
            .first()
        )
        if brief is not None and (not brief.imported or brief.external_partner_id != link.pk):
            raise FileRefused(
                _("A brief of another origin has this key: the file was not imported."), "conflict"
            )
        created = brief is None
        if brief is None:
            brief = Brief(
                organization=ctx.organization,
                key=read["key"],
                origin=Brief.Origin.IMPORTED,
                external_partner=link,
            )
        for name in ("title", "summary", "subject", "dos", "donts", "valid_until", "state"):
            setattr(brief, name, read[name])
        brief.sender_name = who["name"]
        brief.sent_at = read["sent_at"] or brief.sent_at or timezone.now()
        if brief.state == State.CLOSED and brief.closed_at is None:
            brief.closed_at = timezone.now()
        brief.save()
        _sync_imported_posts(brief, read["posts"])
        brief.entries.all().delete()
        for position, entry in enumerate(read["entries"]):
            BriefEntry.objects.create(brief=brief, position=position, **entry)
        delivery, _made = BriefDelivery.objects.get_or_create(
            brief=brief, organization=ctx.organization, external_partner=None
        )
        _pin(link, who)
        _record(
            ctx,
            AuditAction.BRIEF_IMPORT,
            brief,
            partner=link.name,
            created=created,
            posts=len(read["posts"]),
        )
    return delivery


def _sync_imported_posts(brief: Brief, posts: Sequence[dict[str, Any]]) -> None:
    """The file's posts by key: kept ones updated (their answers stay), new ones added; one
    no longer in the file goes, unless the organization answered it."""
    kept = {post.key: post for post in brief.posts.all()}
    wanted = {post["key"] for post in posts}
    for key, post in kept.items():
        if key not in wanted and not post.responses.exists():
            post.delete()
    for position, given in enumerate(posts):
        found = kept.get(given["key"])
        if found is None:
            BriefPost.objects.create(brief=brief, position=position, **given)
        else:
            for name, value in given.items():
                setattr(found, name, value)
            found.position = position
            found.save()


def export_responses(ctx: OrgContext, delivery: BriefDelivery) -> str:
    """The report of the organization's answers to an imported brief, signed for the
    partner that sent it: who answered which post, when, with what link."""
    ctx.require(Capability.ANSWER)
    if delivery.organization_id != ctx.organization.pk:
        raise BriefError(_("This brief is not in the organization's desk."), "read_only")
    delivery = BriefDelivery.objects.select_related("brief__external_partner").get(pk=delivery.pk)
    brief = delivery.brief
    link = brief.external_partner
    if not brief.imported or link is None:
        raise BriefError(
            _(
                "This brief came from a partner of this Beffroi: it already reads our answers; "
                "there is no file to send."
            ),
            "not_imported",
        )
    document = _envelope(
        signing.RESPONSES_FORMAT, link, ctx.organization, timezone.now() + FILE_VALIDITY
    )
    responses = delivery.responses.select_related("post").order_by("answered_at", "id")
    document["brief"] = brief.key
    document["delivery"] = {"state": delivery.state, "reason": delivery.state_reason}
    document["responses"] = [
        {
            "post": response.post.key,
            "reference": response.reference,
            "how": response.how,
            "url": response.url,
            "platform_id": response.platform_id,
            "answered_by": response.answered_by,
            "answered_at": response.answered_at.isoformat(),
        }
        for response in responses
    ]
    with transaction.atomic():
        record(
            ctx.actor,
            AuditAction.BRIEF_RESPONSES_EXPORT,
            organization=ctx.organization,
            obj=delivery,
            after={"brief": brief.key, "responses": len(document["responses"]), "to": link.name},
        )
    return signing.dumps(signing.sign(document, link.secret))


@dataclass(frozen=True)
class ResponsesImported:
    delivery: BriefDelivery
    added: int
    updated: int
    #: Answers to posts the brief no longer has: left out.
    left_out: int


def _read_responses(document: dict[str, Any]) -> tuple[str, list[dict[str, Any]], str]:
    brief_key = document.get("brief")
    responses = document.get("responses")
    if not isinstance(brief_key, str) or not isinstance(responses, list):
        raise ValueError("responses")
    delivery = document.get("delivery") or {}
    state = delivery.get("state") if isinstance(delivery, dict) else None
    read = []
    for given in responses[:10000]:
        if not isinstance(given, dict):
            raise ValueError("response")
        when = parse_datetime(str(given.get("answered_at") or ""))
        if when is None or timezone.is_naive(when):
            raise ValueError("answered_at")
        url = _text(given.get("url"), 1000)
        read.append(
            {
                "post": _text(given.get("post"), 64, required=True),
                "reference": _text(given.get("reference"), 1000, required=True),
                "url": url if url and _is_web_address(url) else "",
                "platform_id": _text(given.get("platform_id"), 255),
                "answered_by": _text(given.get("answered_by"), 200),
                "answered_at": when,
            }
        )
    return brief_key, read, state if state in BriefDelivery.State.values else ""


def import_responses(ctx: OrgContext, data: bytes) -> ResponsesImported:
    """Import the report a partner of another Beffroi signed of its answers to one of our
    briefs: each answer counted once (a report imported again changes nothing)."""
    ctx.require(Capability.APPROVE)
    document, link = _opened(ctx, data, signing.RESPONSES_FORMAT)
    try:
        brief_key, responses, state = _read_responses(document)
    except ValueError as exc:
        raise _refuse(ctx, "malformed", _PROBLEMS["malformed"](), str(exc)) from exc
    brief = sent_briefs(ctx.organization).filter(key=brief_key).first()
    delivery = (
        BriefDelivery.objects.filter(brief=brief, external_partner=link).first() if brief else None
    )
    if brief is None or delivery is None:
        raise _refuse(
            ctx,
            "not_sent",
            _("This report answers a brief the organization did not send to this partner."),
        )
    posts = {post.key: post for post in brief.posts.all()}
    added = updated = left_out = 0
    with transaction.atomic():
        for given in responses:
            post = posts.get(given["post"])
            if post is None:
                left_out += 1
                continue
            values = {
                "post": post,
                "how": How.IMPORTED,
                "url": given["url"],
                "platform_id": given["platform_id"],
                "answered_by": given["answered_by"],
                "answered_at": given["answered_at"],
            }
            _response, made = BriefResponse.objects.update_or_create(
                delivery=delivery, reference=given["reference"], defaults=values
            )
            added += made
            updated += not made
        if state and state != delivery.state:
            delivery.state = state
            delivery.state_changed_at = timezone.now()
            delivery.save(update_fields=["state", "state_changed_at"])
        _pin(link, document["from"])
        _record(
            ctx,
            AuditAction.BRIEF_RESPONSES_IMPORT,
            brief,
            partner=link.name,
            added=added,
            updated=updated,
            left_out=left_out,
        )
    return ResponsesImported(delivery, added, updated, left_out)
