"""One veille pass over an organization: every detector, in order, then the alerts.

Each step is the module named after the analysis module it runs (``watch_query``,
``claims``, ``narratives``, ``coordination``, ``impersonation``, ``spikes``); ``alerting``
makes alerts of their findings and queues their delivery.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from beffroi.organizations.models import Organization
from beffroi.veille import (
    alerting,
    claims,
    coordination,
    impersonation,
    narratives,
    spikes,
    watch_query,
)
from beffroi.veille.cursors import cursor_for
from beffroi.veille.models import ClaimMatch, Cursor

log = logging.getLogger(__name__)


#: The lease of the scan of an organization (the ``veille.scan`` task's): a scan killed with
#: its worker holds the organization this long at most.
LEASE_SECONDS = 1800


@dataclass
class ScanSummary:
    #: Another scan of the organization was running: this one did nothing.
    busy: bool = False
    watch_hits: int = 0
    claim_matches: int = 0
    narrated: int = 0
    campaigns: int = 0
    impersonators: int = 0
    alerts: int = 0
    deliveries: int = 0
    alert_ids: list[int] = field(default_factory=list)


@contextmanager
def exclusive(organization: Organization) -> Iterator[bool]:
    """Whether this process may scan ``organization`` now: one scan per organization at a
    time, whichever worker runs it (two at once would read the same cursors and write over
    each other's findings). The lease is a conditional update of a cursor row holding its
    end (microseconds since the epoch), released at the end; a crashed scan's runs out."""
    cursor_for(organization, "scan-lease")
    now = int(time.time() * 1_000_000)
    until = now + LEASE_SECONDS * 1_000_000
    leases = Cursor.objects.filter(organization=organization, analyzer="scan-lease")
    taken = leases.filter(last_item_id__lt=now).update(last_item_id=until) == 1
    try:
        yield taken
    finally:
        if taken:
            leases.filter(last_item_id=until).update(last_item_id=0)


def scan(
    organization: Organization, now: datetime | None = None, *, full: bool = True
) -> ScanSummary:
    """Bring every finding of ``organization`` up to date with its items, unless another
    scan of it is running (``busy``: the caller asks for one later)."""
    with exclusive(organization) as taken:
        if not taken:
            return ScanSummary(busy=True)
        return _scan(organization, now, full=full)


def _scan(organization: Organization, now: datetime | None, *, full: bool) -> ScanSummary:
    """Bring every finding of ``organization`` up to date with its items.

    ``full=False`` (the scan that follows an ingestion) leaves out the costliest step, the
    search for translated copies across languages, which the hourly full scan does.

    Each step reads only what it has not read yet (its cursor) and writes idempotently, so
    a pass interrupted at any point is finished by the next one, without duplicates.
    """
    now = now or timezone.now()
    summary = ScanSummary()
    summary.watch_hits = watch_query.run_watches(organization)
    matches_before = ClaimMatch.objects.filter(organization=organization).order_by("-pk").first()
    summary.claim_matches = claims.match_items(organization)
    summary.narrated = narratives.update_narratives(organization)
    # What the context says: watches and narratives repeating a claim, the threads under it.
    summary.claim_matches += claims.follow_context(organization)
    found_campaigns = coordination.detect_campaigns(organization, now, translations=full)
    summary.campaigns = len(found_campaigns)
    flags = impersonation.scan_accounts(organization)
    summary.impersonators = len(flags)
    new_matches = ClaimMatch.objects.filter(
        organization=organization, pk__gt=matches_before.pk if matches_before else 0
    ).select_related("item", "claim")
    # No transaction around these: each alert is written on its own (get_or_create), and a
    # long write transaction would hold up moderation on SQLite.
    made = alerting.finding_alerts(organization, found_campaigns, flags, new_matches)
    made += narratives.resurgence_alerts(organization, now)
    made += spikes.detect_spike_alerts(organization, now)
    # One alert per event: findings about the same items join one alert, listing them all.
    made = alerting.group(organization, made)
    summary.deliveries = len(alerting.dispatch(made, now))
    summary.alerts = len(made)
    summary.alert_ids = [alert.pk for alert in made]
    log.info("veille scan of %s: %s", organization.slug, summary)
    return summary
