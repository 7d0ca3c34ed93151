"""A busy embedded database answers "busy, try again" (503) quickly instead of failing late.

SQLite lets one writer at a time hold the database. Background work (a sync storing a batch,
a veille scan) may hold it for seconds; the connections are set to wait up to 20 s for it
(``busy_timeout`` in ``web/settings.py``), which suits background work but not a person
waiting for a page. Reading pages do not write (:mod:`tests.web.test_busy_database`), and
WAL lets them read while another connection writes, so only requests that write meet the
lock. For those, :class:`BusyDatabaseMiddleware` lowers the wait of the request's connection
to :data:`WEB_LOCK_WAIT_MS` and turns a "database is locked" error into a 503 with
``Retry-After``: a translated page for people, a JSON problem for the API.

The retry is SQLite's own busy handler, which retries taking the lock until the wait is
over: each statement is retried where it stands. Running the whole view again instead could
repeat a change that was already committed before the statement that met the lock.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection
from django.db.backends.signals import connection_created
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.views import defaults

from beffroi.core.problems import problem_response

#: How long a web request's statement waits for the lock (SQLite retries meanwhile), in ms.
WEB_LOCK_WAIT_MS = 2000
#: What the 503 asks the client to wait before trying again, in seconds.
RETRY_AFTER_SECONDS = 5

API_PREFIX = "/api/"


def is_database_locked(exc: BaseException | None) -> bool:
    """Whether ``exc`` is SQLite's "another connection holds the lock" error."""
    return isinstance(exc, OperationalError) and "database is locked" in str(exc)


@dataclass
class _RequestWait:
    wait_ms: int
    #: The connections given the short wait, and the wait each had before.
    changed: list[tuple[Any, int]] = field(default_factory=list)

    def apply(self, raw: Any) -> None:
        # On the driver's connection: neither logged as a query nor counted by the tests
        # that count statements.
        self.changed.append((raw, int(raw.execute("PRAGMA busy_timeout").fetchone()[0])))
        raw.execute(f"PRAGMA busy_timeout = {int(self.wait_ms)}")

    def restore(self) -> None:
        for raw, previous in self.changed:
            if raw is connection.connection:  # still open
                raw.execute(f"PRAGMA busy_timeout = {previous}")


_request_wait: ContextVar[_RequestWait | None] = ContextVar("beffroi_request_wait", default=None)


def _short_wait_when_opened_by_a_request(sender: Any, connection: Any, **kwargs: Any) -> None:
    state = _request_wait.get()
    if state is not None and connection.vendor == "sqlite":
        state.apply(connection.connection)


connection_created.connect(_short_wait_when_opened_by_a_request, dispatch_uid=__name__)


@contextmanager
def web_lock_wait(wait_ms: int) -> Iterator[None]:
    """This thread's SQLite connection waits ``wait_ms`` for the lock, then as before.

    Connections belong to one thread, so the background threads keep their longer wait. A
    connection is opened on first use (none for a request that does not need one) and
    closed after the request; one still open afterwards gets its wait back.
    """
    state = _RequestWait(wait_ms)
    token = _request_wait.set(state)
    if connection.vendor == "sqlite" and connection.connection is not None:
        state.apply(connection.connection)
    try:
        yield
    finally:
        _request_wait.reset(token)
        state.restore()


def busy_response(request: HttpRequest) -> HttpResponse:
    """503 "busy, try again": a JSON problem under ``/api/``, a translated page elsewhere."""
    response: HttpResponse
    if request.path.startswith(API_PREFIX):
        response = problem_response(
            503,
            "Service Unavailable",
            "The database is busy with other work. Try again in a few seconds.",
        )
    else:
        # No context processors: the page needs nothing from the database.
        html = loader.render_to_string("503.html", {"retry_after": RETRY_AFTER_SECONDS})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class BusyDatabaseMiddleware:
    """Short lock wait for web requests, and a 503 for the view that still meets the lock."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        wait_ms = getattr(settings, "BEFFROI_WEB_LOCK_WAIT_MS", WEB_LOCK_WAIT_MS)
        with web_lock_wait(wait_ms):
            return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return busy_response(request) if is_database_locked(exception) else None


def _caused_by_lock(exc: BaseException | None) -> bool:
    while exc is not None:
        if is_database_locked(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


# A lock met outside the view (saving the session) answers 503 too: Django's error handlers
# are replaced by ones that look at what caused the error.


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 handler."""
    if _caused_by_lock(sys.exc_info()[1]):
        return busy_response(request)
    return defaults.server_error(request)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The 400 handler: Django reports a session it could not save as ``SessionInterrupted``
    (a bad request) whatever the reason; a locked database is not the client's fault."""
    if _caused_by_lock(exception):
        return busy_response(request)
    return defaults.bad_request(request, exception)
