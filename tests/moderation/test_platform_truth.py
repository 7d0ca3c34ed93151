"""What the organization decided and what the platform did are two things, each shown for what
it is: an item is hidden only once the platform hid it, a refusal keeps it visible and says
why (retry, reconnect), a demo source simulates its actions and says so, and the same rule
serves every screen, the CSV export and the API."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from beffroi.audit.models import AuditEvent
from beffroi.audit.services import Actor
from beffroi.connectors.base import ActionResult, AuthError, OutcomeUnknown
from beffroi.items.models import Author, Item
from beffroi.jobs.engine import run_job, run_pending
from beffroi.jobs.models import Job
from beffroi.moderation import display, services
from beffroi.moderation.models import Decision
from beffroi.sources.models import DEMO_SETTING, Source

pytestmark = pytest.mark.django_db

SLUG = "ville-test"


@pytest.fixture
def charter(org: Any) -> Any:
    from beffroi.charter.services import ensure_default_charter

    return ensure_default_charter(org)


@pytest.fixture
def demo(org: Any) -> Source:
    return Source.objects.create(
        organization=org, name="Demo", platform="facebook", settings={DEMO_SETTING: True}
    )


@pytest.fixture
def page(org: Any) -> Source:
    """A real Facebook page (its connector is never reached: the tests stand in for it)."""
    return Source.objects.create(
        organization=org, name="Page", platform="facebook", settings={"page_id": "1"}
    )


def _item(org: Any, source: Source, n: int = 1) -> Item:
    author, _ = Author.objects.get_or_create(
        organization=org, platform="facebook", platform_id="a1", defaults={"handle": "a1"}
    )
    return Item.objects.create(
        organization=org,
        source=source,
        platform="facebook",
        platform_id=f"c{n}",
        kind="comment",
        author=author,
        text="Un commentaire insultant",
        created_at=timezone.now(),
        state=Item.State.IN_REVIEW,
    )


def _login(user: Any) -> Client:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


def _platform_jobs() -> None:
    for job_id in Job.objects.filter(name="moderation.platform_action").values_list(
        "pk", flat=True
    ):
        run_job(job_id, "test")


def _refusing(monkeypatch: Any, error: Exception) -> None:
    def refuse(decision: Decision) -> Any:
        raise error

    monkeypatch.setattr("beffroi.moderation.platform._call", refuse)


def test_a_demo_source_simulates_and_says_so(
    org: Any, demo: Source, charter: Any, make_user: Any
) -> None:
    moderator = make_user("alice", org=org, role="moderator")
    item = _item(org, demo)
    decision = services.decide(Actor(moderator, "ui"), item, "hide")
    item.refresh_from_db()
    assert item.visibility == Item.Visibility.VISIBLE  # requested, not yet done
    with translation.override("en"):
        assert display.visibility(item).note == "Hiding requested, waiting for Facebook."
    _platform_jobs()
    item.refresh_from_db()
    decision.refresh_from_db()
    assert item.visibility == Item.Visibility.HIDDEN
    assert decision.platform_effect == Decision.PlatformEffect.SIMULATED and decision.took_effect
    with translation.override("en"):
        view = display.platform_effect(decision)
    assert view.label == "Simulated (demo)" and view.badge != "badge-ok"
    assert "nothing was sent to Facebook" in view.sentence
    event = AuditEvent.objects.get(action="platform.simulated")
    assert event.after is not None and event.after["visibility"] == "hidden"
    assert not AuditEvent.objects.filter(action="platform.done").exists()
    html = _login(moderator).get(f"/o/{SLUG}/items/{item.pk}/").content.decode()
    assert "Simulated (demo)" in html and "Done on the platform" not in html


def test_a_refusal_keeps_the_item_visible_and_offers_retry_and_reconnect(
    org: Any, page: Source, charter: Any, make_user: Any, monkeypatch: Any
) -> None:
    admin = make_user("chef", org=org, role="admin")
    moderator = make_user("alice", org=org, role="moderator")
    item = _item(org, page)
    decision = services.decide(Actor(moderator, "ui"), item, "hide")
    _refusing(monkeypatch, AuthError("OAuthException: Error validating access token (190)"))
    _platform_jobs()
    item.refresh_from_db()
    decision.refresh_from_db()
    assert item.visibility == Item.Visibility.VISIBLE
    assert decision.status == Decision.Status.APPLIED  # what was decided stays decided
    assert decision.platform_effect == Decision.PlatformEffect.REFUSED and decision.retryable
    with translation.override("en"):
        view = display.platform_effect(decision)
        shown = display.visibility(item)
    assert view.sentence.startswith("Refused by Facebook: the account's access was refused")
    assert view.detail == "OAuthException: Error validating access token (190)"
    assert view.reconnect and view.badge == "badge-error"
    assert shown.note.startswith("Still visible on the platform. Refused by Facebook")
    url = f"/o/{SLUG}/items/{item.pk}/"
    # Never an "applied" badge in green beside the refusal: "Decided", neutral.
    html = _login(admin).get(url).content.decode()
    panel = html[html.index('id="moderation"') :]
    assert "Decided" in panel and "Applied" not in panel
    assert panel.count("badge-ok") == panel.count('badge-ok">intact')  # only the seal is green
    assert f"/moderation/decisions/{decision.pk}/retry/" in html
    # A hide the platform refused restricted nothing: no appeal is offered or taken.
    assert not decision.appealable and "Record an appeal" not in panel
    with translation.override("en"), pytest.raises(services.ModerationError) as refused:
        services.file_appeal(Actor(admin, "ui"), decision, "Je conteste.")
    assert "did not carry out this restriction (Refused by the platform)" in str(refused.value)
    assert f'href="/o/{SLUG}/sources/">Reconnect the account<span' in html
    assert "Error validating access token" in html  # the platform's words, kept
    # A moderator can retry; reconnecting is an administrator's: said, not linked.
    moderator_client = _login(moderator)
    html = moderator_client.get(url).content.decode()
    assert f'href="/o/{SLUG}/sources/">Reconnect the account' not in html
    assert "An administrator must reconnect the account." in html
    # Retry: pending again, audited, sent again; this time the platform does it.
    monkeypatch.setattr(
        "beffroi.moderation.platform._call",
        lambda decision: ActionResult(ok=True, detail="Comment hidden."),
    )
    response = moderator_client.post(
        f"/o/{SLUG}/moderation/decisions/{decision.pk}/retry/", {"next": url}
    )
    assert response.status_code == 302 and response["Location"] == url
    decision.refresh_from_db()
    assert decision.platform_effect == Decision.PlatformEffect.PENDING
    event = AuditEvent.objects.get(action="platform.retry_requested")
    assert event.actor == moderator and event.before is not None
    assert event.before["platform_status"] == "failed"
    run_pending()
    item.refresh_from_db()
    decision.refresh_from_db()
    assert decision.platform_effect == Decision.PlatformEffect.DONE
    assert item.visibility == Item.Visibility.HIDDEN
    assert decision.appealable  # now that it took effect
    # Only a refusal can be retried.
    with pytest.raises(services.ModerationError):
        services.retry_platform_action(Actor(moderator, "ui"), decision)


def test_a_report_whose_answer_was_lost_is_not_sent_again_by_itself(
    org: Any, page: Source, charter: Any, make_user: Any, monkeypatch: Any
) -> None:
    """A create (a report, a reply) whose answer was lost may be on the platform: sending it
    again could make two. It waits for a person, said as such."""
    moderator = make_user("alice", org=org, role="moderator")
    decision = services.decide(Actor(moderator, "ui"), _item(org, page), "report")
    calls: list[int] = []

    def lose_answer(decision: Decision) -> Any:
        calls.append(decision.pk)
        raise OutcomeUnknown("Facebook did not answer in time.")

    monkeypatch.setattr("beffroi.moderation.platform._call", lose_answer)
    _platform_jobs()
    decision.refresh_from_db()
    assert calls == [decision.pk]
    assert decision.platform_effect == Decision.PlatformEffect.REFUSED
    assert decision.platform_result["reason"] == "unconfirmed"
    assert not decision.platform_result.get("retry")
    run_pending()  # nothing was scheduled to send it again
    assert calls == [decision.pk]
    with translation.override("en"):
        view = display.platform_effect(decision)
    assert view.sentence.startswith("Facebook did not confirm it")
    assert "Check on Facebook before retrying." in view.sentence and view.retryable


def test_a_hide_undone_before_the_platform_acted_is_never_sent(
    org: Any, page: Source, charter: Any, make_user: Any, monkeypatch: Any
) -> None:
    moderator = Actor(make_user("alice", org=org, role="moderator"), "ui")
    item = _item(org, page)
    decision = services.decide(moderator, item, "hide")
    reversal = services.undo(moderator, decision)
    # Nothing to restore: the platform never hid it.
    assert reversal.platform_effect == Decision.PlatformEffect.NOT_NEEDED
    _refusing(monkeypatch, AssertionError("the platform must not be called"))
    _platform_jobs()
    decision.refresh_from_db()
    item.refresh_from_db()
    assert decision.platform_effect == Decision.PlatformEffect.CANCELLED
    assert item.visibility == Item.Visibility.VISIBLE
    assert display.visibility(item).note == ""


def test_a_second_hide_while_one_waits_is_refused(
    org: Any, demo: Source, charter: Any, make_user: Any
) -> None:
    moderator = Actor(make_user("alice", org=org, role="moderator"), "ui")
    item = _item(org, demo)
    services.decide(moderator, item, "hide")
    # The refusal is a translated sentence: read in English (the active language otherwise
    # depends on which test ran before).
    with translation.override("en"):
        with pytest.raises(services.ModerationError, match="waits for the platform"):
            services.decide(moderator, item, "hide")


def test_unsupported_and_upload_sentences(org: Any, source: Any, charter: Any) -> None:
    item = _item(org, source)
    decision = Decision.objects.create(
        organization=org,
        item=item,
        action="hide",
        platform_status="unsupported",
        platform_result={"detail": "Imported from a file", "reason": "upload"},
    )
    with translation.override("en"):
        view = display.platform_effect(decision)
    assert view.label == "Not supported by the platform"
    assert view.sentence.startswith("Imported from a file: Beffroi has no account")
    assert not view.retryable and not view.took_effect
    kept = Decision.objects.create(organization=org, item=item, action="keep")
    assert not display.platform_effect(kept).shown


def test_decisions_log_csv_and_api_say_decision_and_effect_apart(
    org: Any, page: Source, charter: Any, make_user: Any, monkeypatch: Any
) -> None:
    from beffroi.accounts.models import ApiToken

    admin = make_user("chef", org=org, role="admin")
    decision = services.decide(Actor(admin, "ui"), _item(org, page), "hide")
    _refusing(monkeypatch, AuthError("token expired"))
    _platform_jobs()
    client = _login(admin)
    log = client.get(f"/o/{SLUG}/moderation/decisions/").content.decode()
    assert "Refused by the platform" in log and "Decided" in log
    response = client.get(f"/o/{SLUG}/moderation/decisions/", {"format": "csv"})
    content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    (row,) = [r for r in rows if r["id"] == str(decision.pk)]
    assert row["status"] == "applied" and row["platform_effect"] == "refused"
    assert row["platform_effect_text"].startswith("Refused by Facebook")
    assert row["platform_detail"] == "token expired"
    # The DSA export issues no statement for it, and says so.
    export = client.get(f"/o/{SLUG}/moderation/statements.json")
    assert export["X-Statements-Not-In-Effect"] == "1"
    assert b'"statements": [\n]' in b"".join(export.streaming_content)  # type: ignore[attr-defined]
    log = client.get(f"/o/{SLUG}/moderation/decisions/").content.decode()
    assert "1 restriction has no statement of reasons: it did not take effect" in log
    _token, key = ApiToken.issue(admin, "test")
    api = Client().get(f"/api/v1/orgs/{SLUG}/decisions", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.status_code == 200, api.content
    (body,) = [d for d in api.json()["items"] if d["id"] == decision.pk]
    assert body["status"] == "applied" and body["platform_effect"] == "refused"


@pytest.mark.django_db(transaction=True)
def test_the_demo_towns_sources_are_demo_sources_and_their_hides_are_simulated(
    monkeypatch: Any,
) -> None:
    """``beffroi demo`` marks its sources: the charter's automatic hides run the real flow and
    end simulated (hidden, labelled so), never refused for want of credentials."""
    from dataclasses import replace
    from datetime import datetime

    from beffroi.demo import load
    from beffroi.demo.builder import build_demo_town

    def small_town(now: datetime) -> Any:
        # A few items of each source (the hateful ones first), so that the test stays short.
        town = build_demo_town(now)
        sources = []
        for demo_source in town.sources:
            labels = [town.labels.get((demo_source.name, i.platform_id)) for i in demo_source.items]
            hide_first = sorted(
                range(len(demo_source.items)),
                key=lambda n: (getattr(labels[n], "expected_action", "") != "hide", n),
            )
            kept = sorted(hide_first[:6])
            sources.append(replace(demo_source, items=[demo_source.items[n] for n in kept]))
        return replace(town, sources=sources)

    from click.testing import CliRunner

    from beffroi.cli import main
    from beffroi.organizations.models import Organization
    from beffroi.veille import cli as veille_cli

    monkeypatch.setattr(load, "build_demo_town", small_town)
    monkeypatch.setattr(load, "_demo_veille", lambda org, town: None)
    monkeypatch.setattr(veille_cli, "scan_now", lambda org: None)
    # `beffroi demo` loads, judges, and runs the platform jobs itself: the demo shows the
    # hides simulated, not waiting for a job runner.
    result = CliRunner().invoke(main, ["demo"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "platform actions, simulated" in result.output
    org = Organization.objects.get(slug="saint-aubin")
    assert all(source.is_demo for source in Source.objects.filter(organization=org))
    restrictions = Decision.objects.filter(
        organization=org, action__in=["hide", "delete"], status="applied"
    )
    assert restrictions.exists(), "the demo's hateful comments are hidden by the charter"
    for decision in restrictions.select_related("item"):
        assert decision.platform_effect == Decision.PlatformEffect.SIMULATED
        assert decision.item.visibility in (Item.Visibility.HIDDEN, Item.Visibility.DELETED)
    assert not Decision.objects.filter(organization=org, platform_status="failed").exists()


def test_case_page_and_queue_say_what_the_platform_did(
    org: Any, page: Source, charter: Any, make_user: Any, monkeypatch: Any
) -> None:
    from beffroi.moderation.models import Case

    alice = make_user("alice", org=org, role="moderator")
    bruno = make_user("bruno", org=org, role="moderator")
    item = _item(org, page)
    hide = services.decide(Actor(alice, "ui"), item, "hide")
    services.file_appeal(Actor(alice, "ui"), hide, "Je n'ai rien dit de mal.")
    appeal_case = Case.objects.get(item=item, kind="appeal")
    client = _login(bruno)
    html = client.get(f"/o/{SLUG}/moderation/cases/{appeal_case.pk}/").content.decode()
    assert "Hiding requested, waiting for Facebook." in html
    _refusing(monkeypatch, AuthError("token expired"))
    _platform_jobs()
    queue = client.get(f"/o/{SLUG}/moderation/queue/").content.decode()
    assert "Hide: Refused by the platform" in queue
    html = client.get(f"/o/{SLUG}/moderation/cases/{appeal_case.pk}/").content.decode()
    assert "Still visible on the platform. Refused by Facebook" in html
    assert f"/moderation/decisions/{hide.pk}/retry/" in html
