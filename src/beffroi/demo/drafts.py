"""The builder's working records: who writes, as a person and as one platform's account, the
items being written (drafts) and the sources that collect them.

:mod:`beffroi.demo.builder` fills them; :mod:`beffroi.demo.payloads` reads them to write each
item's platform payload.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from beffroi.connectors.base import ItemKind, Media, NormalizedAuthor
from beffroi.demo.town import DemoLabel

__all__ = ["Account", "Draft", "DraftSource", "Persona"]


@dataclass(frozen=True)
class Persona:
    """Someone of the town (or a bot), whatever the platforms they write on."""

    key: str
    display: str
    handle: str
    first_name: str
    lang: str
    followers: int
    age_days: int
    instance: str = "mastodon.demo.invalid"
    town: bool = False


@dataclass(frozen=True)
class Account:
    """A persona as one platform knows it."""

    persona: Persona
    platform_id: str
    handle: str
    display: str
    url: str
    created: str

    def author(self) -> NormalizedAuthor:
        """The account as an item's author."""
        extra = {
            "followers_count": self.persona.followers,
            "account_created_at": self.created,
        }
        return NormalizedAuthor(self.platform_id, self.handle, self.display, self.url, extra)


@dataclass
class Draft:
    """An item being built, with its label; the builder turns it into a ``NormalizedItem``."""

    pid: str
    kind: ItemKind
    text: str
    created_at: datetime
    who: Account
    lang: str
    label: DemoLabel
    thread_id: str
    parent_id: str | None
    url: str
    likes: int
    shares: int
    media: tuple[Media, ...]
    ref: str  # a platform's secondary id (Facebook object number, Bluesky CID…)
    to: Account | None = None  # the other party of a private message
    subjects: tuple[str, ...] = ()
    children: int = 0


@dataclass
class DraftSource:
    """A source being built: its account, its drafts in order of creation and its posts."""

    name: str
    platform: str
    kind: str
    settings: dict[str, str]
    account: Persona | None
    drafts: list[Draft] = field(default_factory=list)
    by_id: dict[str, Draft] = field(default_factory=dict)
    posts: dict[str, Draft] = field(default_factory=dict)  # announcement key -> post
    weights: dict[str, float] = field(default_factory=dict)  # post id -> engagement
    seq: int = 0
