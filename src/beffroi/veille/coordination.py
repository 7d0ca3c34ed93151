"""Campaigns of coordinated accounts: ``beffroi.analysis.coordination`` run over an
organization's recent items, each campaign it finds stored (and grown as it goes on).

The detector looks at a sliding window (the new items and the day before them). Each item
is fingerprinted once (normalised text, its MinHash signature, normalised links) into a
:class:`~beffroi.veille.models.CoordinationPost`, stored in the transaction that advances
the cursor; a scan reads the window's fingerprints rather than its items, so that what it
normalises and shingles is its new items only. Rows that leave the window are deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from beffroi.analysis.coordination import Campaign as FoundCampaign
from beffroi.analysis.coordination import (
    Fingerprint,
    Post,
    detect_coordination_fingerprinted,
    fingerprint,
)
from beffroi.items.models import Author, Item
from beffroi.organizations.models import Organization
from beffroi.veille.cursors import cursor_for, newest_item_id
from beffroi.veille.impersonation import handle_key, own_handles
from beffroi.veille.models import Campaign, CoordinationPost

ANALYZER = "campaigns"
#: Campaigns are bursts: items older than the new ones by more than this are not looked at
#: again (a campaign already stored still grows when its posts are matched).
OVERLAP = timedelta(hours=24)
#: The first look at an organization with years of imported history stops here.
MAX_HISTORY = timedelta(days=90)
#: Fingerprints are kept this long beyond OVERLAP, so that items that arrive late (a sync
#: that catches up) still find their window stored.
PRUNE_MARGIN = timedelta(hours=6)
#: Posts further apart than this are not "at the same moment" for co-links and co-posts.
COACTION_SECONDS = 120.0
MIN_ACCOUNTS = 3
#: Normalised texts shorter than this are too common to mean anything (the detector's
#: default); changing it, or the signature's size, means deleting the stored fingerprints.
MIN_CHARS = 25
#: Copies count as a campaign when MIN_ACCOUNTS accounts post them within this time: the
#: same words from three people weeks apart are a common phrase, not coordination.
BURST = timedelta(hours=24)
#: Item ids per query when texts are read back (SQLite allows 999 parameters by default).
TEXT_CHUNK = 500


class _Member(NamedTuple):
    """What storing a campaign needs of one of its posts."""

    pk: int
    author_id: int
    created_at: datetime


def _missing_fingerprints(
    organization: Organization, since: datetime, newest: int, now: datetime
) -> list[CoordinationPost]:
    """Fingerprints (not saved) of the window's items that have none: the new items, and
    the neighbours of an import of an old period or, after an upgrade, the whole window."""
    items = list(
        Item.objects.filter(
            organization=organization,
            created_at__gte=since,
            pk__lte=newest,
            coordination_post__isnull=True,
        )
        .order_by()
        .only("pk", "text", "created_at", "urls", "language", "author_id")
        .iterator(chunk_size=2000)
    )
    prints = fingerprint(
        [
            Post(
                str(item.pk),
                str(item.author_id),
                item.text,
                item.created_at,
                tuple(str(url) for url in item.urls if isinstance(url, str)),
                item.language,
            )
            for item in items
        ],
        min_chars=MIN_CHARS,
    )
    return [
        CoordinationPost(
            organization=organization,
            item_id=item.pk,
            author_id=item.author_id,
            created_at=item.created_at,
            text_key=found.text_key,
            signature=found.signature,
            urls=list(found.urls),
            language=item.language,
            stored_at=now,
        )
        for item, found in zip(items, prints, strict=True)
    ]


def _window(
    organization: Organization,
    since: datetime,
    newest: int,
    fresh: Iterable[CoordinationPost],
    left_out: set[int],
) -> list[Fingerprint]:
    """The window's fingerprints, stored and ``fresh``, newest first (the items' order),
    without the posts of the authors ``left_out``."""
    fields = ("item_id", "author_id", "created_at", "text_key", "signature", "urls")
    rows = list(
        CoordinationPost.objects.filter(
            organization=organization, created_at__gte=since, item_id__lte=newest
        )
        .order_by("-created_at", "-item_id")
        .values_list(*fields)
        .iterator(chunk_size=5000)
    )
    rows.extend(tuple(getattr(row, name) for name in fields) for row in fresh)
    # Mostly sorted already: the fresh rows are merged in one pass.
    rows.sort(key=lambda row: (row[2], row[0]), reverse=True)
    return [
        Fingerprint(str(item_id), str(author_id), created_at, key, bytes(signature), tuple(urls))
        for item_id, author_id, created_at, key, signature, urls in rows
        if author_id not in left_out
    ]


def _own_authors(organization: Organization) -> set[int]:
    """Ids of the authors that are the organization's own accounts."""
    own = own_handles(organization)
    if not own:
        return set()
    near = Q()
    for key in own:
        near |= Q(handle__icontains=key)
    return {
        pk
        for pk, handle in Author.objects.filter(organization=organization)
        .filter(near)
        .values_list("pk", "handle")
        if handle_key(handle) in own
    }


