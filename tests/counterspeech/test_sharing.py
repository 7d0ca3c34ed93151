"""Sharing a library: a national cell publishes, a town subscribes and reads the approved,
valid entries live and read-only; nothing else crosses organizations."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from beffroi.audit.models import AuditEvent
from beffroi.counterspeech import services
from beffroi.counterspeech.models import Entry, LibrarySubscription
from beffroi.counterspeech.services import LibraryError
from tests.counterspeech.conftest import entry_data

pytestmark = pytest.mark.django_db


def _approved(desk: Any, **overrides: Any) -> Entry:
    entry = services.create_entry(desk.ctx(desk.writer), entry_data(**overrides), submit=True)
    return services.approve(desk.ctx(desk.approver), entry)


def test_only_a_published_library_can_be_subscribed_to(desk: Any, cell: Any) -> None:
    with pytest.raises(LibraryError, match="not shared") as refused:
        services.subscribe(desk.ctx(desk.admin), cell.org)
    assert refused.value.code == "not_shared"
    services.publish_library(cell.ctx(cell.admin), "Contre-discours — cellule nationale")
    subscription = services.subscribe(desk.ctx(desk.admin), cell.org)
    assert (subscription.subscriber, subscription.publisher) == (desk.org, cell.org)
    assert subscription.created_by == desk.admin
    # Subscribing again changes nothing; subscribing to oneself is refused.
    assert services.subscribe(desk.ctx(desk.admin), cell.org) == subscription
    with pytest.raises(LibraryError, match="its own library"):
        services.subscribe(cell.ctx(cell.admin), cell.org)
    assert LibrarySubscription.objects.count() == 1
    assert list(
        AuditEvent.objects.filter(organization=desk.org).values_list("action", flat=True)
    ) == ["counter_speech.subscribe"]
    assert AuditEvent.objects.filter(
        organization=cell.org, action="counter_speech.library.publish"
    ).exists()


def test_only_an_administrator_of_the_subscriber_subscribes(desk: Any, cell: Any) -> None:
    services.publish_library(cell.ctx(cell.admin), "Cellule")
    for user in (desk.writer, desk.approver, desk.moderator, desk.viewer):
        with pytest.raises(PermissionDenied):
            services.subscribe(desk.ctx(user), cell.org)
    assert not LibrarySubscription.objects.exists()


def test_a_subscriber_reads_approved_valid_entries_live(desk: Any, cell: Any) -> None:
    services.publish_library(cell.ctx(cell.admin), "Cellule")
    services.subscribe(desk.ctx(desk.admin), cell.org)
    shared = _approved(cell, title="Partagée")
    draft = services.create_entry(cell.ctx(cell.writer), entry_data(title="Brouillon"))
    in_review = services.create_entry(
        cell.ctx(cell.writer), entry_data(title="En revue"), submit=True
    )
    expired = _approved(cell, valid_until=timezone.localdate() - timedelta(days=1))
    ours = services.create_entry(desk.ctx(desk.writer), entry_data(title="Nôtre"))

    assert set(services.visible_entries(desk.org)) == {shared, ours}
    assert set(services.visible_entries(desk.org).suggestible()) == {shared}
    # The publisher still sees all of its own; never the subscriber's.
    assert set(services.visible_entries(cell.org)) == {shared, draft, in_review, expired}

    # Updates flow: nothing was copied. An edit of its text sends it back to review, and the
    # subscriber stops reading it until it is approved again — then reads the new text.
    services.update_entry(
        cell.ctx(cell.writer), shared, entry_data(texts=[("fr", "Texte mis à jour.")])
    )
    assert not services.visible_entries(desk.org).filter(pk=shared.pk).exists()
    services.approve(cell.ctx(cell.approver), shared)
    seen = services.visible_entries(desk.org).get(pk=shared.pk)
    assert list(seen.texts.values_list("text", flat=True)) == ["Texte mis à jour."]
    assert Entry.objects.count() == 5  # no copy


def test_an_unpublished_library_is_no_longer_read(desk: Any, cell: Any) -> None:
    services.publish_library(cell.ctx(cell.admin), "Cellule")
    services.subscribe(desk.ctx(desk.admin), cell.org)
    shared = _approved(cell)
    assert services.visible_entries(desk.org).filter(pk=shared.pk).exists()
    services.unpublish_library(cell.ctx(cell.admin))
    assert not services.visible_entries(desk.org).exists()
    # Shared again: the subscription reads again.
    services.publish_library(cell.ctx(cell.admin), "Cellule")
    assert list(services.visible_entries(desk.org)) == [shared]
    services.unsubscribe(desk.ctx(desk.admin), cell.org)
    assert not services.visible_entries(desk.org).exists()
    with pytest.raises(LibraryError, match="does not read this library"):
        services.unsubscribe(desk.ctx(desk.admin), cell.org)


def test_a_subscriber_may_not_write_to_a_shared_entry(desk: Any, cell: Any) -> None:
    services.publish_library(cell.ctx(cell.admin), "Cellule")
    services.subscribe(desk.ctx(desk.admin), cell.org)
    shared = _approved(cell)
    with pytest.raises(LibraryError, match="read-only"):
        services.update_entry(desk.ctx(desk.admin), shared, entry_data(title="Pris"))
    with pytest.raises(LibraryError, match="read-only"):
        services.retire(desk.ctx(desk.admin), shared)
    shared.refresh_from_db()
    assert shared.title == "Eau du robinet" and shared.state == Entry.State.APPROVED


def test_a_subscribers_use_counts_on_the_publishers_entry(desk: Any, cell: Any) -> None:
    services.publish_library(cell.ctx(cell.admin), "Cellule")
    services.subscribe(desk.ctx(desk.admin), cell.org)
    shared = _approved(cell)
    services.record_use(shared, desk.org, user=desk.writer)
    services.record_use(shared, cell.org)
    shared.refresh_from_db()
    assert shared.use_count == 2
    from beffroi.counterspeech.models import EntryUse

    # Each use stays its user's: the town's use is the town's row.
    assert EntryUse.objects.for_org(desk.org).count() == 1
    assert EntryUse.objects.for_org(cell.org).count() == 1


def test_the_export_of_a_subscriber_holds_what_it_sees(desk: Any, cell: Any) -> None:
    import json

    services.publish_library(cell.ctx(cell.admin), "Cellule nationale de contre-discours")
    services.subscribe(desk.ctx(desk.admin), cell.org)
    _approved(cell, title="Partagée")
    services.create_entry(cell.ctx(cell.writer), entry_data(title="Brouillon de la cellule"))
    services.create_entry(desk.ctx(desk.writer), entry_data(title="Nôtre"))
    exported = json.loads(services.export_entries(desk.ctx(desk.viewer), "json"))
    assert {(e["title"], e["library"]) for e in exported["entries"]} == {
        ("Partagée", "Cellule nationale de contre-discours"),
        ("Nôtre", ""),
    }
    event = AuditEvent.objects.get(action="counter_speech.export")
    assert event.organization == desk.org and event.after == {"format": "json", "entries": 2}
