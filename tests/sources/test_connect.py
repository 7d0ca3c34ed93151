"""Connecting an account with the platform's OAuth flow from the sources page, against a
loopback authorization server: one account, several to choose from, a reconnection, a
refusal, and the checks on state and rights."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from beffroi.connectors import registry
from beffroi.connectors.base import OAuthSpec
from beffroi.organizations.models import Membership
from beffroi.sources import credentials
from beffroi.sources.models import ConnectionAlert, Source
from tests.fakes.oauth_server import FakeOAuth
from tests.sources.oauth_connector import PLATFORM, OAuthTestConnector

pytestmark = pytest.mark.django_db


@pytest.fixture
def oauth_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOAuth]:
    with FakeOAuth(scopes=("read", "write"), pkce=True) as server:
        spec = OAuthSpec(server.authorize_url, server.token_url, ("read", "write"), pkce=True)
        monkeypatch.setattr(OAuthTestConnector, "oauth", spec)
        monkeypatch.setitem(
            registry.BUILTIN, PLATFORM, "tests.sources.oauth_connector:OAuthTestConnector"
        )
        prefix = f"BEFFROI_OAUTH_{PLATFORM.upper()}_"
        monkeypatch.setenv(f"{prefix}CLIENT_ID", server.client_id)
        monkeypatch.setenv(f"{prefix}CLIENT_SECRET", server.client_secret)
        yield server


@pytest.fixture
def admin_client(org: Any, make_user: Any, verified_client: Any, settings: Any) -> Any:
    client = verified_client(make_user("chef", org=org, role="admin"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # messages read in English
    return client


def sign_in(client: Any, org: Any, **post: str) -> Any:
    """Start the flow, consent on the platform, come back: the callback's response."""
    start = client.post(f"/o/{org.slug}/sources/connect/{PLATFORM}/", post)
    assert start.status_code == 302
    consent = httpx.get(start["Location"])
    assert consent.status_code == 302
    back = urlsplit(consent.headers["Location"])
    assert back.path == "/sources/oauth/callback/"
    return client.get(back.path, {k: v[0] for k, v in parse_qs(back.query).items()})


def test_one_account_is_connected_with_its_token_encrypted(
    org: Any, admin_client: Any, oauth_server: FakeOAuth, settings: Any
) -> None:
    page = admin_client.get(f"/o/{org.slug}/sources/")
    assert f'action="/o/{org.slug}/sources/connect/{PLATFORM}/"' in page.content.decode()
    answer = sign_in(admin_client, org)
    assert answer.status_code == 302 and answer["Location"] == f"/o/{org.slug}/sources/"
    [source] = Source.objects.filter(platform=PLATFORM)
    token = oauth_server.issued[-1]
    assert source.settings == {"account_id": "acc-1"}  # the app's secret is not stored
    stored = source.get_credentials()
    assert stored["access_token"] == token["access_token"]
    assert stored["refresh_token"] == token["refresh_token"]
    assert "expires_at" in stored
    assert token["access_token"] not in source.credentials_encrypted
    authorize = oauth_server.requests_to("GET", "/authorize")[-1]
    assert authorize.query["redirect_uri"] == [
        f"{settings.BEFFROI_PUBLIC_URL}/sources/oauth/callback/"
    ]
    assert authorize.query["code_challenge_method"] == ["S256"]


