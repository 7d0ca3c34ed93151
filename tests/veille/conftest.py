from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from tests.fakes.alert_receivers import server, smtp_server  # noqa: F401 (fixtures)


@pytest.fixture
def post(org: Any, source: Any) -> Callable[..., Any]:
    """Make an item: ``post("text", "handle", when)``; each call gets its own id."""
    from tests.web.factories import make_author, make_item

    authors: dict[str, Any] = {}
    counter = {"n": 0}

    def make(
        text: str, handle: str = "someone", when: datetime | None = None, **fields: Any
    ) -> Any:
        counter["n"] += 1
        if handle not in authors:
            from beffroi.items.models import Author

            authors[handle] = Author.objects.filter(organization=org, handle=handle).first() or (
                make_author(org, handle, display_name=fields.pop("display_name", handle))
            )
        fields.pop("display_name", None)
        extra = {"created_at": when} if when is not None else {}
        return make_item(source, authors[handle], f"p{counter['n']}", text=text, **extra, **fields)

    return make
