"""What the demo town is: Saint-Aubin-sur-Loire, a fictional town hall, and its labelled items.

:func:`beffroi.demo.builder.build_demo_town` returns a :class:`DemoTown`: the town, its sources
(the town hall's Mastodon, Facebook and Instagram accounts, the municipal police's Mastodon
account and a Bluesky watch) and about 400 :class:`~beffroi.connectors.base.NormalizedItem`
values spread over the six weeks before ``now``, each labelled with a :class:`DemoLabel` saying
what it is and what a moderator would do with it. This module holds those types and the names
the labels use.

Every host name ends in ``.invalid`` or ``.example``; every person, street and account is
invented. The toxic items (insults, threats, hateful comments, scams) exist to test a
moderation tool and target nobody real.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import timedelta

from beffroi.connectors.base import NormalizedItem

__all__ = [
    "ACTIONS",
    "CAMPAIGN_ID",
    "CATEGORIES",
    "HOAX_ID",
    "IMPERSONATION_ID",
    "TOPICS",
    "DemoIdentity",
    "DemoLabel",
    "DemoSource",
    "DemoTown",
]

WINDOW = timedelta(weeks=6)

TOWN_SLUG = "saint-aubin"
TOWN_NAME = "Mairie de Saint-Aubin-sur-Loire"
MAYOR = "Claire Dumas"
MEDIA_HOST = "https://media.demo.invalid/saint-aubin"

HOAX_ID = "hoax-eau-contaminee"
CAMPAIGN_ID = "campaign-parking-place-du-marche"
IMPERSONATION_ID = "impersonation-fausse-maire"

CATEGORIES = (
    "announcement",
    "question",
    "request",
    "praise",
    "criticism",
    "insult",
    "threat",
    "hate",
    "spam",
    "scam",
    "hoax",
    "campaign",
    "impersonation",
    "neutral",
)
TOPICS = ("opening_hours", "roadworks", "waste", "civil_status", "other")
ACTIONS = ("keep", "answer", "review", "hide")


@dataclass(frozen=True)
class DemoLabel:
    """What a demo item is and what a moderator would do with it.

    ``category`` is one of :data:`CATEGORIES`; ``topic`` (questions, requests, announcements
    and the town's answers) one of :data:`TOPICS`; ``target`` says whom an insult, threat or
    hateful comment aims at (``mayor``, ``agents``, ``citizen``; ``origin``, ``religion``,
    ``gender``, ``sexual_orientation``, ``disability``); ``group`` ties the items of the hoax,
    the campaign and the impersonation together; ``expected_action`` is one of
    :data:`ACTIONS`.
    """

    category: str
    topic: str | None
    target: str | None
    group: str | None
    expected_action: str

    def as_dict(self) -> dict[str, str | None]:
        """The label as plain JSON-compatible data."""
        return asdict(self)


@dataclass(frozen=True)
class DemoSource:
    """One account (or watch) of the town, with its settings and its items, oldest first."""

    name: str
    platform: str
    kind: str
    settings: dict[str, str]
    items: list[NormalizedItem]


@dataclass(frozen=True)
class DemoIdentity:
    """A name the town protects (itself, a service, the mayor) and its genuine accounts, as
    the town would declare them: what the impersonation detector compares accounts with."""

    name: str
    kind: str
    handles: tuple[str, ...]


@dataclass(frozen=True)
class DemoTown:
    """The town, its sources and the label of every item keyed by (source name, platform id)."""

    slug: str
    name: str
    kind: str
    language: str
    sources: list[DemoSource]
    labels: dict[tuple[str, str], DemoLabel]
    identities: list[DemoIdentity] = field(default_factory=list)
