"""Reading through the API writes nothing, so that it still answers while SQLite's write
lock is held by background work (tests/web/test_busy_database.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.api import test_api_permission_matrix as matrix
from tests.support import write_statements

world = matrix.world  # the permission matrix's objects (a fixture)


def test_every_api_read_writes_nothing(
    world: Any, api: Any, make_user: Callable[..., Any], key_for: Callable[..., str]
) -> None:
    key = key_for(make_user("reader", org=world.org, role="admin"))
    api.get("orgs", key)  # the first use of the token is noted
    writers = {}
    reads = [(method, path) for method, path in matrix.OPERATIONS if method == "GET"]
    for method, path in reads:
        params, _body = matrix.MATRIX[(method, path)][1](world)
        url = matrix.PREFIX + path.format(**params)
        with CaptureQueriesContext(connection) as context:
            response = api.get(url, key)
        assert response.status_code == 200, (path, response.content)
        if write_statements(context):
            writers[path] = write_statements(context)
    assert len(reads) > 20
    assert not writers, writers


def test_token_use_is_noted_once_a_minute(api: Any, make_user: Callable[..., Any]) -> None:
    from beffroi.accounts.models import LAST_USED_RESOLUTION, ApiToken

    token, key = ApiToken.issue(make_user("alice"), "ci")
    api.get("orgs", key)
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    api.get("orgs", key)
    token.refresh_from_db()
    assert token.last_used_at == first
    # A minute later, the next call notes it again.
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - LAST_USED_RESOLUTION)
    api.get("orgs", key)
    token.refresh_from_db()
    assert token.last_used_at > first - timedelta(seconds=1)
    assert token.last_used_at <= timezone.now()