def test_several_accounts_are_offered_and_only_the_chosen_ones_connected(
    org: Any, admin_client: Any, oauth_server: FakeOAuth, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(OAuthTestConnector, "copies", 3)
    answer = sign_in(admin_client, org)
    assert answer["Location"] == f"/o/{org.slug}/sources/connect/choose/"
    page = admin_client.get(answer["Location"]).content.decode()
    assert "Compte 1" in page and "Compte 3" in page
    assert oauth_server.issued[-1]["access_token"] not in page
    chosen = admin_client.post(answer["Location"], {"account": ["0", "2"]})
    assert chosen.status_code == 302
    names = sorted(Source.objects.filter(platform=PLATFORM).values_list("name", flat=True))
    assert names == ["Compte 1", "Compte 3"]
    # The choice is used once.
    again = admin_client.get(answer["Location"]).content.decode()
    assert "no longer valid" in again


def test_reconnecting_updates_the_source_and_closes_its_alert(
    org: Any, admin_client: Any, oauth_server: FakeOAuth
) -> None:
    source = Source(
        organization=org, name="Page", platform=PLATFORM, settings={"account_id": "acc-1"}
    )
    source.set_credentials({"access_token": "old"})
    source.status = Source.Status.AUTH_FAILED
    source.save()
    credentials.raise_alert(source, ConnectionAlert.Kind.REFUSED, "Jeton révoqué")
    sign_in(admin_client, org, source=str(source.pk))
    source.refresh_from_db()
    assert source.get_credentials()["access_token"] == oauth_server.issued[-1]["access_token"]
    assert source.status == Source.Status.NEW
    assert not ConnectionAlert.objects.filter(resolved_at__isnull=True).exists()
    assert Source.objects.filter(platform=PLATFORM).count() == 1


def test_a_refusal_on_the_platform_connects_nothing_and_says_why(
    org: Any, admin_client: Any, oauth_server: FakeOAuth
) -> None:
    oauth_server.deny()
    answer = sign_in(admin_client, org)
    assert answer.status_code == 302
    assert not Source.objects.filter(platform=PLATFORM).exists()
    page = admin_client.get(answer["Location"]).content.decode()
    assert "did not give access" in page and "access_denied" in page


def test_a_state_this_session_did_not_start_is_refused(
    org: Any, admin_client: Any, oauth_server: FakeOAuth, make_user: Any
) -> None:
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    start = admin_client.post(f"/o/{org.slug}/sources/connect/{PLATFORM}/")
    back = urlsplit(httpx.get(start["Location"]).headers["Location"])
    intruder = make_user("autre", org=org, role="admin")
    other = Client(HTTP_ACCEPT_LANGUAGE="en")
    other.force_login(intruder)
    session = other.session
    device = TOTPDevice.objects.create(user=intruder, name="t", confirmed=True)
    session["otp_device_id"] = device.persistent_id
    session.save()
    answer = other.get(back.path, {k: v[0] for k, v in parse_qs(back.query).items()})
    assert answer.status_code == 302 and answer["Location"] == "/"
    assert "no longer valid" in other.get("/", follow=True).content.decode()
    assert not Source.objects.filter(platform=PLATFORM).exists()
    assert not oauth_server.requests_to("POST", "/token")


def test_the_callback_checks_the_rights_again(
    org: Any, admin_client: Any, oauth_server: FakeOAuth
) -> None:
    start = admin_client.post(f"/o/{org.slug}/sources/connect/{PLATFORM}/")
    back = urlsplit(httpx.get(start["Location"]).headers["Location"])
    Membership.objects.filter(organization=org).update(role="viewer")
    answer = admin_client.get(back.path, {k: v[0] for k, v in parse_qs(back.query).items()})
    assert answer.status_code == 403
    assert not Source.objects.filter(platform=PLATFORM).exists()


def test_a_platform_not_set_up_on_the_server_says_which_settings_to_give(
    org: Any, admin_client: Any, oauth_server: FakeOAuth, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(f"BEFFROI_OAUTH_{PLATFORM.upper()}_CLIENT_ID")
    answer = admin_client.post(f"/o/{org.slug}/sources/connect/{PLATFORM}/", follow=True)
    assert "BEFFROI_OAUTH_OAUTHSOCIAL_CLIENT_ID" in answer.content.decode()
    assert not oauth_server.requests_to("GET", "/authorize")


def test_facebook_pages_connect_end_to_end_and_subscribe_to_webhooks(
    org: Any, admin_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from beffroi.connectors.facebook import FacebookConnector
    from tests.fakes.graph_server import FakeGraph

    with (
        FakeGraph() as graph,
        FakeOAuth(client_id=graph.client_id, client_secret=graph.client_secret) as meta,
    ):
        meta.next_access_token = graph.user_token
        for name, value in {
            "CLIENT_ID": graph.client_id,
            "CLIENT_SECRET": graph.client_secret,
            "AUTHORIZE_URL": meta.authorize_url,
            "TOKEN_URL": meta.token_url,
            "API_URL": graph.base_url,
        }.items():
            monkeypatch.setenv(f"BEFFROI_OAUTH_FACEBOOK_{name}", value)
        start = admin_client.post(f"/o/{org.slug}/sources/connect/facebook/")
        asked = parse_qs(urlsplit(start["Location"]).query)
        assert asked["scope"][0].split(",") == list(FacebookConnector.oauth.scopes)  # type: ignore[union-attr]
        back = urlsplit(httpx.get(start["Location"]).headers["Location"])
        answer = admin_client.get(back.path, {k: v[0] for k, v in parse_qs(back.query).items()})
        # The user manages two Pages: the administrator chooses.
        assert answer["Location"] == f"/o/{org.slug}/sources/connect/choose/"
        assert graph.page_name in admin_client.get(answer["Location"]).content.decode()
        admin_client.post(answer["Location"], {"account": ["0"]})
        [source] = Source.objects.filter(platform="facebook")
        assert source.settings["page_id"] == graph.page_id
        assert "client_secret" not in source.settings
        assert source.get_credentials() == {"access_token": graph.page_token}
        # The long-lived exchange used the app, and the Page now sends its comments.
        assert graph.requests_to("GET", "/v21.0/oauth/access_token")
        [subscribed] = graph.requests_to("POST", f"/v21.0/{graph.page_id}/subscribed_apps")
        assert subscribed.param("subscribed_fields") == "feed"


def test_reconnecting_a_source_of_another_organization_or_a_bad_id_is_404(
    org: Any, other_org: Any, admin_client: Any, oauth_server: FakeOAuth
) -> None:
    foreign = Source.objects.create(
        organization=other_org, name="Ailleurs", platform=PLATFORM, settings={"account_id": "z"}
    )
    url = f"/o/{org.slug}/sources/connect/{PLATFORM}/"
    assert admin_client.post(url, {"source": str(foreign.pk)}).status_code == 404
    assert admin_client.post(url, {"source": "abc"}).status_code == 404
    assert not oauth_server.requests_to("GET", "/authorize")
