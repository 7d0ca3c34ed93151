"""Evidence is preserved and sealed before anything hides or deletes an item, and the
platform's answer to the action (done, refused, not supported, retry later) is recorded, on
the decision and in the audit trail (the platform as the actor)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from beffroi.audit.models import AuditEvent
from beffroi.cli import main
from beffroi.items.models import Item
from beffroi.jobs.engine import RetryLater
from beffroi.moderation import evidence as evidence_store
from beffroi.moderation.dossier import dossier, dossier_json, dossier_pdf
from beffroi.moderation.models import Decision, Evidence
from beffroi.moderation.platform import perform
from beffroi.moderation.tasks import platform_action_task
from beffroi.sources.models import Source
from tests.fakes.mastodon_server import FakeMastodon


@pytest.fixture
def server() -> Iterator[FakeMastodon]:
    with FakeMastodon() as fake:
        alice = fake.add_account("alice", display_name="Alice Martin")
        post = fake.add_status("Travaux rue Jean Jaurès lundi", days_ago=2)
        fake.add_status(
            "Bande d'incapables, je vais venir vous régler votre compte",
            account=alice,
            in_reply_to=post,
        )
        fake.add_status("Merci pour l'information", account=alice, in_reply_to=post)
        yield fake


@pytest.fixture
def mastodon(org: Any, server: FakeMastodon) -> Source:
    source = Source(
        organization=org,
        name="Mastodon",
        platform="mastodon",
        settings={"base_url": server.base_url},
    )
    source.set_credentials({"access_token": server.token})
    source.save()
    result = CliRunner().invoke(main, ["sync", "--org", org.slug], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return source


def _comment(source: Source, text: str) -> Item:
    return Item.objects.select_related("source", "author").get(source=source, text__contains=text)


def _decision(item: Item, action: str, **fields: Any) -> Decision:
    return Decision.objects.create(
        organization=item.organization,
        item=item,
        action=action,
        platform_status=Decision.PlatformStatus.PENDING,
        **fields,
    )


def _platform_events(decision: Decision) -> list[AuditEvent]:
    """The audit events of what the platform answered for ``decision``, oldest first."""
    return list(
        AuditEvent.objects.filter(
            object_type="moderation.decision",
            object_id=str(decision.pk),
            action__startswith="platform.",
        ).order_by("id")
    )


def _assert_platform_event(event: AuditEvent, decision: Decision, action: str) -> None:
    assert event.action == action
    assert event.channel == AuditEvent.Channel.SYSTEM and event.actor_label == "platform"
    assert event.actor is None and event.organization_id == decision.organization_id
    assert event.after is not None and event.after["action"] == decision.action
    assert len(event.after["detail"]) <= 500
    assert "raw" not in event.after  # the platform's answer in short, never its payload


@pytest.mark.django_db
def test_evidence_bundle_is_complete_and_sealed(mastodon: Source) -> None:
    item = _comment(mastodon, "incapables")
    preserved = evidence_store.preserve(item)
    bundle = preserved.bundle
    assert bundle["item"]["text"] == item.text
    assert bundle["item"]["author"]["handle"] == item.author.handle
    assert bundle["item"]["url"] == item.url and bundle["raw"] == item.raw
    assert any("Travaux" in other["text"] for other in bundle["thread_context"])
    assert len(preserved.sha256) == 64 and evidence_store.verify(preserved)
    # Any change to the stored bundle breaks the seal.
    Evidence.objects.filter(pk=preserved.pk).update(bundle={**bundle, "raw": {}})
    preserved.refresh_from_db()
    assert not evidence_store.verify(preserved)


@pytest.mark.django_db
def test_mastodon_cannot_hide_a_reply_and_says_so(mastodon: Source) -> None:
    item = _comment(mastodon, "incapables")
    decision = _decision(item, Decision.Action.HIDE)
    assert perform(decision) == Decision.PlatformStatus.UNSUPPORTED
    decision.refresh_from_db()
    assert "no way to hide" in decision.platform_result["detail"]
    (event,) = _platform_events(decision)
    _assert_platform_event(event, decision, "platform.unsupported")
    assert event.after["status"] == "unsupported" and "no way to hide" in event.after["detail"]


@pytest.mark.django_db
def test_delete_of_someone_elses_reply_is_refused_with_the_reason(mastodon: Source) -> None:
    item = _comment(mastodon, "incapables")
    decision = _decision(item, Decision.Action.DELETE)
    assert perform(decision) == Decision.PlatformStatus.UNSUPPORTED
    assert "own statuses" in decision.platform_result["detail"]


@pytest.mark.django_db
def test_report_reaches_the_instance(mastodon: Source, server: FakeMastodon) -> None:
    item = _comment(mastodon, "incapables")
    decision = _decision(item, Decision.Action.REPORT, note="Menace envers les agents")
    assert perform(decision) == Decision.PlatformStatus.DONE
    (event,) = _platform_events(decision)
    _assert_platform_event(event, decision, "platform.done")
    assert event.after is not None and event.after["status"] == "done"
    assert event.after["attempt"] == 1
    (request,) = server.requests_to("POST", "/api/v1/reports")
    assert request.param("comment") == "Menace envers les agents"
    assert request.values("status_ids") == [item.platform_id] or request.values("status_ids[]") == [
        item.platform_id
    ]


@pytest.mark.django_db
def test_rate_limited_action_stays_pending_and_is_retried(
    mastodon: Source, server: FakeMastodon
) -> None:
    item = _comment(mastodon, "incapables")
    decision = _decision(item, Decision.Action.REPORT, note="spam")
    server.rate_limit(requests=1, reset_in=30)
    with pytest.raises(RetryLater):
        platform_action_task(decision_id=decision.pk)
    decision.refresh_from_db()
    assert decision.platform_status == Decision.PlatformStatus.PENDING
    assert decision.platform_attempts == 1
    server.heal()
    assert platform_action_task(decision_id=decision.pk) == {"status": "done"}
    decision.refresh_from_db()
    assert decision.platform_status == Decision.PlatformStatus.DONE
    assert decision.platform_attempts == 2
    retry, done = _platform_events(decision)
    _assert_platform_event(retry, decision, "platform.retry")
    assert retry.after is not None and retry.after["status"] == "pending" and retry.after["detail"]
    assert retry.after["attempt"] == 1 and retry.after["retry_after"] > 0
    assert done.action == "platform.done" and done.after is not None
    assert done.after["attempt"] == 2


@pytest.mark.django_db
def test_revoked_token_is_a_recorded_failure(mastodon: Source, server: FakeMastodon) -> None:
    item = _comment(mastodon, "incapables")
    decision = _decision(item, Decision.Action.REPLY, reply_text="Merci de rester courtois.")
    server.revoke_token()
    assert perform(decision) == Decision.PlatformStatus.FAILED
    assert decision.platform_result["detail"]
    (event,) = _platform_events(decision)
    _assert_platform_event(event, decision, "platform.failed")
    assert event.after is not None and event.after["status"] == "failed" and event.after["detail"]
    assert server.token not in json.dumps(event.after)


@pytest.mark.django_db
def test_file_import_items_have_no_platform_to_act_on(org: Any, source: Source) -> None:
    from django.utils import timezone

    from beffroi.items.models import Author

    author = Author.objects.create(organization=org, platform="file", platform_id="a", handle="a")
    item = Item.objects.create(
        organization=org,
        source=source,
        platform="file",
        platform_id="1",
        kind="comment",
        author=author,
        text="x",
        created_at=timezone.now(),
    )
    decision = _decision(item, Decision.Action.HIDE)
    assert perform(decision) == Decision.PlatformStatus.UNSUPPORTED
    (event,) = _platform_events(decision)
    _assert_platform_event(event, decision, "platform.unsupported")


@pytest.mark.django_db
def test_a_decision_without_platform_action_has_no_platform_event(org: Any, source: Source) -> None:
    """A keep or an escalation involves no platform: nothing is asked, nothing is audited."""
    from django.utils import timezone

    from beffroi.items.models import Author

    author = Author.objects.create(organization=org, platform="file", platform_id="a", handle="a")
    item = Item.objects.create(
        organization=org,
        source=source,
        platform="file",
        platform_id="1",
        kind="comment",
        author=author,
        text="x",
        created_at=timezone.now(),
    )
    decision = _decision(item, Decision.Action.KEEP)
    assert perform(decision) == Decision.PlatformStatus.NOT_NEEDED
    assert _platform_events(decision) == []


@pytest.mark.django_db
def test_dossier_json_and_pdf(mastodon: Source) -> None:
    item = _comment(mastodon, "incapables")
    preserved = evidence_store.preserve(item)
    _decision(item, Decision.Action.HIDE, evidence=preserved, note="Menace")
    data = dossier(item)
    assert data["evidence"][0]["sha256"] == preserved.sha256 and data["evidence"][0]["intact"]
    assert data["decisions"][0]["action"] == "hide"
    assert preserved.sha256.encode() in dossier_json(item)
    pdf = dossier_pdf(item)
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
