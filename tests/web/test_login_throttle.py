"""Login throttling: growing delays per account and per address, in the shared cache."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from beffroi.accounts import throttle
from tests.conftest import PASSWORD
from tests.support import service_reachable

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ATTACKER = "203.0.113.9"
REAL_USER = "198.51.100.7"
WRONG = "wrong"


class Clock:
    """The throttle's time, moved by the test instead of waiting."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(throttle, "now", lambda: clock.now)
    return clock


def login(client: Client, username: str, password: str = WRONG, address: str = ATTACKER) -> Any:
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def fail_until_refused(client: Client, username: str, address: str = ATTACKER) -> Any:
    """Wrong passwords until one is refused without being checked; that refusal."""
    for _ in range(100):
        response = login(client, username, address=address)
        if response.status_code == 429:
            return response
        assert response.status_code == 200
    raise AssertionError("never throttled")


def test_each_failure_past_five_doubles_the_wait(
    client: Client, make_user: Callable[..., Any], clock: Clock
) -> None:
    make_user("alice")
    for _ in range(throttle.ACCOUNT.free_failures):
        assert login(client, "alice").status_code == 200
    waits = []
    for _ in range(4):
        refused = login(client, "alice")
        assert refused.status_code == 429
        waits.append(int(refused["Retry-After"]))
        clock.advance(waits[-1])
        assert login(client, "alice").status_code == 200  # checked, wrong, counted
    assert waits == [2, 4, 8, 16]
    # During the wait even the right password is refused, without being checked…
    locked = login(client, "Alice ", PASSWORD)
    assert locked.status_code == 429 and "_auth_user_id" not in client.session
    # …and after it, the right password works and the account starts afresh.
    clock.advance(32)
    assert login(client, "alice", PASSWORD).status_code == 302
    client.logout()
    assert login(client, "alice").status_code == 200


def test_the_wait_is_capped(make_user: Callable[..., Any], clock: Clock) -> None:
    policy = throttle.ACCOUNT
    assert policy.delay(policy.free_failures - 1) == 0
    assert policy.delay(1000) == policy.max_delay == 15 * 60


def test_an_attacker_cannot_lock_the_real_user_out(
    client: Client, make_user: Callable[..., Any], clock: Clock
) -> None:
    make_user("alice")
    for _ in range(8):
        refused = fail_until_refused(client, "alice")
        clock.advance(int(refused["Retry-After"]))
    waiting = int(fail_until_refused(client, "alice")["Retry-After"])
    # Hammering during the wait is refused and not counted: the wait does not grow.
    for _ in range(20):
        assert int(login(client, "alice")["Retry-After"]) <= waiting
    # The real user, elsewhere, waits that delay at most, then gets in.
    real = Client()
    assert login(real, "alice", PASSWORD, REAL_USER).status_code == 429
    clock.advance(waiting)
    assert login(real, "alice", PASSWORD, REAL_USER).status_code == 302


def test_spraying_one_password_across_accounts_is_slowed(
    client: Client, make_user: Callable[..., Any], clock: Clock
) -> None:
    make_user("alice")
    for n in range(throttle.ADDRESS.free_failures):
        assert login(client, f"user{n}").status_code == 200
    refused = login(client, "someone-else")
    assert refused.status_code == 429 and refused["Retry-After"] == "2"
    # The address is slowed, not the accounts: from elsewhere alice gets in at once.
    assert login(Client(), "alice", PASSWORD, REAL_USER).status_code == 302
    # A success from the sprayer's address does not clear its count.
    clock.advance(2)
    assert login(client, "alice", PASSWORD).status_code == 302
    assert login(Client(), "user99").status_code == 200
    assert login(Client(), "user98").status_code == 429


def test_the_counts_survive_a_restart(make_user: Callable[..., Any]) -> None:
    from django.core.cache import caches
    from django.core.cache.backends import locmem

    make_user("alice")
    fail_until_refused(Client(), "alice")
    # A new process: nothing in memory, a new cache object.
    locmem._caches.clear()
    locmem._expire_info.clear()
    del caches["default"]
    assert login(Client(), "alice", PASSWORD).status_code == 429


def test_one_password_check_at_a_time_per_account_and_address() -> None:
    first = throttle.begin("alice", ATTACKER)
    assert isinstance(first, throttle.Attempt)
    # A parallel attempt before the first one is counted waits its turn.
    assert throttle.begin("alice", REAL_USER) == throttle.Refused(retry_after=1)
    assert throttle.begin("bob", ATTACKER) == throttle.Refused(retry_after=1)
    assert isinstance(throttle.begin("bob", REAL_USER), throttle.Attempt)
    first.failed()
    # Counted: the next attempt has its own turn (and the stale turn is not handed out).
    assert isinstance(throttle.begin("alice", "192.0.2.1"), throttle.Attempt)


