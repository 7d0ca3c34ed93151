"""A fake Mastodon that says when each publication reached it, and can be slow or lose its
answer after it published: the race and crash tests of the publishing desk.

Built on :class:`~tests.fakes.mastodon_server.FakeMastodon` (which honours
``Idempotency-Key`` on status creation), without changing it.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from beffroi.sources.models import Source
from tests.fakes.loopback import RecordedRequest, Reply
from tests.fakes.mastodon_server import FakeMastodon

STATUSES = "/api/v1/statuses"
#: The longest a held answer waits for :meth:`TimedMastodon.release` (a test that forgot).
HOLD_LIMIT_SECONDS = 60.0


@dataclass(frozen=True)
class Arrival:
    """A status creation as it reached the platform: when (``time.time()``, the clock of
    ``timezone.now()`` on this machine), and with which ``Idempotency-Key``."""

    at: float
    key: str


class TimedMastodon(FakeMastodon):
    """Records the arrival of every status creation; :meth:`hold` and :meth:`lose` act on
    the next ones *after* the status is created (the platform published)."""

    def __init__(self, **kwargs: Any) -> None:
        # Mastodon's own page size (40), not the small pages of the pagination tests.
        kwargs.setdefault("default_limit", 20)
        kwargs.setdefault("max_limit", 40)
        super().__init__(**kwargs)
        self.arrivals: list[Arrival] = []
        #: Set when a held creation is done and its answer waits.
        self.reached = threading.Event()
        self._released = threading.Event()
        self._to_hold = 0
        self._to_lose = 0

    def start(self) -> TimedMastodon:
        super().start()
        server = self._server
        assert server is not None
        report = server.handle_error

        def handle_error(request: Any, client_address: Any) -> None:
            # A held answer written to a worker killed meanwhile: expected, not news.
            if not isinstance(sys.exc_info()[1], ConnectionError):
                report(request, client_address)

        server.handle_error = handle_error  # type: ignore[method-assign]
        return self

    def hold(self, creations: int = 1) -> None:
        """The next ``creations`` statuses are created, then their answer waits for
        :meth:`release` (a platform slow to answer: a worker killed meanwhile)."""
        with self.lock:
            self._to_hold = creations
            self.reached.clear()
            self._released.clear()

    def release(self) -> None:
        self._released.set()

    def lose(self, creations: int = 1) -> None:
        """The next ``creations`` statuses are created, then the connection is dropped
        without an answer."""
        with self.lock:
            self._to_lose = creations

    def published(self) -> list[dict[str, Any]]:
        """The statuses the connected account posted."""
        with self.lock:
            return [dict(s) for s in self.statuses.values() if s["account_id"] == self.me["id"]]

    def creations(self) -> list[RecordedRequest]:
        return self.requests_to("POST", STATUSES)

    def _dispatch(self, request: RecordedRequest) -> tuple[Reply, bool] | None:
        creating = request.method == "POST" and request.path.rstrip("/") == STATUSES
        if not creating:
            return super()._dispatch(request)
        arrived = time.time()  # before the lock: the moment it reached the platform
        with self.lock:
            self.arrivals.append(Arrival(arrived, request.header("Idempotency-Key") or ""))
        outcome = super()._dispatch(request)
        with self.lock:
            held, self._to_hold = self._to_hold > 0, max(0, self._to_hold - 1)
            lost, self._to_lose = self._to_lose > 0, max(0, self._to_lose - 1)
        if held:
            self.reached.set()
            self._released.wait(HOLD_LIMIT_SECONDS)
        return None if lost else outcome


def mastodon_source(organization: Any, server: FakeMastodon, name: str) -> Source:
    """A real (not demo) Mastodon account of ``organization`` on ``server``, synced just now
    (so that no scheduled sync competes with publishing during the test)."""
    from django.utils import timezone

    source = Source(
        organization=organization,
        name=name,
        platform="mastodon",
        settings={"base_url": server.base_url},
        last_synced_at=timezone.now(),
    )
    source.set_credentials({"access_token": server.token})
    source.save()
    return source
