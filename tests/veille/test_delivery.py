"""Alerts reach a webhook receiver, a Matrix room and a local SMTP server through the task
engine, once per alert and channel, with retries on rate limits."""

from __future__ import annotations

from email.message import Message
from typing import Any

import pytest
from django.utils import timezone

from beffroi.jobs.engine import run_pending
from beffroi.jobs.models import Job
from beffroi.veille import alerting
from beffroi.veille.models import Alert, AlertChannel, AlertDelivery
from tests.fakes.alert_receivers import TOKEN

pytestmark = pytest.mark.django_db


def _alert(org: Any, key: str = "spike:watch:1:x") -> Alert:
    return Alert.objects.create(
        organization=org,
        kind=Alert.Kind.SPIKE,
        key=key,
        series="watch:1",
        title="Eau du robinet",
        started_at=timezone.now(),
        observed=12,
        expected=1.5,
        context={"accounts": [["echo1", 3]]},
    )


def test_one_alert_reaches_every_channel_once(
    org: Any,
    server: tuple[str, Any],
    smtp_server: tuple[int, list[Message]],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    base, handler = server
    port, mailbox = smtp_server
    settings.BEFFROI_SMTP = {
        "host": "127.0.0.1",
        "port": port,
        "username": "",
        "password": "",
        "security": "none",
        "sender": "beffroi@example.org",
    }
    AlertChannel.objects.create(organization=org, name="hook", kind="webhook", target=f"{base}/h")
    matrix = AlertChannel(
        organization=org, name="tchap", kind="matrix", target=base, room="!room:example.org"
    )
    matrix.set_secret(TOKEN)
    matrix.save()
    AlertChannel.objects.create(
        organization=org, name="mail", kind="email", target="cm@example.org, elu@example.org"
    )
    AlertChannel.objects.create(
        organization=org,
        name="campaigns only",
        kind="webhook",
        target=f"{base}/c",
        kinds=["campaign"],
    )
    alert = _alert(org)
    with django_capture_on_commit_callbacks(execute=True):
        queued = alerting.dispatch([alert])
    assert len(queued) == 3
    run_pending()
    assert set(AlertDelivery.objects.values_list("status", flat=True)) == {"sent"}
    posts = [r for r in handler.received if r[0] == "POST"]
    assert [p[1] for p in posts] == ["/h"]
    assert "Eau du robinet" in posts[0][3]["text"]
    [put] = [r for r in handler.received if r[0] == "PUT"]
    assert put[1].endswith(f"/beffroi-alert-{AlertDelivery.objects.get(channel=matrix).pk}")
    [mail] = mailbox
    assert "Eau du robinet" in mail["Subject"]
    assert TOKEN not in str(mail)
    # Dispatching the same alert again sends nothing more.
    assert alerting.dispatch([alert]) == []


def test_rate_limited_delivery_is_retried_and_final_errors_stop(
    org: Any, server: tuple[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    base, _ = server
    busy = AlertChannel.objects.create(
        organization=org, name="busy", kind="webhook", target=f"{base}/busy"
    )
    gone = AlertChannel.objects.create(
        organization=org, name="gone", kind="webhook", target=f"{base}/gone"
    )
    with django_capture_on_commit_callbacks(execute=True):
        alerting.dispatch([_alert(org)])
    run_pending()
    by_channel = {d.channel_id: d for d in AlertDelivery.objects.all()}
    assert by_channel[busy.pk].status == "pending" and by_channel[busy.pk].attempts == 1
    assert by_channel[gone.pk].status == "failed"
    busy.refresh_from_db()
    assert "429" in busy.last_error
    job = Job.objects.get(payload__delivery_id=by_channel[busy.pk].pk)
    assert job.state == Job.State.PENDING and job.run_after > timezone.now()


def test_old_alerts_are_kept_but_not_sent(org: Any, server: tuple[str, Any]) -> None:
    base, _ = server
    AlertChannel.objects.create(organization=org, name="hook", kind="webhook", target=f"{base}/h")
    alert = _alert(org)
    alert.started_at = timezone.now() - alerting.FRESH * 3
    alert.save()
    assert alerting.dispatch([alert]) == []
