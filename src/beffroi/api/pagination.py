"""Limit/offset pages with a count, and keyset pages for the (large) item lists."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from django.db.models import Model, Q, QuerySet
from ninja.errors import ValidationError

from beffroi.api.schemas import MAX_ID


def _invalid(name: str, message: str) -> ValidationError:
    return ValidationError([{"loc": ["query", name], "msg": message, "type": "value_error"}])


def offset_page(queryset: QuerySet[Any], limit: int, offset: int) -> dict[str, Any]:
    """``{"items", "count", "limit", "offset"}`` for a query already ordered."""
    return {
        "items": list(queryset[offset : offset + limit]),
        "count": queryset.count(),
        "limit": limit,
        "offset": offset,
    }


def encode_cursor(obj: Model, field: str = "created_at") -> str:
    value: datetime = getattr(obj, field)
    raw = json.dumps([value.isoformat(), obj.pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        when = datetime.fromisoformat(stamp)
        if not isinstance(pk, int) or not 0 < pk <= MAX_ID or when.tzinfo is None:
            raise ValueError(cursor)
        # In UTC, as stored (PostgreSQL refuses offsets past ±15:59).
        when = when.astimezone(UTC)
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError) as exc:
        raise _invalid("cursor", "Invalid cursor: pass back a `next_cursor` value.") from exc
    return when, pk


def keyset_page(
    queryset: QuerySet[Any],
    limit: int,
    offset: int,
    cursor: str | None,
    field: str = "created_at",
) -> dict[str, Any]:
    """A page of ``queryset`` ordered newest first by ``(field, id)``.

    With ``cursor`` the page starts after the item the cursor names, so items that arrive
    meanwhile do not shift pages; without it, ``offset`` applies.
    """
    if cursor:
        if offset:
            raise _invalid("offset", "Use either `offset` or `cursor`, not both.")
        when, pk = decode_cursor(cursor)
        queryset = queryset.filter(Q(**{f"{field}__lt": when}) | Q(**{field: when, "pk__lt": pk}))
    rows = list(queryset.order_by(f"-{field}", "-pk")[offset : offset + limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": rows,
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if more and not cursor else None,
        "next_cursor": encode_cursor(rows[-1], field) if more else None,
    }
