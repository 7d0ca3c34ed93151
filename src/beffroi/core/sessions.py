"""Session helpers."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def keep_in_session(request: HttpRequest, key: str, value: Any) -> None:
    """Store ``value`` under ``key`` only when it changes.

    Django saves a session that was assigned to, even with the same value: assigning on
    every page would make each page view write to the database (and wait for its lock).
    """
    if request.session.get(key) != value:
        request.session[key] = value
