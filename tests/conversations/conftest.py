from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """The services' sentences are read in English (pages choose by Accept-Language)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def page(org: Any) -> Any:
    """The town hall's Facebook page (its connector is stood in for by the tests)."""
    from beffroi.sources.models import Source

    return Source.objects.create(
        organization=org, name="Page", platform="facebook", settings={"page_id": "1"}
    )


class Thread:
    """Items on a source, written in platform-time order: ``thread.post(...)`` by the town,
    ``thread.say(handle, text, parent=...)`` by anyone."""

    def __init__(self, org: Any, source: Any) -> None:
        from beffroi.items.models import Author

        self.org, self.source = org, source
        self.clock = timezone.now() - timedelta(days=2)
        self.count = 0
        self.town, _ = Author.objects.get_or_create(
            organization=org,
            platform=source.platform,
            platform_id=source.settings.get("page_id", "town"),
            handle="mairie",
        )

    def _author(self, handle: str) -> Any:
        from beffroi.items.models import Author

        author, _ = Author.objects.get_or_create(
            organization=self.org,
            platform=self.source.platform,
            platform_id=handle,
            defaults={"handle": handle, "display_name": handle.capitalize() + " Martin"},
        )
        return author

    def item(
        self, author: Any, text: str, kind: str, parent: Any = None, at: datetime | None = None
    ) -> Any:
        from beffroi.items.models import Item

        self.count += 1
        self.clock += timedelta(minutes=10)
        return Item.objects.create(
            organization=self.org,
            source=self.source,
            platform=self.source.platform,
            platform_id=f"i{self.count}",
            kind=kind,
            author=author,
            text=text,
            parent=parent,
            parent_platform_id=parent.platform_id if parent is not None else "",
            created_at=at or self.clock,
            language="fr",
        )

    def post(self, text: str = "Travaux rue des Écoles la semaine prochaine.") -> Any:
        return self.item(self.town, text, "post")

    def say(self, handle: str, text: str, parent: Any = None, kind: str | None = None) -> Any:
        if kind is None:
            kind = "comment" if parent is not None and parent.kind == "post" else "reply"
        return self.item(self._author(handle), text, kind, parent)

    def answer(self, text: str, parent: Any, kind: str = "reply") -> Any:
        return self.item(self.town, text, kind, parent)


@pytest.fixture
def thread(org: Any, page: Any) -> Thread:
    return Thread(org, page)


@pytest.fixture
def member(org: Any, make_user: Callable[..., Any]) -> Callable[[str, str], Any]:
    def make(name: str, role: str = "publisher") -> Any:
        return make_user(name, org=org, role=role, email=f"{name}@ville.example")

    return make
