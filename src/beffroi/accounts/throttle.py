"""Login throttling: growing delays per account and per address, kept in the shared cache.
(The same growing delays slow down an address that tries links that do not exist:
:func:`guess_wait`, :func:`wrong_guess`.)

Each failed password counts for the account (the username typed) and for the address the
attempt came from. Past a few free failures, the next attempt in that scope must wait a
delay that doubles with each further failure, up to a cap. An attempt made during the delay
is refused without checking the password and without counting, so an attacker cannot lengthen
the wait: the real user, from anywhere, waits at most the current delay, then a correct
password works and clears the account's count. The address count (many accounts tried from
one address: password spraying) is not cleared by a success, or one valid account would
let an attacker reset it.

Only one password check at a time per account and per address: an attempt claims its turn
with ``cache.add`` (atomic in Redis and in the database cache), so that parallel requests
cannot all pass before the first failure is counted.

The counts live in Django's cache (``CACHES`` in ``web/settings.py``): the database's cache
table in the embedded mode, Redis when there is one, so that every web process shares them
and a restart keeps them. django-axes and django-ratelimit lock out or cut at a fixed rate;
neither has delays that grow.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from dataclasses import dataclass, field
from typing import Any

from django.contrib import auth
from django.core.cache import cache
from django.http import HttpRequest

KEY_PREFIX = "login-throttle"
#: How long a claimed turn is held if the attempt never reports back (a crash), in seconds.
TURN_SECONDS = 15


@dataclass(frozen=True)
class Policy:
    scope: str
    #: Failures before any delay.
    free_failures: int
    #: The delay after the first counted failure past the free ones; it doubles after each.
    first_delay: int
    max_delay: int
    #: A count is forgotten this long after its last failure.
    memory: int

    def delay(self, failures: int) -> int:
        """Seconds to wait after the ``failures``-th failure before the next attempt."""
        if failures < self.free_failures:
            return 0
        exponent = min(failures - self.free_failures, 32)
        return int(min(self.first_delay * 2**exponent, self.max_delay))


#: Someone who forgot their password tries a few times; then 2 s, 4 s, 8 s… up to 15 minutes.
ACCOUNT = Policy("account", free_failures=5, first_delay=2, max_delay=15 * 60, memory=24 * 3600)
#: Several people may share an address (an office behind one router): more free failures.
ADDRESS = Policy("address", free_failures=20, first_delay=2, max_delay=15 * 60, memory=3600)


#: Addresses trying tokens that do not exist (external approval links). Guessing a 256-bit
#: token is hopeless, but a scanner is slowed down all the same; a person who mistyped a link
#: a few times is not.
LINK_GUESSES = Policy("link-guess", free_failures=20, first_delay=2, max_delay=15 * 60, memory=3600)


def now() -> float:
    return time.time()


def client_address(request: HttpRequest) -> str:
    """The address an attempt comes from; an IPv6 address stands for its /64 network.

    Behind a reverse proxy, ``beffroi serve`` (waitress) has already put the browser's
    address, from the proxy's X-Forwarded-For, in REMOTE_ADDR (``cli.proxy_options``).
    """
    try:
        address = ipaddress.ip_address(str(request.META.get("REMOTE_ADDR", "")))
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        # One subscriber gets a whole /64: counting single addresses would count nothing.
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


@dataclass
class _Counter:
    policy: Policy
    key: str
    failures: int = 0
    #: When the count last changed: the last failure, or the success that cleared it.
    changed_at: float = 0.0

    @classmethod
    def load(cls, policy: Policy, subject: str) -> _Counter:
        digest = hashlib.sha256(subject.encode()).hexdigest()
        counter = cls(policy, f"{KEY_PREFIX}:{policy.scope}:{digest}")
        state = cache.get(counter.key)
        if isinstance(state, dict):
            counter.failures = int(state.get("failures", 0))
            counter.changed_at = float(state.get("changed_at", 0.0))
        return counter

    def wait(self, at: float) -> float:
        return self.changed_at + self.policy.delay(self.failures) - at

    @property
    def turn_key(self) -> str:
        # Unique to this count: once a failure is recorded, the next attempt has a new turn.
        return f"{self.key}:turn:{self.failures}:{self.changed_at!r}"

    def record_failure(self, at: float) -> None:
        self._store(self.failures + 1, at)

    def reset(self, at: float) -> None:
        # Stored rather than deleted: a new time makes new turns, where turns of the
        # failures before (never given back) would still be held for a count of zero.
        self._store(0, at)

    def _store(self, failures: int, at: float) -> None:
        state = {"failures": failures, "changed_at": at}
        cache.set(self.key, state, timeout=self.policy.memory)


@dataclass(frozen=True)
class Refused:
    """Not now: try again in ``retry_after`` seconds."""

    retry_after: int


@dataclass
class Attempt:
    """A password check the throttle lets through; report how it ended exactly once."""

    account: _Counter
    address: _Counter
    turns: list[str] = field(default_factory=list)

    def succeeded(self) -> None:
        """The password was right: the account starts afresh (the address does not)."""
        self.account.reset(now())
        self.release()

    def failed(self) -> None:
        """The password was wrong: counted for the account and for the address.

        The turns stay claimed (until they expire): a parallel attempt that read the
        counts before this failure must not get the same turn once it is given back.
        """
        at = now()
        self.account.record_failure(at)
        self.address.record_failure(at)

    def release(self) -> None:
        """Give the turns back (the attempt ended without a wrong password)."""
        cache.delete_many(self.turns)
        self.turns.clear()


def _normalized(username: str) -> str:
    return username.strip().casefold()


def begin(username: str, address: str) -> Attempt | Refused:
    """May a password be checked for ``username`` from ``address`` now? If so, the
    attempt claims its turn; if not, it is not counted."""
    attempt = Attempt(
        _Counter.load(ACCOUNT, _normalized(username)), _Counter.load(ADDRESS, address)
    )
    at = now()
    wait = max(attempt.account.wait(at), attempt.address.wait(at))
    if wait > 0:
        return Refused(retry_after=_whole_seconds(wait))
    for counter in (attempt.account, attempt.address):
        if not cache.add(counter.turn_key, True, timeout=TURN_SECONDS):
            # Another attempt for this account or address is being checked right now.
            attempt.release()
            return Refused(retry_after=1)
        attempt.turns.append(counter.turn_key)
    return attempt


def _whole_seconds(seconds: float) -> int:
    return max(1, math.ceil(seconds))


def authenticate(request: HttpRequest, username: str, password: str) -> Any:
    """Django's ``authenticate`` behind the throttle: the user, ``None`` for a wrong
    username or password, or :class:`Refused` (the password was not checked)."""
    attempt = begin(username, client_address(request))
    if isinstance(attempt, Refused):
        return attempt
    try:
        user = auth.authenticate(request, username=username, password=password)
    except BaseException:
        attempt.release()
        raise
    if user is None:
        attempt.failed()
    else:
        attempt.succeeded()
    return user


def guess_wait(address: str) -> int:
    """Seconds before ``address`` may try another link (0: now)."""
    wait = _Counter.load(LINK_GUESSES, address).wait(now())
    return _whole_seconds(wait) if wait > 0 else 0


def wrong_guess(address: str) -> None:
    """``address`` tried a link that does not exist."""
    _Counter.load(LINK_GUESSES, address).record_failure(now())
