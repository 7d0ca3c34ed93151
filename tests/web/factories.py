"""Small builders of test data, shared by the web and browser tests."""

from __future__ import annotations

from typing import Any

from django.utils import timezone


def make_item(source: Any, author: Any, platform_id: str, **fields: Any) -> Any:
    from beffroi.items.models import Item

    defaults: dict[str, Any] = {
        "kind": "comment",
        "text": "",
        "language": "fr",
        "created_at": timezone.now(),
        "platform": source.platform,
    }
    defaults.update(fields)
    return Item.objects.create(
        organization=source.organization,
        source=source,
        platform_id=platform_id,
        author=author,
        **defaults,
    )


def make_author(org: Any, handle: str, platform: str = "file", **fields: Any) -> Any:
    from beffroi.items.models import Author

    return Author.objects.create(
        organization=org, platform=platform, platform_id=handle, handle=handle, **fields
    )
