"""`beffroi sync` and the sync task against the loopback Mastodon server: every failure
gives a clear message, is recorded on the source, and loses or duplicates nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from beffroi.cli import main
from beffroi.items.models import Item
from beffroi.jobs import engine
from beffroi.jobs.models import Job
from beffroi.sources.models import Source
from tests.fakes.mastodon_server import FakeMastodon


@pytest.fixture
def server() -> Iterator[FakeMastodon]:
    with FakeMastodon() as fake:
        alice = fake.add_account("alice", display_name="Alice Martin")
        bob = fake.add_account("bob", domain="autre.example")
        posts = [fake.add_status(f"Annonce {n} de la mairie", days_ago=4 - n) for n in range(4)]
        first = fake.add_status("Merci pour l'info !", account=alice, in_reply_to=posts[0])
        fake.add_status("Et le marché de samedi ?", account=bob, in_reply_to=posts[0])
        fake.add_status("@bob il est maintenu", account=alice, in_reply_to=first)
        fake.add_status("Bonjour @mairie la rue est bloquée", account=bob)
        fake.add_dm(alice, "Bonjour, comment obtenir un acte de naissance ?")
        yield fake


@pytest.fixture
def mastodon(org: Any, server: FakeMastodon) -> Source:
    source = Source(
        organization=org,
        name="Mastodon de la ville",
        platform="mastodon",
        settings={"base_url": server.base_url},
    )
    source.set_credentials({"access_token": server.token})
    source.save()
    return source


def sync(org: Any) -> Any:
    return CliRunner().invoke(main, ["sync", "--org", org.slug], catch_exceptions=False)


def platform_ids(source: Source) -> list[str]:
    return sorted(Item.objects.filter(source=source).values_list("platform_id", flat=True))


def expected_ids(server: FakeMastodon) -> list[str]:
    return sorted(sid for sid, status in server.statuses.items() if not status["deleted"])


@pytest.mark.django_db
def test_sync_fetches_everything_then_nothing_new(org: Any, mastodon: Source, server: Any) -> None:
    result = sync(org)
    assert result.exit_code == 0, result.output
    assert platform_ids(mastodon) == expected_ids(server)
    kinds = set(Item.objects.filter(source=mastodon).values_list("kind", flat=True))
    assert {"post", "comment", "reply", "mention", "message"} <= kinds
    deep = Item.objects.get(source=mastodon, text__contains="il est maintenu")
    assert deep.parent is not None and "Merci" in deep.parent.text
    assert deep.thread_id == deep.parent.parent.platform_id
    mastodon.refresh_from_db()
    assert mastodon.status == Source.Status.OK and mastodon.cursor
    again = sync(org)
    assert again.exit_code == 0 and "0 new item(s)" in again.output
    assert platform_ids(mastodon) == expected_ids(server)


@pytest.mark.django_db
def test_new_items_after_a_sync_are_fetched(org: Any, mastodon: Source, server: Any) -> None:
    sync(org)
    carol = server.add_account("carol")
    server.add_status("Bonjour @mairie merci pour les travaux", account=carol)
    result = sync(org)
    assert "1 new item(s)" in result.output
    assert platform_ids(mastodon) == expected_ids(server)


@pytest.mark.django_db
def test_revoked_token(org: Any, mastodon: Source, server: Any) -> None:
    server.revoke_token()
    result = sync(org)
    assert result.exit_code == 1
    assert "credentials refused" in result.output and "Reconnect" in result.output
    assert server.token not in result.output
    mastodon.refresh_from_db()
    assert mastodon.status == Source.Status.AUTH_FAILED
    assert "revoked" in mastodon.last_error


@pytest.mark.django_db
def test_rate_limited_keeps_what_was_fetched(org: Any, mastodon: Source, server: Any) -> None:
    server.fail_after(6, status=None)
    server.heal()
    server.rate_limit(100, reset_in=90)
    result = sync(org)
    assert result.exit_code == 1
    assert "rate limited" in result.output and "Retry after" in result.output
    mastodon.refresh_from_db()
    assert mastodon.status == Source.Status.RATE_LIMITED
    assert mastodon.retry_after is not None
    server.heal()
    assert sync(org).exit_code == 0
    assert platform_ids(mastodon) == expected_ids(server)


@pytest.mark.django_db
def test_malformed_json_is_reported_and_nothing_is_lost(
    org: Any, mastodon: Source, server: Any
) -> None:
    server.malformed("/api/v1/notifications")
    result = sync(org)
    assert result.exit_code == 1
    mastodon.refresh_from_db()
    assert mastodon.status == Source.Status.ERROR and mastodon.last_error
    stored_before = platform_ids(mastodon)
    server.heal()
    assert sync(org).exit_code == 0
    assert set(stored_before) <= set(platform_ids(mastodon))
    assert platform_ids(mastodon) == expected_ids(server)


@pytest.mark.django_db
@pytest.mark.parametrize("after", [1, 2, 4, 6, 8])
def test_connection_dropped_mid_sync_resumes_without_loss_or_duplicate(
    org: Any, mastodon: Source, server: Any, after: int
) -> None:
    server.fail_after(after, status=None)
    first = sync(org)
    assert first.exit_code == 1
    server.heal()
    assert sync(org).exit_code == 0
    ids = list(Item.objects.filter(source=mastodon).values_list("platform_id", flat=True))
    assert len(ids) == len(set(ids))
    assert sorted(ids) == expected_ids(server)


@pytest.mark.django_db(transaction=True)
def test_sync_task_outcomes(org: Any, mastodon: Source, server: Any) -> None:
    job = engine.enqueue("sources.sync", {"source_id": mastodon.pk}, dedupe_key="s")
    assert engine.run_job(job.pk) == "done"
    job.refresh_from_db()
    assert job.result["created"] == len(expected_ids(server))

    server.rate_limit(100, reset_in=120)
    job = engine.enqueue("sources.sync", {"source_id": mastodon.pk})
    assert engine.run_job(job.pk) == "retry"
    job.refresh_from_db()
    assert job.state == Job.State.PENDING and "rate" in job.last_error.lower()

    server.heal()
    server.revoke_token()
    job = engine.enqueue("sources.sync", {"source_id": mastodon.pk})
    assert engine.run_job(job.pk) == "failed"
    job.refresh_from_db()
    assert job.attempts == 1 and server.token not in job.last_error


@pytest.mark.django_db
def test_scheduler_enqueues_due_sources_once(org: Any, mastodon: Source) -> None:
    from beffroi.sources.tasks import schedule_syncs

    assert schedule_syncs() == 1
    schedule_syncs()
    assert Job.objects.filter(name="sources.sync", state="pending").count() == 1
    Source.objects.filter(pk=mastodon.pk).update(status=Source.Status.AUTH_FAILED)
    Job.objects.all().delete()
    assert schedule_syncs() == 0  # a refused token waits for a person to reconnect it


@pytest.mark.django_db
def test_credentials_are_encrypted_at_rest(mastodon: Source, server: Any) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT credentials_encrypted FROM sources_source WHERE id = %s", [mastodon.pk]
        )
        stored = cursor.fetchone()[0]
    assert server.token not in stored
    assert Source.objects.get(pk=mastodon.pk).get_credentials() == {"access_token": server.token}
