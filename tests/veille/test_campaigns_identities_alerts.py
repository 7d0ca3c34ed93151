"""Campaigns, impersonators and spike alerts found in an organization's items, stored once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from beffroi.audit.services import Actor
from beffroi.veille import coordination, impersonation, services, spikes
from beffroi.veille.models import (
    Alert,
    Campaign,
    ImpersonationFlag,
    ProtectedIdentity,
    Watch,
    WatchHit,
)

pytestmark = pytest.mark.django_db

MESSAGE = "Non au parking sur la place du marché ! Signez la pétition et partagez #SauvonsLePlace"


def test_copy_paste_campaign_is_found_stored_once_and_grows(
    org: Any, post: Callable[..., Any]
) -> None:
    start = timezone.now() - timedelta(hours=3)
    for n in range(5):
        post(MESSAGE, f"acct{n}", start + timedelta(minutes=3 * n))
    post("Bonne journée à tous, le marché était super ce matin", "other", start)
    found = coordination.detect_campaigns(org)
    assert len(found) == 1
    campaign = Campaign.objects.get()
    assert campaign.kind == Campaign.Kind.COPY
    assert (campaign.account_count, campaign.item_count) == (5, 5)
    assert "parking" in campaign.shared
    # Nothing new: nothing is looked at again. A sixth account joins the same campaign.
    assert coordination.detect_campaigns(org) == []
    post(MESSAGE, "acct5", start + timedelta(minutes=30))
    grown = coordination.detect_campaigns(org)
    assert [c.pk for c in grown] == [campaign.pk]
    campaign.refresh_from_db()
    assert (campaign.account_count, Campaign.objects.count()) == (6, 1)


def test_impersonators_are_flagged_unless_genuine_and_reports_are_ready(
    org: Any, post: Callable[..., Any]
) -> None:
    identity = ProtectedIdentity.objects.create(
        organization=org, name="Claire Dumas", handles=["claire_dumas"], allowed=["dumas_fanclub"]
    )
    post("Bonjour", "claire_dumas", display_name="Claire Dumas")
    post("Aide de 250 €", "claire_dumas_maire", display_name="Claire Dumas - Maire")
    post("Vive la maire", "dumas_fanclub", display_name="Claire Dumas fan club")
    post("Bonjour", "cl4ire_dumas", display_name="Cl4ire Dumas")
    post("Bonjour", "jean_martin", display_name="Jean Martin")
    flags = impersonation.scan_accounts(org)
    assert {flag.author.handle for flag in flags} == {"claire_dumas_maire", "cl4ire_dumas"}
    assert impersonation.scan_accounts(org) == []
    flag = ImpersonationFlag.objects.get(author__handle="claire_dumas_maire")
    report = impersonation.report_text(flag)
    assert "@claire_dumas_maire" in report and "Claire Dumas" in report
    assert "claire_dumas" in report  # the official account is named
    # Found legitimate: the account joins the allow-list and is never flagged again.
    services.decide_impersonation(Actor.system(), flag, ImpersonationFlag.Status.ALLOWED)
    identity.refresh_from_db()
    assert "claire_dumas_maire" in identity.allowed
    impersonation.identities_changed(org)
    ImpersonationFlag.objects.all().delete()
    assert {f.author.handle for f in impersonation.scan_accounts(org)} == {"cl4ire_dumas"}


def _series(post: Callable[..., Any], now: datetime) -> None:
    """Three quiet weeks (one post every six hours), then fifteen posts in one night hour."""
    moment = now - timedelta(days=21)
    n = 0
    while moment < now - timedelta(days=2):
        post(f"eau du robinet, message {n}", f"resident{n % 7}", moment)
        moment += timedelta(hours=6)
        n += 1
    night = (now - timedelta(days=1)).replace(hour=3, minute=5, second=0, microsecond=0)
    for k in range(15):
        post(f"l'eau est contaminée ! {k}", f"echo{k}", night + timedelta(minutes=3 * k))


def test_a_burst_on_a_watch_raises_one_alert_with_its_context(
    org: Any, post: Callable[..., Any]
) -> None:
    from beffroi.veille import watch_query

    now = timezone.now()
    watch = Watch.objects.create(organization=org, name="Eau", query="eau")
    _series(post, now)
    watch_query.run_watches(org)
    assert WatchHit.objects.filter(watch=watch).count() > 80
    made = spikes.detect_spike_alerts(org, now)
    on_watch = [a for a in made if a.series == watch.series]
    assert len(on_watch) == 1
    alert = on_watch[0]
    assert alert.kind == Alert.Kind.SPIKE and alert.title == "Eau"
    assert alert.observed >= 10 and alert.expected < 3
    assert len(alert.context["items"]) >= 10
    assert {handle for handle, _ in alert.context["accounts"]} <= {f"echo{k}" for k in range(15)}
    # Nothing new: the series are not read again.
    assert spikes.detect_spike_alerts(org, now) == []
    # A late post lands in the burst's hour: the series are read again, and the same burst
    # is the same alert, updated, never a second one.
    late = post("l'eau, encore", "echo99", alert.started_at + timedelta(minutes=1))
    watch_query.run_watches(org)
    assert WatchHit.objects.filter(watch=watch, item=late).exists()
    again = spikes.detect_spike_alerts(org, now)
    assert [a for a in again if a.series == watch.series] == []
    assert Alert.objects.filter(series=watch.series).count() == 1
    alert.refresh_from_db()
    assert alert.observed >= 16


def test_quiet_series_raise_no_alert(org: Any, post: Callable[..., Any]) -> None:
    from beffroi.veille import watch_query

    now = timezone.now()
    Watch.objects.create(organization=org, name="Eau", query="eau")
    moment = now - timedelta(days=21)
    n = 0
    while moment < now:
        post(f"eau du robinet {n}", f"r{n % 5}", moment)
        moment += timedelta(hours=5)
        n += 1
    watch_query.run_watches(org)
    assert spikes.detect_spike_alerts(org, now) == []


def test_hashtag_series_count_the_whole_tag_only(org: Any, post: Callable[..., Any]) -> None:
    now = timezone.now()
    for n in range(4):
        post(f"Coupure #eau ce matin {n}", f"a{n}", now - timedelta(hours=n + 1))
    post("Réunion #EauSaintAubin ce soir", "b", now - timedelta(hours=2))
    post("#EAU trouble", "c", now - timedelta(hours=3))
    series = {s.key: s for s in spikes.series_of(org, now - timedelta(days=7))}
    assert series["hashtag:eau"].items.count() == 5
    assert series["hashtag:eausaintaubin"].items.count() == 1