def _original_texts(post_ids: Sequence[str]) -> list[str]:
    """The texts of these items (what a campaign shows, what gets embedded)."""
    ids = [int(key) for key in post_ids]
    texts: dict[int, str] = {}
    for start in range(0, len(ids), TEXT_CHUNK):
        chunk = ids[start : start + TEXT_CHUNK]
        texts.update(Item.objects.filter(pk__in=chunk).order_by().values_list("pk", "text"))
    return [texts.get(pk, "") for pk in ids]


def _prune(organization: Organization, now: datetime) -> int:
    """Delete the fingerprints no window will read again; an old period imported lately
    keeps its rows for OVERLAP (the rest of the import comes in the next scans)."""
    deleted, _ = (
        CoordinationPost.objects.filter(
            organization=organization, created_at__lt=now - OVERLAP - PRUNE_MARGIN
        )
        .filter(Q(created_at__lt=now - MAX_HISTORY) | Q(stored_at__lt=now - OVERLAP))
        .delete()
    )
    return deleted


def detect_campaigns(
    organization: Organization, now: datetime | None = None, *, translations: bool = True
) -> list[Campaign]:
    """Look for campaigns among the items around those that came in since the last look;
    returns the campaigns created or grown."""
    now = now or timezone.now()
    # The hourly look with translations has its own cursor: the quicker looks that follow
    # ingestions must not make it skip what it has not seen. Both share the fingerprints.
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
    missing = _missing_fingerprints(organization, since, newest, now)
    # The organization's own accounts answering alike on every network are not a campaign.
    prints = _window(organization, since, newest, missing, _own_authors(organization))
    # Only campaigns with a post not seen at the previous look can have changed.
    fresh = {fp.id for fp in prints if int(fp.id) > cursor.last_item_id}
    found = detect_coordination_fingerprinted(
        prints,
        _original_texts,
        min_accounts=MIN_ACCOUNTS,
        window=COACTION_SECONDS,
        translations=translations,
        involving=fresh,
    )
    shown = {key for campaign in found for key in campaign.post_ids}
    members = {
        fp.id: _Member(int(fp.id), int(fp.account), fp.created_at)
        for fp in prints
        if fp.id in shown
    }
    del prints
    changed = []
    text_kinds = ("copy", "reworded", "translated")
    # Text campaigns first: a co-post network over the same posts is the same campaign seen
    # through its timing, so its edges go to that campaign rather than making a second one.
    found.sort(key=lambda campaign: campaign.kind not in text_kinds)
    with transaction.atomic():
        # With the cursor's advance: a look that fails stores no fingerprint either. Another
        # look (the other cursor) may have stored some meanwhile: the same, kept.
        CoordinationPost.objects.bulk_create(missing, batch_size=1000, ignore_conflicts=True)
        for campaign in found:
            if campaign.kind == "copost" and _absorbed(organization, campaign, text_kinds):
                continue
            if campaign.kind in text_kinds and _burst_accounts(campaign, members) < MIN_ACCOUNTS:
                continue
            stored = _store(organization, campaign, members)
            if stored is not None:
                changed.append(stored)
        _prune(organization, now)
        cursor.last_item_id = newest
        cursor.save(update_fields=["last_item_id", "updated_at"])
    return changed


def _burst_accounts(found: FoundCampaign, members: Mapping[str, _Member]) -> int:
    """The most distinct accounts that posted the campaign's text within one BURST."""
    posts = sorted(
        (members[key].created_at, members[key].author_id)
        for key in found.post_ids
        if key in members
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
    organization: Organization, found: FoundCampaign, members: Mapping[str, _Member]
) -> Campaign | None:
    posts = [members[key] for key in found.post_ids if key in members]
    if not posts:
        return None
    item_ids = [post.pk for post in posts]
    author_ids = sorted({post.author_id for post in posts})
    # A campaign seen again (grown, or partly out of the window) is the one that shares items.
    existing = (
        Campaign.objects.filter(organization=organization, kind=found.kind, items__in=item_ids)
        .order_by("pk")
        .first()
    )
    first = min(post.created_at for post in posts)
    last = max(post.created_at for post in posts)
    edges = [list(edge) for edge in found.edges[:500]]
    if existing is None:
        earliest = min(posts, key=lambda post: (post.created_at, post.pk))
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
