"""Alerts of the other findings (new campaigns, impersonators, repeated false claims), the
grouping of findings about the same items into one alert, and the delivery of every fresh
alert to the channels that want it (once per alert and channel).

It wraps no analysis module: spikes are ``spikes.py``'s, resurgences ``narratives.py``'s; this
module makes alerts of what the other steps found and hands them to ``delivery.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Q
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
#: A finding joins an open alert about the same items when it comes within this of the
#: alert's triggers: one market-square evening is one alert, not a watch spike, a hashtag
#: spike, a narrative spike and a campaign.
GROUP_WINDOW = timedelta(hours=24)


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
                {
                    "flag": flag.pk,
                    "accounts": [[flag.author.handle, 1]],
                    # Its posts, so that an alert about them (a claim, a spike) takes it in.
                    "items": list(
                        flag.author.items.order_by("created_at").values_list("pk", flat=True)[
                            :CONTEXT_ITEMS
                        ]
                    ),
                },
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


class _Group:
    """An open alert and what its triggers are about, while findings are being grouped."""

    def __init__(self, head: Alert) -> None:
        self.head = head
        self.items: set[int] = set()
        self.claims: set[int] = set()
        self.campaigns: set[int] = set()
        self.start = head.started_at
        self.end = head.started_at
        for trigger in head.triggers():
            self.take(trigger)

    def take(self, alert: Alert) -> None:
        context = alert.context or {}
        self.items.update(int(pk) for pk in context.get("items") or [])
        self.claims.update(int(pk) for pk in context.get("claims") or [])
        if context.get("campaign"):
            self.campaigns.add(int(context["campaign"]))
        start, end = _span(alert)
        self.start, self.end = min(self.start, start), max(self.end, end)

    def shares(self, alert: Alert) -> int:
        """How much ``alert`` is about what this group is about (0: not the same event)."""
        start, end = _span(alert)
        if start > self.end + GROUP_WINDOW or end < self.start - GROUP_WINDOW:
            return 0
        context = alert.context or {}
        items = {int(pk) for pk in context.get("items") or []}
        shared = len(items & self.items)
        # Most of the smaller side: a busy watch's spike and the ten posts of a campaign in
        # it are one event; two spikes that share one post among fifty are not.
        if shared and 2 * shared >= min(len(items), len(self.items)):
            return shared
        if self.claims & {int(pk) for pk in context.get("claims") or []}:
            return 1
        if context.get("campaign") and int(context["campaign"]) in self.campaigns:
            return 1
        return 0


def _span(alert: Alert) -> tuple[datetime, datetime]:
    return alert.started_at, max(alert.started_at, alert.ended_at or alert.started_at)


def group(organization: Organization, made: Iterable[Alert]) -> list[Alert]:
    """Join each new finding to the open alert about the same items, within
    :data:`GROUP_WINDOW`, or let it stand as an alert of its own.

    Returns the alerts to tell people about: those new ones that stand on their own, and
    the open ones that a finding joined (their channels may want the new trigger's kind).
    Each finding is grouped once, when it is made (the detectors make each finding once),
    so a scan run again groups nothing twice.
    """
    fresh = sorted(
        (a for a in made if a.grouped_into_id is None),
        key=lambda a: (a.started_at, a.pk),
    )
    if not fresh:
        return []
    since = fresh[0].started_at - GROUP_WINDOW
    # The open alerts whose triggers may come within the window of the new findings.
    recent = (
        Q(started_at__gte=since)
        | Q(ended_at__gte=since)
        | Q(joined__started_at__gte=since)
        | Q(joined__ended_at__gte=since)
    )
    heads = (
        Alert.objects.filter(organization=organization, grouped_into=None, acknowledged_at=None)
        .filter(recent)
        .exclude(pk__in=[a.pk for a in fresh])
        .distinct()
        .order_by("started_at", "pk")
    )
    groups = [_Group(head) for head in heads]
    told: dict[int, Alert] = {}
    for alert in fresh:
        best = max(groups, key=lambda g: g.shares(alert), default=None)
        if best is None or best.shares(alert) == 0:
            groups.append(_Group(alert))
            told[alert.pk] = alert
            continue
        alert.grouped_into = best.head
        alert.save(update_fields=["grouped_into"])
        best.take(alert)
        told.setdefault(best.head.pk, best.head)
    return list(told.values())


def dispatch(alerts: Iterable[Alert], now: datetime | None = None) -> list[AlertDelivery]:
    """Queue each fresh alert for each channel that wants one of its triggers' kinds (once
    per alert and channel: an alert that a later finding joins is not sent again)."""
    from beffroi.veille.queue import request_delivery

    now = now or timezone.now()
    queued = []
    heads: dict[int, Alert] = {}
    for alert in alerts:
        head = alert.grouped_into or alert
        heads.setdefault(head.pk, head)
    for alert in heads.values():
        triggers = alert.triggers()
        moment = max(_span(trigger)[1] for trigger in triggers)
        if moment < now - FRESH:
            continue
        kinds = {trigger.kind for trigger in triggers}
        for channel in AlertChannel.objects.filter(organization=alert.organization, enabled=True):
            if not any(channel.wants(kind) for kind in kinds):
                continue
            delivery, created = AlertDelivery.objects.get_or_create(alert=alert, channel=channel)
            if created:
                queued.append(delivery)
                transaction.on_commit(partial(request_delivery, delivery.pk))
    return queued
