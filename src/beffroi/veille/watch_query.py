"""Watches run over every ingested item: ``beffroi.analysis.watch_query`` (the query language
and its matcher) applied to the stored items, each match a hit on the watch's timeline, and
the #hashtags of listening watches handed to the sources that follow them."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from django.db import transaction

from beffroi.analysis.watch_query import Watch as WatchSpec
from beffroi.analysis.watch_query import WatchDocument, WatchQueryError
from beffroi.audit.services import Actor
from beffroi.items.models import Item
from beffroi.organizations.models import Organization
from beffroi.veille import series_counts
from beffroi.veille.cursors import advance, new_item_batches
from beffroi.veille.models import Watch, WatchHit

ANALYZER = "watches"


def spec_of(watch: Watch) -> WatchSpec:
    """The watch as the query library knows it; raises WatchQueryError on a bad query."""
    return WatchSpec(
        name=watch.name,
        query=watch.query,
        languages=tuple(watch.languages),
        accounts=tuple(watch.accounts),
        platforms=tuple(watch.platforms),
    )


def document_of(item: Item) -> WatchDocument:
    return WatchDocument(
        text=item.text_as_read,
        author_handle=item.author.handle,
        language=item.language,
        platform=item.platform,
        urls=tuple(str(url) for url in item.urls if isinstance(url, str)),
    )


def _compiled(organization: Organization) -> list[tuple[Watch, WatchSpec]]:
    compiled = []
    for watch in Watch.objects.filter(organization=organization, enabled=True):
        try:
            compiled.append((watch, spec_of(watch)))
        except WatchQueryError:
            continue  # the form refuses such a query; one saved before a change is skipped
    return compiled


def run_watches(organization: Organization) -> int:
    """Match the items no watch has seen yet; returns the number of hits stored."""
    compiled = _compiled(organization)
    made = 0
    for cursor, batch in new_item_batches(organization, ANALYZER):
        hits = []
        if compiled:
            for item in batch:
                document = document_of(item)
                hits += [
                    WatchHit(watch=watch, item=item)
                    for watch, spec in compiled
                    if spec.matches(document)
                ]
        with transaction.atomic():
            # The cursor locked till commit: of a batch read by two passes at once, only one
            # stores and counts the hits.
            fresh = {item.pk for item in series_counts.not_counted_yet(cursor, batch)}
            hits = [hit for hit in hits if hit.item_id in fresh]
            if hits:
                # A watch saved meanwhile (rematch) may have stored and counted some of the
                # batch's hits already: count only the others.
                known = set(
                    WatchHit.objects.filter(
                        watch__in=[watch for watch, _ in compiled],
                        item__gte=batch[0].pk,
                        item__lte=batch[-1].pk,
                    ).values_list("watch_id", "item_id")
                )
                hits = [hit for hit in hits if (hit.watch_id, hit.item_id) not in known]
            WatchHit.objects.bulk_create(hits, ignore_conflicts=True)
            series_counts.increment(
                organization,
                Counter(
                    (hit.watch.series, series_counts.bucket_of(hit.item.created_at)) for hit in hits
                ),
            )
            advance(cursor, batch)
        made += len(hits)
    return made


def rematch(watch: Watch) -> int:
    """Match one (new or edited) watch against every item of its organization; its
    spike counters are rebuilt from the new hits in the same transaction."""
    spec = spec_of(watch)
    made = 0
    hours: Counter[datetime] = Counter()  # the hits' hours, not a list of every hit
    with transaction.atomic():
        WatchHit.objects.filter(watch=watch).delete()
        items = (
            Item.objects.filter(organization=watch.organization)
            .select_related("author")
            .iterator(chunk_size=2000)
        )
        batch: list[WatchHit] = []
        for item in items:
            if spec.matches(document_of(item)):
                batch.append(WatchHit(watch=watch, item=item))
                hours[series_counts.bucket_of(item.created_at)] += 1
            if len(batch) >= 1000:
                WatchHit.objects.bulk_create(batch, ignore_conflicts=True)
                made, batch = made + len(batch), []
        WatchHit.objects.bulk_create(batch, ignore_conflicts=True)
        made += len(batch)
        series_counts.replace(watch.organization, watch.series, hours.elements())
    return made


#: Platforms whose connectors follow the watches' hashtags (Mastodon's tag timelines,
#: Bluesky's Jetstream); both are free to read, unlike X's or YouTube's search quotas.
LISTENING_PLATFORMS = ("mastodon", "bluesky")


def listened_hashtags(organization: Organization) -> list[str]:
    """The #hashtags of the organization's enabled watches that listen on the platforms."""
    tags: set[str] = set()
    for watch in Watch.objects.filter(organization=organization, enabled=True, listen=True):
        try:
            parsed = spec_of(watch).parsed
        except WatchQueryError:
            continue
        if parsed is not None:
            tags |= {term[1:].casefold() for term in parsed.terms() if term.startswith("#")}
    return sorted(tag for tag in tags if _listenable(tag))


def _listenable(tag: str) -> bool:
    """Whether the platforms accept the hashtag (a wildcard or a hyphen they do not)."""
    from beffroi.connectors.base import ConfigurationError
    from beffroi.connectors.mastodon import parse_hashtags

    try:
        return bool(parse_hashtags(tag))
    except ConfigurationError:
        return False


def sync_listening(organization: Organization) -> list[str]:
    """Give the organization's Mastodon and Bluesky sources the hashtags its watches listen
    to (in ``watch_hashtags``, which only the veille writes: the administrator's own
    settings are left alone); the next sync of each source reads them."""
    from beffroi.sources.models import Source
    from beffroi.sources.services import set_watch_hashtags

    tags = listened_hashtags(organization)
    listening = Source.objects.for_org(organization).filter(
        platform__in=LISTENING_PLATFORMS, kind__in=(Source.Kind.ACCOUNT, Source.Kind.WATCH)
    )
    for source in listening:
        set_watch_hashtags(Actor.system("veille"), source, " ".join(tags))
    return tags


def watch_saved(watch: Watch) -> None:
    """A watch was created or edited: it looks at every item, and listens where it should."""
    rematch(watch)
    sync_listening(watch.organization)
