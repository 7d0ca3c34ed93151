"""What every HTTP connector shares: typed errors, rate limits per token, retries.

Connectors that speak to a platform with ``httpx`` (Graph API, TikTok, Telegram's web preview,
feeds) go through :class:`ApiClient`; connectors built on an official SDK (tweepy,
google-api-python-client, atproto) use :func:`retrying` and :data:`RATE_GATE` around the SDK's
calls. Most subclass :class:`HttpConnector`, which takes the keyword arguments every one of
them had (``timeout``, ``retries``, ``backoff``, ``max_wait``) and hands them to both. Either
way:

- **Rate limits are kept per token.** When a platform answers 429 or says that a token's
  window is spent (``x-rate-limit-remaining: 0``, Meta's ``X-App-Usage`` at 100 %…), the
  token is closed until the time the platform gave, for every source and action that uses
  it — in this process, and in every worker when the gate shares the broker's Redis: the
  next call raises :class:`RateLimited` at once, without asking the platform again (asking
  again during the window is what gets apps blocked).
- **Short waits are waited, long ones handed back.** A 429 or a 5xx is retried in the call
  with exponential backoff when the wait is short (``max_wait`` seconds, 8 by default);
  beyond, :class:`RateLimited` or :class:`TransientError` goes back to the task engine, which
  reschedules the sync or the action at the time the platform gave.
- **Errors are typed** by a per-platform ``classify`` function that reads the platform's
  documented error body; a token never appears in an error message or a log line.
- **No address inside the server's network is contacted** unless the operator allowed it
  (:mod:`beffroi.egress`): a refused address and a failed connection read the same
  (:func:`unreachable`), so that errors never tell an open port from a closed one.
- **A write that creates is never sent twice by itself.** A request that creates something
  (a ``POST``, unless the caller says otherwise with ``create=``) whose answer was lost after
  it was sent (a read timeout, a dropped connection) or that the platform failed while
  answering (HTTP 500, 502, 504) may have created it: it raises :class:`OutcomeUnknown`, not
  retried. A failure that says nothing was done (a connection that failed, a 429, a 503) is
  retried as before. SDK calls say ``create=True`` to :func:`retrying`.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypedDict, TypeVar

import httpx

from beffroi import egress
from beffroi.connectors.base import (
    AuthError,
    ConfigurationError,
    Connector,
    ConnectorError,
    MalformedPayload,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    TransientError,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Seconds before a request is abandoned.
DEFAULT_TIMEOUT = 30.0
#: Longest wait spent inside a call before handing the retry back to the task engine.
DEFAULT_MAX_WAIT = 8.0
#: Retries of one call after a 5xx or a network failure.
DEFAULT_RETRIES = 2
#: First backoff delay in seconds (then doubled).
DEFAULT_BACKOFF = 0.5
#: Wait assumed after a 429 that says nothing about when to come back.
DEFAULT_RATE_WAIT = 60.0
#: Failures of a request that was sent, after which the platform may have acted.
AMBIGUOUS_STATUSES = frozenset({500, 502, 504})
#: httpx's failures that happen before a request is sent: nothing can have been done.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def token_key(platform: str, token: str) -> str:
    """A stable, non-secret key for a token: what the rate gate and logs may name."""
    digest = hashlib.sha256(f"{platform}\0{token}".encode()).hexdigest()
    return f"{platform}:{digest[:16]}"


class RateGate:
    """Tokens closed until a given time, shared by every connector of the process — and of
    every process when a shared store is configured (:meth:`share`).

    The embedded default keeps closures in memory. In the distributed mode the Celery
    workers are separate processes: :meth:`share` with the broker's Redis makes one worker's
    429 close the token for all of them. If Redis cannot be reached, the gate keeps working
    in memory (a warning is logged): a Redis hiccup must not stop syncs.
    """

    #: Closes ``KEYS[1]`` for ``ARGV[1]`` ms unless it is already closed for longer.
    _CLOSE = (
        "local left = redis.call('PTTL', KEYS[1]) "
        "if left < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end"
    )

    def __init__(self) -> None:
        self._closed: dict[str, float] = {}
        self._lock = threading.Lock()
        self._redis: Any = None
        self._prefix = "beffroi:rate-gate:"

    def share(self, redis_url: str | None, prefix: str = "beffroi:rate-gate:") -> None:
        """Keep closures in the Redis at ``redis_url`` too (None: in this process only)."""
        if not redis_url:
            self._redis = None
            return
        import redis  # only the distributed mode needs it

        self._redis = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self._prefix = prefix

    def _shared(self, action: Callable[[Any], T]) -> T | None:
        if self._redis is None:
            return None
        try:
            return action(self._redis)
        except Exception as exc:  # the Redis client raises many kinds; all mean "unreachable"
            log.warning("rate gate: the shared store failed (%s); using this process's", exc)
            return None

    def close(self, key: str, seconds: float) -> None:
        """Keep ``key`` closed for ``seconds`` from now (the later of two closures wins)."""
        until = time.monotonic() + max(0.0, seconds)
        with self._lock:
            self._closed[key] = max(until, self._closed.get(key, 0.0))
        milliseconds = max(1, int(seconds * 1000))
        self._shared(lambda r: r.eval(self._CLOSE, 1, self._prefix + key, milliseconds))

    def wait_left(self, key: str) -> float:
        """Seconds until ``key`` opens again (0 when open), here or in the shared store."""
        with self._lock:
            until = self._closed.get(key)
            left = 0.0 if until is None else until - time.monotonic()
            if until is not None and left <= 0:
                del self._closed[key]
        shared = self._shared(lambda r: r.pttl(self._prefix + key))
        if isinstance(shared, int) and shared > 0:
            left = max(left, shared / 1000)
        return max(0.0, left)

    def check(self, key: str, label: str) -> None:
        """Raise :class:`RateLimited` if ``key`` is closed."""
        left = self.wait_left(key)
        if left > 0:
            raise RateLimited(
                f"{label}: this account's rate limit is spent; it resets in {left:.0f} s.",
                retry_after=left,
            )

    def clear(self) -> None:
        """Open every token (tests)."""
        with self._lock:
            self._closed.clear()

        def forget(r: Any) -> None:
            for name in r.scan_iter(f"{self._prefix}*"):
                r.delete(name)

        self._shared(forget)


#: The process-wide gate.
RATE_GATE = RateGate()


def retry_after_seconds(headers: Mapping[str, str], default: float | None = None) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or an HTTP date), else ``default``."""
    value = headers.get("retry-after") or headers.get("Retry-After")
    if not value:
        return default
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, moment.timestamp() - time.time())


