"""A busy embedded database: reading pages never write, writes answer 503 quickly.

Background work holds SQLite's single write lock for a while; pages that only read must
still answer, and a change must answer "busy, try again" after a short wait rather than a
500 after twenty seconds.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.support import write_statements
from tests.web import test_permission_matrix as matrix

world = matrix.world  # the permission matrix's objects, one of each (a fixture)

#: GET pages that change something on purpose.
WRITING_PAGES = {
    "moderation:case": "opening a case claims it for the moderator",
    "moderation:dossier_json": "an evidence export is written to the audit trail",
    "moderation:dossier_pdf": "an evidence export is written to the audit trail",
    "moderation:statements_json": "a DSA statements export is written to the audit trail",
    "moderation:statements_csv": "a DSA statements export is written to the audit trail",
    "oauth_callback": "the platform's answer ends the connection under way",
}


@pytest.mark.django_db
def test_reading_pages_writes_nothing(world: Any, make_user: Callable[..., Any]) -> None:
    client = matrix._login(make_user("reader", org=world.org, role="admin"))
    pages = [
        (name, page, True) for name, page in matrix.ORG_PAGES.items() if page.method == "GET"
    ] + [
        (name, page, False)
        for name, (page, _public) in matrix.OTHER_PAGES.items()
        if page.method == "GET"
    ]
    checked, writers = 0, {}
    for name, page, org_scoped in pages:
        if name in WRITING_PAGES:
            continue
        url = reverse(name, kwargs=page.kwargs(world, org_scoped))
        client.get(url, page.data(world))  # the first visit may remember the organization
        with CaptureQueriesContext(connection) as context:
            response = client.get(url, page.data(world))
        assert response.status_code in {200, 302}, (name, response.status_code)
        if write_statements(context):
            writers[name] = write_statements(context)
        checked += 1
    assert checked > 50
    assert not writers, writers


@contextmanager
def sqlite_write_lock() -> Iterator[None]:
    """Another connection holds the write lock, as a background job storing a batch does."""
    other = sqlite3.connect(connection.settings_dict["NAME"], timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


WAIT_MS = 400


@pytest.fixture
def short_wait(settings: Any) -> None:
    settings.BEFFROI_WEB_LOCK_WAIT_MS = WAIT_MS


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("connection_per_request", [True, False], ids=["served", "kept"])
def test_a_locked_database_still_serves_reads_and_answers_busy_to_writes(
    org: Any,
    inbox_data: Any,
    member_client: Callable[..., Any],
    short_wait: None,
    connection_per_request: bool,
) -> None:
    """Served: a connection opened by each request, as ``beffroi serve`` does
    (``CONN_MAX_AGE=0``); kept: one connection open throughout, as in the other tests."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's single write lock")
    from beffroi.accounts.models import ApiToken

    def timed(call: Callable[[], Any]) -> tuple[Any, float]:
        if connection_per_request:
            connection.close()
        started = time.monotonic()
        response = call()
        return response, time.monotonic() - started

    client = member_client("analyst")
    token, key = ApiToken.issue(client.user, "script")
    unused, unused_key = ApiToken.issue(client.user, "never used yet")
    bearer = {"Authorization": f"Bearer {key}"}
    pages = [
        f"/o/{org.slug}/",
        f"/o/{org.slug}/inbox/",
        f"/o/{org.slug}/items/{inbox_data.root.pk}/",
        f"/o/{org.slug}/veille/",
    ]
    for url in pages:
        assert client.get(url).status_code == 200
    assert client.get("/api/v1/orgs", headers=bearer).status_code == 200  # notes the use

    with sqlite_write_lock():
        for url in pages:
            response, seconds = timed(lambda url=url: client.get(url))
            assert response.status_code == 200, url
            assert seconds < 5, url
        response, seconds = timed(
            lambda: client.get(f"/api/v1/orgs/{org.slug}/items", headers=bearer)
        )
        assert response.status_code == 200 and response.json()["items"]
        assert seconds < 5
        # A token whose use is due to be noted still reads (the note waits for a later call).
        response, seconds = timed(
            lambda: client.get("/api/v1/orgs", headers={"Authorization": f"Bearer {unused_key}"})
        )
        assert response.status_code == 200 and seconds < WAIT_MS / 1000 + 3

        # A change waits a little for the lock (SQLite retries), then says so.
        response, seconds = timed(lambda: client.post(f"/accounts/tokens/{token.pk}/revoke/"))
        assert response.status_code == 503
        assert response["Retry-After"] == "5"
        assert "Réessayez dans 5 secondes" in response.content.decode()
        assert WAIT_MS / 1000 <= seconds < WAIT_MS / 1000 + 3

        response, seconds = timed(
            lambda: client.post(
                f"/api/v1/orgs/{org.slug}/watches",
                {"name": "Eau", "query": "eau"},
                content_type="application/json",
                headers=bearer,
            )
        )
        assert response.status_code == 503 and response["Retry-After"] == "5"
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["status"] == 503 and "busy" in response.json()["detail"]
        assert seconds < WAIT_MS / 1000 + 3

    token.refresh_from_db()
    assert not token.revoked  # nothing was done
    assert not ApiToken.objects.get(pk=unused.pk).last_used_at
    # The web request's short wait was its own: this connection waits long again.
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] == 20000
    # Once the lock is free, the same change goes through.
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked


@pytest.mark.django_db(transaction=True)
def test_a_session_that_cannot_be_saved_is_busy_too(
    org: Any, member_client: Callable[..., Any], short_wait: None, settings: Any
) -> None:
    """The session is saved after the view, outside it: the 500 handler tells a busy
    database from an error (in French, the default language)."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's single write lock")
    client = member_client("moderator")
    quiet = Client(raise_request_exception=False)
    quiet.cookies = client.cookies
    with sqlite_write_lock():
        # The queue remembers its filters in the session: a change to save.
        response = quiet.get(f"/o/{org.slug}/moderation/queue/?category=insult")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert "Réessayez dans 5 secondes" in html


@pytest.mark.django_db
def test_busy_page_in_english(client: Client) -> None:
    from django.db import OperationalError
    from django.test import RequestFactory
    from django.utils import translation

    from beffroi.core.busy import busy_response, is_database_locked

    assert is_database_locked(OperationalError("database is locked"))
    assert not is_database_locked(OperationalError("no such table: x"))
    with translation.override("en"):
        response = busy_response(RequestFactory().get("/o/x/inbox/"))
    assert response.status_code == 503
    assert "Try again in 5 seconds" in response.content.decode()