def test_the_refusal_says_when_to_retry_in_both_languages(
    client: Client, make_user: Callable[..., Any], clock: Clock
) -> None:
    make_user("alice")
    refused = fail_until_refused(client, "alice")
    assert refused["Retry-After"] == "2"
    assert "Réessayez dans 2 secondes" in refused.content.decode()
    from beffroi.accounts.views import _retry_message

    with translation.override("en"):
        assert _retry_message(2) == "Too many failed attempts. Try again in 2 seconds."
        assert _retry_message(61) == "Too many failed attempts. Try again in 2 minutes."
    with translation.override("fr"):
        assert "1 minute" in _retry_message(60)


def test_the_api_token_is_not_throttled(make_user: Callable[..., Any]) -> None:
    from beffroi.accounts.models import ApiToken

    _token, key = ApiToken.issue(make_user("alice"), "script")
    fail_until_refused(Client(), "alice")
    response = Client().get("/api/v1/orgs", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200


def test_the_login_page_writes_nothing() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.support import write_statements

    with CaptureQueriesContext(connection) as context:
        assert Client().get(LOGIN).status_code == 200
    assert not write_statements(context)


def test_the_address_of_an_attempt() -> None:
    from django.test import RequestFactory

    def address(remote: str) -> str:
        return throttle.client_address(RequestFactory().post(LOGIN, REMOTE_ADDR=remote))

    assert address("203.0.113.9") == "203.0.113.9"
    assert address("2001:db8:1:2:3:4:5:6") == address("2001:db8:1:2:ffff::1") == "2001:db8:1:2::/64"
    assert address("::ffff:203.0.113.9") == "203.0.113.9"
    assert address("") == "unknown"


def _remote_addr_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [environ["REMOTE_ADDR"].encode()]


@pytest.mark.parametrize(
    ("env", "seen"),
    [
        ({}, "127.0.0.1"),  # no proxy declared: the header is anyone's to forge
        ({"BEFFROI_BEHIND_PROXY": "1"}, "203.0.113.9"),  # the address the proxy added
        ({"BEFFROI_BEHIND_PROXY": "1", "BEFFROI_PROXY_ADDRESS": "10.0.0.9"}, "127.0.0.1"),
    ],
)
def test_behind_a_proxy_the_browsers_address_is_counted(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], seen: str
) -> None:
    import threading
    import urllib.request

    from waitress import create_server

    from beffroi.cli import proxy_options

    for key in ("BEFFROI_BEHIND_PROXY", "BEFFROI_PROXY_ADDRESS"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    server = create_server(_remote_addr_app, host="127.0.0.1", port=0, **proxy_options())
    threading.Thread(target=server.run, daemon=True).start()
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.effective_port}/",  # type: ignore[union-attr]
            headers={"X-Forwarded-For": "198.51.100.7, 203.0.113.9"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.read().decode() == seen
    finally:
        server.close()


def test_the_cache_is_shared_through_redis_when_there_is_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from beffroi import config

    monkeypatch.delenv("BEFFROI_CACHE_URL", raising=False)
    monkeypatch.delenv("BEFFROI_BROKER_URL", raising=False)
    assert config.cache_url() is None
    monkeypatch.setenv("BEFFROI_BROKER_URL", "redis://broker:6379/0")
    assert config.cache_url() == "redis://broker:6379/0"
    monkeypatch.setenv("BEFFROI_CACHE_URL", "redis://cache:6379/1")
    assert config.cache_url() == "redis://cache:6379/1"
    monkeypatch.setenv("BEFFROI_CACHE_URL", "memcached://cache:11211")
    with pytest.raises(ValueError, match="BEFFROI_CACHE_URL"):
        config.cache_url()


REDIS_URL = "redis://127.0.0.1:6379/14"


@pytest.mark.redis
def test_throttling_on_redis(settings: Any, make_user: Callable[..., Any], clock: Clock) -> None:
    if not service_reachable(REDIS_URL):
        pytest.skip("no Redis server")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "beffroi-test",
        }
    }
    from django.core.cache import cache

    cache.clear()
    try:
        make_user("alice")
        refused = fail_until_refused(Client(), "alice")
        assert refused["Retry-After"] == "2"
        clock.advance(2)
        assert login(Client(), "alice", PASSWORD, REAL_USER).status_code == 302
    finally:
        cache.clear()


@pytest.mark.django_db(transaction=True)
def test_migrate_makes_the_cache_table() -> None:
    """``beffroi init`` (and ``serve``, ``demo``) run ``migrate``: the table comes with it."""
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection

    from beffroi.config import CACHE_TABLE

    call_command("migrate", "accounts", "0001", verbosity=0)
    assert CACHE_TABLE not in connection.introspection.table_names()
    call_command("migrate", "accounts", verbosity=0)
    assert CACHE_TABLE in connection.introspection.table_names()
    cache.set("survives", 1)
    assert cache.get("survives") == 1