def epoch_reset_seconds(value: str | None) -> float | None:
    """Seconds until an epoch-seconds reset header (X's ``x-rate-limit-reset``)."""
    if not value:
        return None
    try:
        return max(0.0, float(value) - time.time())
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a platform's answer means: an error to raise, a wait before retrying, or both."""

    error: ConnectorError | None = None
    #: Close the token for this many seconds (a spent window), even when the answer is OK.
    close_for: float | None = None


Classifier = Callable[[httpx.Response], Verdict]


def default_classify(response: httpx.Response, label: str) -> Verdict:
    """HTTP statuses alone: what a platform without a documented error body gets."""
    status = response.status_code
    if status < 400:
        return Verdict()
    if status in (401, 403):
        return Verdict(AuthError(f"{label} refused the credentials (HTTP {status})."))
    if status in (404, 410):
        return Verdict(NotFound(f"{label}: not found (HTTP {status})."))
    if status == 429:
        wait = retry_after_seconds(response.headers, DEFAULT_RATE_WAIT)
        return Verdict(RateLimited(f"{label} asked to slow down (HTTP 429).", wait), wait)
    if status >= 500:
        return Verdict(TransientError(f"{label} failed (HTTP {status}); it will be retried."))
    return Verdict(MalformedPayload(f"{label} refused the request (HTTP {status})."))


def unreachable(where: str, exc: BaseException, during: str = "") -> ConnectorError:
    """The error of a connection to ``where`` that failed or was refused by
    :mod:`beffroi.egress`, ``during`` an operation (`` while …``).

    Both read the same, so that a message never tells an internal address, a closed port and
    a silent host apart; a refused address is a :class:`ConfigurationError` (retrying cannot
    help), a failure a :class:`TransientError`.
    """
    message = f"{where} {egress.UNREACHABLE}{during}."
    if egress.is_blocked(exc):
        return ConfigurationError(message)
    return TransientError(message)


