"""Alerts of the other findings (new campaigns, impersonators, repeated false claims) and
the delivery of every fresh alert to the channels that want it (once per alert and channel).

It wraps no analysis module: spikes are ``spikes.py``'s, resurgences ``narratives.py``'s; this
module makes alerts of what the other steps found and hands them to ``delivery.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from beffroi.organizations.models import Organization
from beffroi.veille.models import (
    Alert,
    AlertChannel,
    AlertDelivery,
    Campaign,
    ClaimMatch,
    ImpersonationFlag,
)

#: Older alerts are stored (so the history shows them) but not sent to anyone.
FRESH = timedelta(hours=24)
#: Items kept in an alert's context.
CONTEXT_ITEMS = 50


def finding_alerts(
    organization: Organization,
    campaigns: Iterable[Campaign] = (),
    flags: Iterable[ImpersonationFlag] = (),
    claim_matches: Iterable[ClaimMatch] = (),
) -> list[Alert]:
    """Alerts for new campaigns, impersonators and repeated false claims."""
    made = []
    for campaign in campaigns:
        made.append(
            _finding(
                organization,
                f"campaign:{campaign.pk}",
                Alert.Kind.CAMPAIGN,
                str(campaign)[:300],
                campaign.first_at,
                campaign.item_count,
                {
                    "campaign": campaign.pk,
                    "items": list(campaign.items.values_list("pk", flat=True)[:CONTEXT_ITEMS]),
                    "accounts": [
                        [h, 1] for h in campaign.authors.values_list("handle", flat=True)[:10]
                    ],
                },
            )
        )
    for flag in flags:
        made.append(
            _finding(
                organization,
                f"impersonation:{flag.pk}",
                Alert.Kind.IMPERSONATION,
                f"@{flag.author.handle} → {flag.identity.name}"[:300],
                _first_post(flag),
                1,
                {"flag": flag.pk, "accounts": [[flag.author.handle, 1]]},
            )
        )
    by_claim: dict[tuple[int, str], list[ClaimMatch]] = {}
    for match in claim_matches:
        day = timezone.localtime(match.item.created_at).date().isoformat()
        by_claim.setdefault((match.claim_id, day), []).append(match)
    for (claim_id, day), matches in by_claim.items():
        first = min(matches, key=lambda m: m.item.created_at)
        made.append(
            _finding(
                organization,
                f"claim:{claim_id}:{day}",
                Alert.Kind.CLAIM,
                first.claim.statement[:300],
                first.item.created_at,
                len(matches),
                {"claims": [claim_id], "items": [m.item_id for m in matches][:CONTEXT_ITEMS]},
            )
        )
    return [alert for alert in made if alert is not None]


def _first_post(flag: ImpersonationFlag) -> datetime:
    first = flag.author.items.order_by("created_at").values_list("created_at", flat=True).first()
    return first or flag.author.first_seen_at


def _finding(
    organization: Organization,
    key: str,
    kind: str,
    title: str,
    started_at: datetime,
    observed: int,
    context: dict[str, Any],
) -> Alert | None:
    alert, created = Alert.objects.get_or_create(
        organization=organization,
        key=key,
        defaults={
            "kind": kind,
            "title": title,
            "started_at": started_at,
            "observed": observed,
            "context": context,
        },
    )
    if not created and kind == Alert.Kind.CLAIM:
        alert.observed = max(alert.observed, observed)
        alert.save(update_fields=["observed"])
    return alert if created else None


def dispatch(alerts: Iterable[Alert], now: datetime | None = None) -> list[AlertDelivery]:
    """Queue each fresh alert for each channel that wants its kind (once per pair)."""
    from beffroi.veille.queue import request_delivery

    now = now or timezone.now()
    queued = []
    for alert in alerts:
        moment = alert.ended_at or alert.started_at
        if moment < now - FRESH:
            continue
        for channel in AlertChannel.objects.filter(organization=alert.organization, enabled=True):
            if not channel.wants(alert.kind):
                continue
            delivery, created = AlertDelivery.objects.get_or_create(alert=alert, channel=channel)
            if created:
                queued.append(delivery)
                transaction.on_commit(partial(request_delivery, delivery.pk))
    return queued
