"""Campaigns of coordinated accounts: ``beffroi.analysis.coordination`` run over an
organization's recent items, each campaign it finds stored (and grown as it goes on)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from beffroi.analysis.coordination import Campaign as FoundCampaign
from beffroi.analysis.coordination import Post, detect_coordination
from beffroi.items.models import Item
from beffroi.organizations.models import Organization
from beffroi.veille.cursors import cursor_for, newest_item_id
from beffroi.veille.impersonation import handle_key, own_handles
from beffroi.veille.models import Campaign

ANALYZER = "campaigns"
#: Campaigns are bursts: items older than the new ones by more than this are not looked at
#: again (a campaign already stored still grows when its posts are matched).
OVERLAP = timedelta(hours=24)
#: The first look at an organization with years of imported history stops here.
MAX_HISTORY = timedelta(days=90)
#: Posts further apart than this are not "at the same moment" for co-links and co-posts.
COACTION_SECONDS = 120.0
MIN_ACCOUNTS = 3
#: Copies count as a campaign when MIN_ACCOUNTS accounts post them within this time: the
#: same words from three people weeks apart are a common phrase, not coordination.
BURST = timedelta(hours=24)


def _posts(organization: Organization, since: datetime) -> tuple[list[Post], dict[str, Item]]:
    items = {
        str(item.pk): item
        for item in Item.objects.filter(organization=organization, created_at__gte=since)
        .select_related("author")
        .only("pk", "text", "created_at", "urls", "language", "author_id", "author__handle")
        .iterator(chunk_size=2000)
    }
    posts = [
        Post(
            key,
            str(item.author_id),
            item.text,
            item.created_at,
            tuple(str(url) for url in item.urls if isinstance(url, str)),
            item.language,
        )
        for key, item in items.items()
    ]
    return posts, items


def detect_campaigns(
    organization: Organization, now: datetime | None = None, *, translations: bool = True
) -> list[Campaign]:
    """Look for campaigns among the items around those that came in since the last look;
    returns the campaigns created or grown."""
    now = now or timezone.now()
    # The hourly look with translations has its own cursor: the quicker looks that follow
    # ingestions must not make it skip what it has not seen.
    cursor = cursor_for(organization, f"{ANALYZER}-translated" if translations else ANALYZER)
    newest = newest_item_id(organization)
    if newest <= cursor.last_item_id:
        return []
    # From the oldest new item (an import of an old period is analysed too), with a margin
    # so that a campaign straddling two looks is seen whole; never more than MAX_HISTORY.
    oldest_new = (
        Item.objects.filter(organization=organization, pk__gt=cursor.last_item_id)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    since = max((oldest_new or now) - OVERLAP, now - MAX_HISTORY)
    posts, items = _posts(organization, since)
    # The organization's own accounts answering alike on every network are not a campaign.
    own = own_handles(organization)
    posts = [post for post in posts if handle_key(items[post.id].author.handle) not in own]
    found = detect_coordination(
        posts, min_accounts=MIN_ACCOUNTS, window=COACTION_SECONDS, translations=translations
    )
    changed = []
    text_kinds = ("copy", "reworded", "translated")
    # Text campaigns first: a co-post network over the same posts is the same campaign seen
    # through its timing, so its edges go to that campaign rather than making a second one.
    found.sort(key=lambda campaign: campaign.kind not in text_kinds)
    # Only campaigns with a post not seen at the previous look can have changed.
    fresh = {key for key, item in items.items() if item.pk > cursor.last_item_id}
    found = [campaign for campaign in found if fresh.intersection(campaign.post_ids)]
    with transaction.atomic():
        for campaign in found:
            if campaign.kind == "copost" and _absorbed(organization, campaign, text_kinds):
                continue
            if campaign.kind in text_kinds and _burst_accounts(campaign, items) < MIN_ACCOUNTS:
                continue
            stored = _store(organization, campaign, items)
            if stored is not None:
                changed.append(stored)
        cursor.last_item_id = newest
        cursor.save(update_fields=["last_item_id", "updated_at"])
    return changed


def _burst_accounts(found: FoundCampaign, items: dict[str, Item]) -> int:
    """The most distinct accounts that posted the campaign's text within one BURST."""
    posts = sorted(
        (items[key].created_at, items[key].author_id) for key in found.post_ids if key in items
    )
    best = start = 0
    for end in range(len(posts)):
        while posts[end][0] - posts[start][0] > BURST:
            start += 1
        best = max(best, len({author for _, author in posts[start : end + 1]}))
    return best


def _absorbed(organization: Organization, found: FoundCampaign, kinds: tuple[str, ...]) -> bool:
    """Whether a text campaign already holds every post of ``found``; it then takes its edges."""
    ids = [int(key) for key in found.post_ids]
    holder = (
        Campaign.objects.filter(organization=organization, kind__in=kinds, items__in=ids)
        .order_by("pk")
        .first()
    )
    if holder is None or holder.items.filter(pk__in=ids).count() < len(set(ids)):
        return False
    holder.edges = [list(edge) for edge in found.edges[:500]]
    holder.save(update_fields=["edges", "updated_at"])
    return True


def _store(
    organization: Organization, found: FoundCampaign, items: dict[str, Item]
) -> Campaign | None:
    members = [items[key] for key in found.post_ids if key in items]
    if not members:
        return None
    item_ids = [item.pk for item in members]
    author_ids = sorted({item.author_id for item in members})
    # A campaign seen again (grown, or partly out of the window) is the one that shares items.
    existing = (
        Campaign.objects.filter(organization=organization, kind=found.kind, items__in=item_ids)
        .order_by("pk")
        .first()
    )
    first = min(item.created_at for item in members)
    last = max(item.created_at for item in members)
    edges = [list(edge) for edge in found.edges[:500]]
    if existing is None:
        earliest = min(members, key=lambda item: (item.created_at, item.pk))
        campaign, created = Campaign.objects.get_or_create(
            organization=organization,
            key=f"{found.kind}:{earliest.pk}",
            defaults={
                "kind": found.kind,
                "shared": "\n".join(found.shared)[:5000],
                "first_at": first,
                "last_at": last,
                "edges": edges,
            },
        )
    else:
        campaign, created = existing, False
    before = (campaign.item_count, campaign.account_count)
    campaign.items.add(*item_ids)
    campaign.authors.add(*author_ids)
    campaign.item_count = campaign.items.count()
    campaign.account_count = campaign.authors.count()
    campaign.first_at = min(campaign.first_at, first)
    campaign.last_at = max(campaign.last_at, last)
    if edges:
        campaign.edges = edges
    campaign.save()
    if created or (campaign.item_count, campaign.account_count) != before:
        return campaign
    return None