def _status_of(exc: BaseException) -> int | None:
    """The HTTP status an SDK's exception carries (httpx, requests, tweepy, httplib2)."""
    response = getattr(exc, "response", None)
    if response is None:  # not ``or``: a requests.Response with an error status is falsy
        response = getattr(exc, "resp", None)
    for holder, name in ((exc, "status_code"), (response, "status_code"), (response, "status")):
        value = getattr(holder, name, None)
        if isinstance(value, int):
            return value
    return None


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def outcome_of_create(error: ConnectorError) -> ConnectorError:
    """``error`` as a create's failure: :class:`OutcomeUnknown` when the request may have
    created something, ``error`` itself when it says that nothing was done.

    What cannot be told (an SDK that hides what failed) counts as unknown: posting twice is
    worse than asking a person to check.
    """
    if not isinstance(error, TransientError) or isinstance(error, RateLimited | OutcomeUnknown):
        return error
    for cause in _causes(error):
        if isinstance(cause, _NOT_SENT):
            return error
        status = _status_of(cause)
        if status is not None:
            if status in AMBIGUOUS_STATUSES:
                break
            return error  # 503 and the like: the platform said it did not process it
    unknown = OutcomeUnknown(
        f"{error} The platform may have done it already: it is not sent again by itself."
    )
    unknown.__cause__ = error
    return unknown


def _wait_of(error: ConnectorError, attempt: int, backoff: float) -> float | None:
    """Seconds to wait before retrying ``error`` in the call, or None if it is not retried."""
    if isinstance(error, OutcomeUnknown):
        return None  # sending it again might do it twice
    if isinstance(error, RateLimited):
        return error.retry_after if error.retry_after is not None else DEFAULT_RATE_WAIT
    if isinstance(error, TransientError):
        return float(backoff * 2.0**attempt)
    return None


def retrying(
    call: Callable[[], T],
    *,
    key: str,
    label: str,
    translate: Callable[[Exception], ConnectorError | None] | None = None,
    retries: int = DEFAULT_RETRIES,
    backoff: float = DEFAULT_BACKOFF,
    max_wait: float = DEFAULT_MAX_WAIT,
    gate: RateGate = RATE_GATE,
    create: bool = False,
) -> T:
    """Run ``call`` (an SDK request) with the rate gate, typed errors and retries.

    ``translate`` turns the SDK's exceptions into connector errors (None: not an error it
    knows, raised as it is). A :class:`RateLimited` closes the token for its wait. ``create``:
    the call creates something (a reply, a post), so a failure after which it may have been
    created raises :class:`OutcomeUnknown` at once (:func:`outcome_of_create`).
    """
    attempt = 0
    while True:
        gate.check(key, label)
        try:
            return call()
        except ConnectorError as exc:
            error: ConnectorError = exc
        except Exception as exc:
            translated = translate(exc) if translate is not None else None
            if translated is None:
                raise
            error = translated
            error.__cause__ = exc
        if create:
            error = outcome_of_create(error)
        if isinstance(error, RateLimited):
            gate.close(key, error.retry_after if error.retry_after is not None else 60.0)
        wait = _wait_of(error, attempt, backoff)
        if wait is None or attempt >= retries or wait > max_wait:
            raise error
        log.info("%s: retrying in %.1f s after: %s", label, wait, error)
        time.sleep(wait)
        attempt += 1


