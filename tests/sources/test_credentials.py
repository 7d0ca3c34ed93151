"""Connections do not break silently: tokens are refreshed before they expire, and refused or
expiring credentials alert the organization's administrators in the interface and by e-mail,
while the other sources go on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email.message import Message
from typing import Any

import pytest
from django.utils import timezone

from beffroi.connectors import registry
from beffroi.connectors.base import AuthError
from beffroi.jobs.engine import run_pending
from beffroi.jobs.models import Job
from beffroi.sources import credentials
from beffroi.sources.models import ConnectionAlert, Source
from beffroi.sources.services import update_source
from beffroi.sources.sync import sync_source
from tests.fakes.alert_receivers import smtp_server  # noqa: F401 (fixture)
from tests.fakes.mastodon_server import FakeMastodon
from tests.fakes.oauth_server import FakeOAuth
from tests.sources.oauth_connector import PLATFORM, OAuthTestConnector

pytestmark = pytest.mark.django_db


@pytest.fixture
def oauth_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOAuth]:
    from beffroi.connectors.base import OAuthSpec

    with FakeOAuth(scopes=("read",), pkce=True) as server:
        spec = OAuthSpec(server.authorize_url, server.token_url, ("read",), pkce=True)
        monkeypatch.setattr(OAuthTestConnector, "oauth", spec)
        monkeypatch.setattr(OAuthTestConnector, "valid_tokens", set())
        monkeypatch.setitem(
            registry.BUILTIN, PLATFORM, "tests.sources.oauth_connector:OAuthTestConnector"
        )
        monkeypatch.setenv(f"BEFFROI_OAUTH_{PLATFORM.upper()}_CLIENT_ID", server.client_id)
        monkeypatch.setenv(f"BEFFROI_OAUTH_{PLATFORM.upper()}_CLIENT_SECRET", server.client_secret)
        yield server


def issue(server: FakeOAuth) -> dict[str, Any]:
    """A token as a sign-in would have left it (issued by the server, valid on the platform)."""
    token = dict(server._issue())
    OAuthTestConnector.valid_tokens.add(token["access_token"])
    return token


def oauth_source(
    org: Any, token: dict[str, Any], expires_in: timedelta, name: str = "Compte"
) -> Source:
    source = Source(organization=org, name=name, platform=PLATFORM, settings={"account_id": name})
    source.set_credentials(
        {
            "access_token": token["access_token"],
            "refresh_token": token["refresh_token"],
            "expires_at": (timezone.now() + expires_in).isoformat(),
        }
    )
    source.save()
    return source


def admins_mail(settings: Any, port: int) -> None:
    settings.BEFFROI_SMTP = {
        "host": "127.0.0.1",
        "port": port,
        "username": "",
        "password": "",
        "security": "none",
        "sender": "beffroi@example.org",
    }


def test_a_token_about_to_expire_is_refreshed_before_the_sync(
    org: Any, oauth_server: FakeOAuth
) -> None:
    token = issue(oauth_server)
    source = oauth_source(org, token, timedelta(minutes=5))
    # The platform only accepts the token the refresh will issue.
    OAuthTestConnector.valid_tokens.clear()
    original = OAuthTestConnector.refresh_credentials

    def refresh_and_accept(self: OAuthTestConnector) -> Any:
        fresh = original(self)
        assert fresh is not None
        OAuthTestConnector.valid_tokens.add(fresh["access_token"])
        return fresh

    OAuthTestConnector.refresh_credentials = refresh_and_accept  # type: ignore[method-assign]
    try:
        outcome = sync_source(source)
    finally:
        OAuthTestConnector.refresh_credentials = original  # type: ignore[method-assign]
    assert outcome.created == 1
    source.refresh_from_db()
    stored = source.get_credentials()
    assert stored["access_token"] == oauth_server.issued[-1]["access_token"]
    assert stored["access_token"] not in source.credentials_encrypted  # encrypted at rest
    assert oauth_server.requests_to("POST", "/token")[-1].param("grant_type") == "refresh_token"
    assert source.status == Source.Status.OK
    from beffroi.audit.models import AuditEvent

    event = AuditEvent.objects.get(action="source.credentials_refreshed")
    assert token["access_token"] not in str(event.after)


def test_an_expired_token_that_cannot_be_refreshed_alerts_and_other_sources_go_on(
    org: Any,
    oauth_server: FakeOAuth,
    smtp_server: tuple[int, list[Message]],  # noqa: F811
    settings: Any,
    make_user: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    admins_mail(settings, smtp_server[0])
    make_user("chef", org=org, role="admin", email="chef@mairie.example")
    make_user("modo", org=org, role="moderator", email="modo@mairie.example")
    token = issue(oauth_server)
    broken = oauth_source(org, token, timedelta(minutes=-1))
    oauth_server.revoke_refresh_tokens()
    working = Source(
        organization=org, name="Autre", platform=PLATFORM, settings={"account_id": "b"}
    )
    working.set_credentials({"access_token": issue(oauth_server)["access_token"]})
    working.save()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(AuthError):
        sync_source(broken)
    broken.refresh_from_db()
    assert broken.status == Source.Status.AUTH_FAILED
    [alert] = ConnectionAlert.objects.filter(source=broken, resolved_at__isnull=True)
    assert alert.kind == ConnectionAlert.Kind.REFUSED
    assert "Connect the account again" in alert.message
    assert sync_source(working).created == 1  # the other source goes on
    run_pending()
    [mail] = smtp_server[1]
    assert mail["To"] == "chef@mairie.example"  # administrators only
    from email.header import decode_header, make_header

    assert "Compte" in str(make_header(decode_header(mail["Subject"])))
    body = mail.get_payload(0).get_payload(decode=True).decode()
    assert "Reconnect" in body
    alert.refresh_from_db()
    assert alert.emailed_at is not None
    # A second refusal updates the open alert: no second e-mail.
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(AuthError):
        sync_source(broken)
    assert ConnectionAlert.objects.filter(source=broken).count() == 1
    run_pending()
    assert len(smtp_server[1]) == 1
    # New credentials close it.
    update_source(
        credentials_actor(),
        broken,
        credentials={"access_token": issue(oauth_server)["access_token"]},
    )
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    broken.refresh_from_db()
    assert broken.status == Source.Status.NEW


def credentials_actor() -> Any:
    from beffroi.audit.services import Actor

    return Actor.system("test")


def test_a_revoked_token_on_a_sync_alerts_with_what_to_do(org: Any) -> None:
    with FakeMastodon() as server:
        source = Source(
            organization=org,
            name="Masto",
            platform="mastodon",
            settings={"base_url": server.base_url},
        )
        source.set_credentials({"access_token": server.token})
        source.save()
        server.revoke_token()
        with pytest.raises(AuthError):
            sync_source(source)
        [alert] = ConnectionAlert.objects.filter(source=source)
        from django.utils import translation

        with translation.override("en"):
            assert credentials.what_to_do(source).startswith("Open Sources, edit this source")
        server.heal()
        sync_source(source)
        alert.refresh_from_db()
        assert alert.resolved_at is not None  # a successful sync closes it


def test_the_hourly_check_refreshes_soon_expiring_tokens_and_announces_the_others(
    org: Any, oauth_server: FakeOAuth, django_capture_on_commit_callbacks: Any
) -> None:
    soon = oauth_source(org, issue(oauth_server), timedelta(hours=3))
    later = oauth_source(org, issue(oauth_server), timedelta(days=3), name="Plus tard")
    fixed = Source(
        organization=org, name="Sans refresh", platform=PLATFORM, settings={"account_id": "c"}
    )
    fixed.set_credentials(
        {"access_token": "x", "expires_at": (timezone.now() + timedelta(days=5)).isoformat()}
    )
    fixed.save()
    with django_capture_on_commit_callbacks(execute=True):
        counts = credentials.check_credentials()
    assert counts == {"refreshed": 1, "refused": 0, "expiring": 1}
    soon.refresh_from_db()
    assert soon.get_credentials()["access_token"] == oauth_server.issued[-1]["access_token"]
    assert later.get_credentials()["refresh_token"]  # refreshed on a later check
    [alert] = ConnectionAlert.objects.all()
    assert alert.source == fixed and alert.kind == ConnectionAlert.Kind.EXPIRING
    assert alert.expires_at is not None
    assert Job.objects.filter(name=credentials.EMAIL_TASK).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        credentials.check_credentials()
    assert ConnectionAlert.objects.count() == 1  # announced once


def test_a_refused_refresh_in_the_hourly_check_alerts(org: Any, oauth_server: FakeOAuth) -> None:
    source = oauth_source(org, issue(oauth_server), timedelta(hours=2))
    oauth_server.revoke_refresh_tokens()
    assert credentials.check_credentials()["refused"] == 1
    source.refresh_from_db()
    assert source.status == Source.Status.AUTH_FAILED
    assert ConnectionAlert.objects.get(source=source).kind == ConnectionAlert.Kind.REFUSED


def test_sources_page_shows_open_alerts_to_administrators(
    org: Any, make_user: Any, verified_client: Any, oauth_server: FakeOAuth
) -> None:
    source = oauth_source(org, issue(oauth_server), timedelta(days=1))
    credentials.raise_alert(source, ConnectionAlert.Kind.REFUSED, "Jeton refusé par la plateforme")
    admin = make_user("chef", org=org, role="admin")
    page = verified_client(admin).get(f"/o/{org.slug}/sources/")
    html = page.content.decode()
    assert "Jeton refusé par la plateforme" in html
    assert f'action="/o/{org.slug}/sources/connect/{PLATFORM}/"' in html
    assert 'class="nav-count nav-count-warning"' in html
    viewer = make_user("lecteur", org=org, role="viewer")
    seen = verified_client(viewer).get(f"/o/{org.slug}/sources/").content.decode()
    assert "Jeton refusé par la plateforme" in seen
    assert "/sources/connect/" not in seen  # only administrators can reconnect
    assert "nav-count-warning" not in seen


def test_the_connector_is_closed_after_a_sync_even_a_refused_one(
    org: Any, oauth_server: FakeOAuth, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[str] = []
    monkeypatch.setattr(
        OAuthTestConnector, "close", lambda self: closed.append(self.credentials["access_token"])
    )
    good = oauth_source(org, issue(oauth_server), timedelta(days=30))
    sync_source(good)
    bad = oauth_source(
        org, {"access_token": "révoqué", "refresh_token": "x"}, timedelta(days=30), "B"
    )
    with pytest.raises(AuthError):
        sync_source(bad)
    assert closed == [good.get_credentials()["access_token"], "révoqué"]
