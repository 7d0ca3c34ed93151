"""Reading an organization's items in id order, from where an analyzer stopped."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import transaction
from django.db.models import Max

from beffroi.items.models import Item
from beffroi.organizations.models import Organization
from beffroi.veille.models import Cursor

BATCH_SIZE = 1000


def cursor_for(organization: Organization, analyzer: str) -> Cursor:
    cursor, _ = Cursor.objects.get_or_create(organization=organization, analyzer=analyzer)
    return cursor


def new_item_batches(
    organization: Organization, analyzer: str, batch_size: int = BATCH_SIZE
) -> Iterator[tuple[Cursor, list[Item]]]:
    """Batches of items the analyzer has not seen, oldest id first.

    The caller stores its findings for a batch and calls :func:`advance` in one transaction:
    a crash in between leaves the batch to be read again, and findings are written
    idempotently (unique constraints), so nothing is lost or doubled.
    """
    cursor = cursor_for(organization, analyzer)
    after = cursor.last_item_id
    while True:
        batch = list(
            Item.objects.filter(organization=organization, pk__gt=after)
            .select_related("author")
            .order_by("pk")[:batch_size]
        )
        if not batch:
            return
        yield cursor, batch
        after = batch[-1].pk


def advance(cursor: Cursor, batch: list[Item]) -> None:
    """Record that ``batch`` has been analysed (call inside the transaction that stored it)."""
    cursor.last_item_id = max(cursor.last_item_id, batch[-1].pk)
    cursor.save(update_fields=["last_item_id", "state", "updated_at"])


def newest_item_id(organization: Organization) -> int:
    """The id of the organization's latest stored item (0 when there is none)."""
    top = Item.objects.filter(organization=organization).aggregate(top=Max("pk"))["top"]
    return int(top or 0)


def reset(organization: Organization, analyzer: str, state: dict[str, Any] | None = None) -> None:
    """Make the analyzer read everything again (after its settings changed)."""
    with transaction.atomic():
        cursor = cursor_for(organization, analyzer)
        cursor.last_item_id = 0
        cursor.state = state or {}
        cursor.save(update_fields=["last_item_id", "state", "updated_at"])
