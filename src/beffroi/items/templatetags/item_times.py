"""The two times of an item, each said for what it is: when it was published on the
platform (``Item.created_at``) and when it arrived in Beffroi (``Item.ingested_at``), from
which the waiting time counts. An import of old posts makes them far apart: "waiting for 2
minutes" on a three-week-old comment is true only once both are shown and named."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import template
from django.db.models import Min

from beffroi.items.models import Author, Item

register = template.Library()


@dataclass(frozen=True)
class ItemTimes:
    published: datetime
    arrived: datetime | None
    #: Where the waiting counts from: the arrival, or the moment a case was opened later
    #: (an appeal, an escalation), never the platform's time.
    waiting_since: datetime | None
    waiting_from: str
    compact: bool
    #: Whether the platform's time and the arrival are shown (not only the waiting).
    dates: bool


@register.inclusion_tag("items/_times.html")
def item_times(
    item: Item,
    case: Any = None,
    compact: bool = False,
    waiting: bool = True,
    dates: bool = True,
) -> dict[str, Any]:
    """Render the item's platform time and its arrival in Beffroi (``dates``) and, with
    ``waiting``, how long it has waited: since it arrived, or, for ``case`` an appeal or an
    escalation (a case opened after the arrival), since the case was opened."""
    since = item.ingested_at
    waiting_from = "arrival"
    # Any: a case of the moderation layer, read here, not imported (layers import down).
    if case is not None and getattr(case, "kind", "review") != "review":
        since, waiting_from = case.created_at, "case"
    return {
        "times": ItemTimes(
            published=item.created_at,
            arrived=item.ingested_at,
            waiting_since=since if waiting else None,
            waiting_from=waiting_from,
            compact=compact,
            dates=dates,
        )
    }


@register.simple_tag
def first_published(author: Author) -> datetime | None:
    """When the author's earliest item stored here was published on the platform (not when
    Beffroi first met the author, which is the import's date)."""
    value: datetime | None = Item.objects.filter(author=author).aggregate(first=Min("created_at"))[
        "first"
    ]
    return value
