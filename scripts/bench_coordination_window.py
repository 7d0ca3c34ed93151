"""One campaigns scan over a window of stored posts with a few new ones: the old path (every
item of the window read and fingerprinted again) against the persisted window.

A synthetic corpus (``beffroi.analysis.coordination_bench``, injected copies, rewordings and
link bursts) is laid over the last 23 hours and written in bulk; a first scan fingerprints the
window; then ``--new`` items arrive and one scan is timed each way, each inside a transaction
rolled back afterwards, so that both see the same state (the best of ``--repeat``).

    BEFFROI_HOME=$(mktemp -d) .venv/bin/python scripts/bench_coordination_window.py \
        --window 30000 --new 500

Runs on a fresh SQLite file in ``BEFFROI_HOME``, or on ``DATABASE_URL`` (a scratch
database: it is migrated and filled).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beffroi.web.settings")
os.environ.setdefault("BEFFROI_SECRET_KEY", "bench-only-not-a-secret")


class _Rollback(Exception):
    pass


def _timed(step: Callable[[], Any]) -> tuple[float, Any]:
    from django.db import transaction

    result: Any = None
    start = time.perf_counter()
    try:
        with transaction.atomic():
            result = step()
            elapsed = time.perf_counter() - start
            raise _Rollback
    except _Rollback:
        pass
    return elapsed, result


def _old_scan(organization: Any, now: datetime) -> list[Any]:
    """The scan as it was before the window was stored (issue 19): every item since the
    oldest new one minus OVERLAP read, made into posts and given to ``detect_coordination``."""
    from django.db import transaction

    from beffroi.analysis.coordination import Post, detect_coordination
    from beffroi.items.models import Item
    from beffroi.veille import coordination as c
    from beffroi.veille.cursors import cursor_for, newest_item_id
    from beffroi.veille.impersonation import handle_key, own_handles

    cursor = cursor_for(organization, c.ANALYZER)
    newest = newest_item_id(organization)
    oldest_new = (
        Item.objects.filter(organization=organization, pk__gt=cursor.last_item_id)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    since = max((oldest_new or now) - c.OVERLAP, now - c.MAX_HISTORY)
    items = {
        str(item.pk): item
        for item in Item.objects.filter(organization=organization, created_at__gte=since)
        .select_related("author")
        .only("pk", "text", "created_at", "urls", "language", "author_id", "author__handle")
        .iterator(chunk_size=2000)
    }
    own = own_handles(organization)
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
        if handle_key(item.author.handle) not in own
    ]
    found = detect_coordination(
        posts, min_accounts=c.MIN_ACCOUNTS, window=c.COACTION_SECONDS, translations=False
    )
    members = {key: c._Member(i.pk, i.author_id, i.created_at) for key, i in items.items()}
    text_kinds = ("copy", "reworded", "translated")
    found.sort(key=lambda campaign: campaign.kind not in text_kinds)
    fresh = {key for key, item in items.items() if item.pk > cursor.last_item_id}
    found = [campaign for campaign in found if fresh.intersection(campaign.post_ids)]
    changed = []
    with transaction.atomic():
        for campaign in found:
            if campaign.kind == "copost" and c._absorbed(organization, campaign, text_kinds):
                continue
            if (
                campaign.kind in text_kinds
                and c._burst_accounts(campaign, members) < c.MIN_ACCOUNTS
            ):
                continue
            stored = c._store(organization, campaign, members)
            if stored is not None:
                changed.append(stored)
        cursor.last_item_id = newest
        cursor.save(update_fields=["last_item_id", "updated_at"])
    return changed


def _write(organization: Any, source: Any, posts: list[Any], authors: dict[str, Any]) -> None:
    from beffroi.items.models import Author, Item

    wanted = sorted({p.account for p in posts} - set(authors))
    Author.objects.bulk_create(
        [
            Author(organization=organization, platform="file", platform_id=a, handle=a)
            for a in wanted
        ],
        batch_size=2000,
    )
    authors.update(
        (author.handle, author)
        for author in Author.objects.filter(organization=organization, handle__in=wanted)
    )
    Item.objects.bulk_create(
        [
            Item(
                organization=organization,
                source=source,
                platform="file",
                platform_id=p.id,
                kind="post",
                author=authors[p.account],
                text=p.text,
                language=p.language or "fr",
                created_at=p.created_at,
                urls=list(p.urls),
            )
            for p in posts
        ],
        batch_size=2000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=int, default=30_000)
    parser.add_argument("--new", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import django

    django.setup()
    from dataclasses import replace

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from beffroi.analysis.coordination_bench import synthetic_corpus
    from beffroi.organizations.models import Organization
    from beffroi.sources.models import Source
    from beffroi.veille import coordination
    from beffroi.veille.models import Campaign, CoordinationPost

    call_command("migrate", verbosity=0)
    now = timezone.now()
    corpus = synthetic_corpus(args.window + args.new, seed=0, translation_campaigns=0)
    ordered = sorted(corpus.posts, key=lambda p: p.created_at)
    first, last = ordered[0].created_at, ordered[-1].created_at
    scale = timedelta(hours=22) / (last - first)
    posts = [
        replace(p, created_at=now - timedelta(hours=23) + (p.created_at - first) * scale)
        for p in ordered
    ]
    organization = Organization.objects.create(slug="bench-window", name="Bench window")
    source = Source.objects.create(
        organization=organization, name="Import", platform="file", kind="import"
    )
    authors: dict[str, Any] = {}
    _write(organization, source, posts[: args.window], authors)
    start = time.perf_counter()
    coordination.detect_campaigns(organization, now, translations=False)
    first_scan = time.perf_counter() - start
    stored = CoordinationPost.objects.filter(organization=organization).count()
    campaigns = Campaign.objects.filter(organization=organization).count()
    _write(organization, source, posts[args.window :], authors)

    old = [_timed(lambda: _old_scan(organization, now)) for _ in range(args.repeat)]
    new = [
        _timed(lambda: coordination.detect_campaigns(organization, now, translations=False))
        for _ in range(args.repeat)
    ]
    old_changed = {(c.kind, c.key, c.item_count) for c in old[0][1]}
    new_changed = {(c.kind, c.key, c.item_count) for c in new[0][1]}
    print(f"database: {connection.vendor}")
    print(
        f"first scan, fingerprinting {stored} stored posts: {first_scan:.2f} s ({campaigns} campaigns)"
    )
    print(
        f"scan with {args.new} new posts, old path (best of {args.repeat}): {min(t for t, _ in old):.2f} s"
    )
    print(
        f"scan with {args.new} new posts, persisted window (best of {args.repeat}): {min(t for t, _ in new):.2f} s"
    )
    print(
        f"campaigns created or grown: old {len(old_changed)}, new {len(new_changed)}, same: {old_changed == new_changed}"
    )


if __name__ == "__main__":
    main()