class ApiClient:
    """An ``httpx`` client for one platform and one token, with the rules above.

    ``classify`` reads an answer and returns a :class:`Verdict`; it is called for every
    answer, successes included, so that a spent window seen in the headers closes the token
    before the platform has to refuse. Its connections are checked by :mod:`beffroi.egress`
    (a ``transport`` given by a test replaces that).
    """

    def __init__(
        self,
        base_url: str,
        *,
        label: str,
        key: str,
        classify: Classifier | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff: float = DEFAULT_BACKOFF,
        max_wait: float = DEFAULT_MAX_WAIT,
        gate: RateGate = RATE_GATE,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.label = label
        self.key = key
        self.classify: Classifier = classify or (lambda r: default_classify(r, label))
        self.retries, self.backoff, self.max_wait = retries, backoff, max_wait
        self.gate = gate
        self._client = httpx.Client(
            base_url=base_url,
            headers=dict(headers or {}),
            timeout=timeout,
            transport=transport or egress.guarded_transport(),
            follow_redirects=False,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self, method: str, url: str, *, create: bool | None = None, **kwargs: Any
    ) -> httpx.Response:
        """Send one request; return the answer or raise a typed :class:`ConnectorError`.

        ``create``: whether the request creates something (None: when it is a ``POST``); a
        create that may have been done is not retried (:class:`OutcomeUnknown`).
        """
        creates = method.upper() == "POST" if create is None else create

        def once() -> httpx.Response:
            try:
                response = self._client.request(method, url, **kwargs)
            except httpx.TimeoutException as exc:
                error: ConnectorError = TransientError(f"{self.label} did not answer in time.")
                raise _of_create(error, exc) if creates else error from exc
            except httpx.TransportError as exc:
                error = unreachable(self.label, exc)
                raise _of_create(error, exc) if creates else error from exc
            verdict = self.classify(response)
            if verdict.close_for is not None and verdict.error is None:
                self.gate.close(self.key, verdict.close_for)
            if verdict.error is not None:
                if creates and response.status_code in AMBIGUOUS_STATUSES:
                    raise outcome_of_create(verdict.error)
                raise verdict.error
            return response

        return retrying(
            once,
            key=self.key,
            label=self.label,
            retries=self.retries,
            backoff=self.backoff,
            max_wait=self.max_wait,
            gate=self.gate,
        )

    def json(self, method: str, url: str, **kwargs: Any) -> Any:
        """:meth:`request`, and the answer's JSON body (MalformedPayload if it is not JSON)."""
        response = self.request(method, url, **kwargs)
        return parse_json(response, self.label)

    def get(self, url: str, **kwargs: Any) -> Any:
        """``GET`` and its JSON body."""
        return self.json("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        """``POST`` and its JSON body."""
        return self.json("POST", url, **kwargs)


def _of_create(error: ConnectorError, exc: httpx.HTTPError) -> ConnectorError:
    """``error``, raised for httpx's ``exc`` during a create, as :func:`outcome_of_create`
    reads it (the chain is not set yet where it is raised)."""
    error.__cause__ = exc
    return outcome_of_create(error)


class HttpOptions(TypedDict, total=False):
    """How long :class:`HttpConnector`'s calls wait and how they are retried: the keyword
    arguments a subclass passes on (``**http: Unpack[HttpOptions]``)."""

    timeout: float
    retries: int
    backoff: float
    max_wait: float


class HttpConnector(Connector):
    """A connector whose calls go through :class:`ApiClient` or :func:`retrying`.

    ``timeout`` (seconds before a request is abandoned), ``retries``, ``backoff`` and
    ``max_wait`` (see :func:`retrying`) apply to every call it makes; a sync keeps the
    defaults, tests shorten them.
    """

    def __init__(
        self,
        settings: Mapping[str, Any],
        credentials: Mapping[str, Any],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff: float = DEFAULT_BACKOFF,
        max_wait: float = DEFAULT_MAX_WAIT,
    ) -> None:
        super().__init__(settings, credentials)
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.max_wait = max_wait

    @property
    def http_options(self) -> HttpOptions:
        """The timeout and the retries, as :class:`ApiClient` takes them."""
        return HttpOptions(
            timeout=self.timeout, retries=self.retries, backoff=self.backoff, max_wait=self.max_wait
        )

    def _retrying(
        self,
        call: Callable[[], T],
        *,
        key: str,
        label: str | None = None,
        translate: Callable[[Exception], ConnectorError | None] | None = None,
        create: bool = False,
    ) -> T:
        """:func:`retrying` with this connector's retries (``label``: the connector's)."""
        return retrying(
            call,
            key=key,
            label=label or self.label,
            translate=translate,
            retries=self.retries,
            backoff=self.backoff,
            max_wait=self.max_wait,
            create=create,
        )


def parse_json(response: httpx.Response, label: str) -> Any:
    """The JSON body of ``response``, or :class:`MalformedPayload` naming the platform."""
    try:
        return response.json()
    except ValueError as exc:
        raise MalformedPayload(
            f"{label} answered something that is not JSON (HTTP {response.status_code})."
        ) from exc


def require(payload: Any, kind: type[T], label: str, what: str) -> T:
    """``payload`` if it is a ``kind``, else :class:`MalformedPayload` naming ``what``."""
    if not isinstance(payload, kind):
        raise MalformedPayload(f"{label}: {what} is not a {kind.__name__} as documented.")
    return payload
