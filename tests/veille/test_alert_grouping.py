"""One alert per event: the findings about the same items, at the same time (a campaign,
the spikes of its watch, hashtag and narrative), make one alert that lists them all, is sent
once and acknowledged once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from beffroi.accounts.models import ApiToken
from beffroi.audit.services import Actor
from beffroi.jobs.engine import run_pending
from beffroi.veille import alerting, delivery, scan, services
from beffroi.veille.models import Alert, AlertChannel, AlertDelivery, Watch

pytestmark = pytest.mark.django_db

MESSAGE = (
    "Non à la suppression du parking de la place du marché ! Commerçants et habitants, "
    "signez la pétition #SauvonsLaPlaceDuMarché"
)


def _market_square(post: Callable[..., Any], now: datetime) -> list[Any]:
    """Like the demo's market-square evening: three quiet weeks of everyday talk about the
    market, then a dozen accounts posting the same message with the same hashtag within the
    hour."""
    everyday = [
        "Le marché de samedi était très animé, beaucoup de producteurs locaux.",
        "Quelqu'un sait si le marché est maintenu malgré la pluie annoncée ?",
        "Super fromager au marché ce matin, je recommande vivement.",
        "Les horaires du marché changent-ils pendant les vacances scolaires ?",
        "Difficile de se garer près du marché le dimanche, venez à vélo.",
        "Merci aux bénévoles pour la fête du marché de Noël, très réussie.",
    ]
    start = now - timedelta(days=20)
    for n, text in enumerate(everyday):
        post(text, f"resident{n}", start + timedelta(days=3 * n, hours=n))
    evening = (now - timedelta(hours=3)).replace(minute=5, second=0, microsecond=0)
    return [post(MESSAGE, f"voisin{k}", evening + timedelta(minutes=2 * k)) for k in range(12)]


def _alert(org: Any, key: str, kind: str, when: datetime, items: list[int], **more: Any) -> Alert:
    return Alert.objects.create(
        organization=org,
        key=key,
        kind=kind,
        title=more.pop("title", key),
        started_at=when,
        context={"items": items, **more.pop("context", {})},
        **more,
    )


def test_a_market_square_event_is_one_alert_listing_every_trigger_sent_once(
    org: Any,
    post: Callable[..., Any],
    server: tuple[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    base, handler = server
    AlertChannel.objects.create(organization=org, name="hook", kind="webhook", target=f"{base}/h")
    now = timezone.now()
    Watch.objects.create(organization=org, name="Place du marché", query="marché")
    burst = _market_square(post, now)
    with django_capture_on_commit_callbacks(execute=True):
        summary = scan.scan(org, now)
    open_alerts = Alert.objects.filter(grouped_into=None)
    assert open_alerts.count() == 1, [a.describe() for a in open_alerts]
    alert = open_alerts.get()
    triggers = alert.triggers()
    # The campaign and at least the watch's and the hashtag's spikes: several findings...
    assert {t.kind for t in triggers} >= {Alert.Kind.CAMPAIGN, Alert.Kind.SPIKE}
    series = {t.series for t in triggers}
    assert {"hashtag:sauvonslaplacedumarché"} <= series
    assert any(s.startswith("watch:") for s in series)
    # ... one alert, with every post behind them, counted once.
    assert set(alert.item_ids()) >= {item.pk for item in burst}
    assert len(alert.item_ids()) == len(set(alert.item_ids()))
    assert summary.alerts == 1 and summary.alert_ids == [alert.pk]
    # One message, saying what raised it.
    run_pending()
    posts = [r for r in handler.received if r[0] == "POST"]
    assert len(posts) == 1 and AlertDelivery.objects.count() == 1
    text = posts[0][3]["text"]
    assert "Place du marché" in text and "#sauvonslaplacedumarché" in text
    assert "Coordinated campaign" in text or "Campagne coordonnée" in text
    # A second scan finds nothing new: still one alert, nothing sent again.
    with django_capture_on_commit_callbacks(execute=True):
        scan.scan(org, now)
    run_pending()
    assert Alert.objects.filter(grouped_into=None).count() == 1
    assert len([r for r in handler.received if r[0] == "POST"]) == 1


def test_a_later_finding_on_the_same_items_joins_the_open_alert(org: Any) -> None:
    when = timezone.now() - timedelta(hours=3)
    spike = _alert(org, "spike:watch:1:t", Alert.Kind.SPIKE, when, [1, 2, 3, 4], series="watch:1")
    assert alerting.group(org, [spike]) == [spike]
    # Two hours later a hashtag spike on mostly the same posts: it joins, no new alert.
    later = _alert(
        org, "spike:hashtag:x:t", Alert.Kind.SPIKE, when + timedelta(hours=2), [2, 3, 4, 5]
    )
    assert alerting.group(org, [later]) == [spike]
    later.refresh_from_db()
    assert later.grouped_into == spike
    assert [t.pk for t in spike.triggers()] == [spike.pk, later.pk]
    assert spike.item_ids() == [1, 2, 3, 4, 5]
    assert spike.trigger_kinds() == [Alert.Kind.SPIKE]
    # Grouping again changes nothing (each finding is grouped once).
    assert alerting.group(org, [later]) == []
    assert Alert.objects.get(pk=later.pk).grouped_into_id == spike.pk


def test_other_items_another_day_or_an_acknowledged_alert_make_a_new_alert(org: Any) -> None:
    when = timezone.now() - timedelta(days=5)
    first = _alert(org, "campaign:1", Alert.Kind.CAMPAIGN, when, [1, 2, 3, 4])
    alerting.group(org, [first])
    # Other posts at the same time: another event.
    other = _alert(org, "spike:a", Alert.Kind.SPIKE, when, [7, 8, 9, 10])
    # One shared post out of four is not the same event.
    loose = _alert(org, "spike:b", Alert.Kind.SPIKE, when, [4, 11, 12, 13])
    # The same posts two days later: outside the window.
    late = _alert(org, "spike:c", Alert.Kind.SPIKE, when + timedelta(days=2), [1, 2, 3])
    assert {a.pk for a in alerting.group(org, [other, loose, late])} == {
        other.pk,
        loose.pk,
        late.pk,
    }
    assert not Alert.objects.exclude(grouped_into=None).exists()
    # Acknowledged, an alert is closed: a finding on its posts makes a new alert.
    services.acknowledge_alert(Actor.system(), first)
    again = _alert(org, "spike:d", Alert.Kind.SPIKE, when + timedelta(hours=1), [1, 2, 3])
    assert alerting.group(org, [again]) == [again]
    assert Alert.objects.get(pk=again.pk).grouped_into_id is None


def test_the_same_false_claim_repeated_joins_its_open_alert(org: Any) -> None:
    when = timezone.now() - timedelta(days=3)
    first = _alert(org, "claim:1:a", Alert.Kind.CLAIM, when, [1], context={"claims": [7]})
    again = _alert(
        org, "claim:1:b", Alert.Kind.CLAIM, when + timedelta(hours=17), [2], context={"claims": [7]}
    )
    other = _alert(org, "claim:2:b", Alert.Kind.CLAIM, when, [3], context={"claims": [8]})
    assert alerting.group(org, [first, again, other]) == [first, other]
    assert Alert.objects.get(pk=again.pk).grouped_into_id == first.pk


def test_a_grouped_alert_is_sent_once_saying_what_triggered_it(
    org: Any, server: tuple[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    base, handler = server
    org.language = "en"  # the message is in the organization's language
    org.save()
    # This channel wants campaigns only: the group, raised by a spike, carries a campaign.
    AlertChannel.objects.create(
        organization=org, name="c", kind="webhook", target=f"{base}/c", kinds=["campaign"]
    )
    when = timezone.now() - timedelta(hours=2)
    spike = _alert(
        org,
        "spike:watch:1:t",
        Alert.Kind.SPIKE,
        when,
        [1, 2, 3],
        series="watch:1",
        title="Place du marché",
        observed=15,
        expected=0.4,
    )
    campaign = _alert(
        org,
        "campaign:1",
        Alert.Kind.CAMPAIGN,
        when + timedelta(minutes=5),
        [1, 2, 3],
        title="Non à la suppression",
    )
    told = alerting.group(org, [spike, campaign])
    assert told == [spike]
    with django_capture_on_commit_callbacks(execute=True):
        assert len(alerting.dispatch([spike, campaign])) == 1
    run_pending()
    [sent] = [r for r in handler.received if r[0] == "POST"]
    assert "Spike on the watch “Place du marché” (15 posts against 0.4 expected)" in sent[3]["text"]
    assert "Coordinated campaign: Non à la suppression" in sent[3]["text"]
    assert "Triggered by" in sent[3]["facts"]
    # A later dispatch of either finding sends nothing more.
    assert alerting.dispatch([campaign]) == [] and alerting.dispatch([spike]) == []
    # In French, for a French organization.
    org.language = "fr"
    org.save()
    with translation.override("en"):
        message = delivery.message_for(spike)
    with translation.override("fr"):
        in_french = [t.describe() for t in spike.triggers()]
    assert message.title.startswith("Alerte Beffroi")
    assert all(f"- {sentence}" in message.text for sentence in in_french)


def test_alerts_page_lists_the_triggers_and_a_trigger_leads_to_its_alert(
    org: Any, make_user: Callable[..., Any], verified_client: Callable[[Any], Any]
) -> None:
    user = make_user("sophie", org=org, role="admin")
    client = verified_client(user)
    when = timezone.now() - timedelta(hours=2)
    spike = _alert(
        org, "spike:hashtag:x", Alert.Kind.SPIKE, when, [1, 2], series="hashtag:x", title="#x"
    )
    campaign = _alert(
        org, "campaign:1", Alert.Kind.CAMPAIGN, when, [1, 2], title="Non à la suppression"
    )
    alerting.group(org, [campaign, spike])
    head = Alert.objects.get(grouped_into=None)
    with translation.override("en"):
        page = client.get(
            reverse("veille:alerts", kwargs={"org_slug": org.slug}), HTTP_ACCEPT_LANGUAGE="en"
        ).content.decode()
    assert page.count(reverse("veille:alert", kwargs={"org_slug": org.slug, "pk": head.pk})) == 1
    assert "Spike of the hashtag #x" in page or "Pic du mot-dièse #x" in page
    export = client.get(reverse("veille:alerts", kwargs={"org_slug": org.slug}) + "?format=csv")
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert len(lines) == 2 and lines[0].endswith('"triggered_by"') and "#x" in lines[1]
    member = campaign if head == spike else spike
    response = client.get(reverse("veille:alert", kwargs={"org_slug": org.slug, "pk": member.pk}))
    assert response.status_code == 302 and response["Location"].endswith(f"/{head.pk}/")
    detail = client.get(response["Location"]).content.decode()
    assert "Non à la suppression" in detail and "#x" in detail
    # The API lists one alert with its triggers.
    _token, key = ApiToken.issue(user, "test")
    listed = Client().get(
        f"/api/v1/orgs/{org.slug}/alerts", headers={"Authorization": f"Bearer {key}"}
    )
    assert listed.status_code == 200, listed.content
    [entry] = listed.json()["items"]
    assert entry["id"] == head.pk
    assert {t["id"] for t in entry["triggers"]} == {spike.pk, campaign.pk}
    only = Client().get(
        f"/api/v1/orgs/{org.slug}/alerts?kind=campaign",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert [e["id"] for e in only.json()["items"]] == [head.pk]
    # Acknowledging the alert acknowledges its triggers.
    services.acknowledge_alert(Actor.system(), member)
    assert not Alert.objects.filter(acknowledged_at=None).exists()
