"""Shared fixtures. Test data is written by the tests themselves."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

# The fake platforms, receivers and servers listen on the loopback: the tests allow it as an
# operator would an intranet host (beffroi.egress refuses it otherwise; tests/test_egress.py
# clears this to show that).
os.environ["BEFFROI_ALLOWED_INTERNAL_HOSTS"] = "127.0.0.1,localhost,::1"

#: The fixtures through which a test uses the database (directly or through another fixture).
DATABASE_FIXTURES = frozenset(
    {
        "db",
        "transactional_db",
        "django_db_reset_sequences",
        "django_db_serialized_rollback",
        "live_server",
    }
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL pass of ``make test`` (``BEFFROI_TESTS_DATABASE_ONLY=1``) runs the tests
    that use a database; the others (the library's, the templates' checks) never touch one
    and already ran, identically, in the SQLite pass, as did those marked
    ``database_agnostic``."""
    if os.environ.get("BEFFROI_TESTS_DATABASE_ONLY") != "1":
        return
    kept, left = [], []
    for item in items:
        uses_database = (
            DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
            or item.get_closest_marker("django_db") is not None
            or item.get_closest_marker("postgres") is not None
        )
        # Checks of what pages say whatever rows any engine returns (the languages of every
        # page, the links shown per role), and the cross-organization probes: their queries
        # already run on PostgreSQL through the permission matrices' cases kept there, which
        # open the same routes (another organization's objects included).
        agnostic = item.get_closest_marker("database_agnostic") is not None
        (kept if uses_database and not agnostic and _sampled(item) else left).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept


def _sampled(item: pytest.Item) -> bool:
    """``postgres_runs_only(role="admin")``: of a matrix over callers, the PostgreSQL pass runs
    the cases with these parameter values (a value or a tuple of values). A role's answer is
    decided from membership rows whatever the engine, and the SQLite pass checks every case;
    the role holding every capability runs each view through, so each view's queries still
    run on PostgreSQL."""
    marker = item.get_closest_marker("postgres_runs_only")
    if marker is None:
        return True
    params = getattr(getattr(item, "callspec", None), "params", {})
    for name, wanted in marker.kwargs.items():
        values = wanted if isinstance(wanted, tuple) else (wanted,)
        if name not in params:
            raise pytest.UsageError(
                f"{item.nodeid}: postgres_runs_only names {name!r}, not a parameter"
            )
        if params[name] not in values:
            return False
    return True


#: The password hasher of the tests: users are made by the thousand, and a hash's strength
#: is not what they check (tests/test_security.py checks the product's, with ``real_hashers``).
TEST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing(django_test_environment: Any) -> Iterator[list[str]]:
    from django.conf import settings
    from django.test.utils import override_settings

    product_hashers = list(settings.PASSWORD_HASHERS)
    with override_settings(PASSWORD_HASHERS=TEST_HASHERS):
        yield product_hashers


@pytest.fixture(scope="session", autouse=True)
def _static_files_listed_once() -> Iterator[None]:
    """WhiteNoise lists every static file when a request handler starts, as a server does
    once; the test client starts a handler per test (45 ms, a third of a permission matrix
    case). The list is made once per process, and served the same way."""
    from unittest import mock

    from whitenoise.middleware import WhiteNoiseMiddleware

    list_files = WhiteNoiseMiddleware.add_files_from_finders
    listed: dict[str, Any] = {}

    def add_files_once(self: WhiteNoiseMiddleware) -> None:
        if not listed:
            list_files(self)
            listed.update(self.files)
        else:
            self.files.update(listed)

    with mock.patch.object(WhiteNoiseMiddleware, "add_files_from_finders", add_files_once):
        yield


@pytest.fixture
def real_hashers(settings: Any, _fast_password_hashing: list[str]) -> None:
    """The product's password hashers, for the test that checks them."""
    settings.PASSWORD_HASHERS = _fast_password_hashing


ROLES = ["admin", "moderator", "analyst", "publisher", "approver", "viewer"]
PASSWORD = "correct-horse-battery-staple-42"


@pytest.fixture
def org(db: Any) -> Any:
    from beffroi.organizations.models import Organization

    return Organization.objects.create(slug="ville-test", name="Ville de Test")


@pytest.fixture
def other_org(db: Any) -> Any:
    from beffroi.organizations.models import Organization

    return Organization.objects.create(slug="autre-ville", name="Autre Ville")


@pytest.fixture
def make_user(db: Any) -> Callable[..., Any]:
    """``make_user("alice", org=org, role="moderator")`` creates a user (and a membership)."""
    from django.contrib.auth import get_user_model

    from beffroi.organizations.models import Membership

    def make(username: str, *, org: Any = None, role: str | None = None, **extra: Any) -> Any:
        user = get_user_model().objects.create_user(username=username, password=PASSWORD, **extra)
        if org is not None and role is not None:
            Membership.objects.create(user=user, organization=org, role=role)
        return user

    return make


@pytest.fixture
def verified_client(client: Any) -> Callable[[Any], Any]:
    """Log a user in as if they had passed two-factor authentication (for view tests)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    def login(user: Any) -> Any:
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        client.force_login(user)
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
        return client

    return login


@pytest.fixture
def source(org: Any) -> Any:
    from beffroi.sources.models import Source

    return Source.objects.create(organization=org, name="Import", platform="file", kind="import")
