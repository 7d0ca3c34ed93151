"""One veille pass over an organization: every detector, in order, then the alerts.

Each step is the module named after the analysis module it runs (``watch_query``,
``claims``, ``narratives``, ``coordination``, ``impersonation``, ``spikes``); ``alerting``
makes alerts of their findings and queues their delivery.
"""

from __future__ import annotations

import logging
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
from beffroi.veille.models import ClaimMatch

log = logging.getLogger(__name__)


@dataclass
class ScanSummary:
    watch_hits: int = 0
    claim_matches: int = 0
    narrated: int = 0
    campaigns: int = 0
    impersonators: int = 0
    alerts: int = 0
    deliveries: int = 0
    alert_ids: list[int] = field(default_factory=list)


def scan(
    organization: Organization, now: datetime | None = None, *, full: bool = True
) -> ScanSummary:
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
