"""The OAuth 2.0 flow of the connectors against a loopback authorization server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from beffroi.connectors import oauth
from beffroi.connectors.base import AuthError, AuthMethod, OAuthSpec, expiry_of
from tests.api.fake_connector import FakeConnector
from tests.fakes.oauth_server import FakeOAuth

REDIRECT = "https://beffroi.example/sources/oauth/callback/"


def spec_for(server: FakeOAuth, **changes: Any) -> OAuthSpec:
    values: dict[str, Any] = {
        "authorize_url": server.authorize_url,
        "token_url": server.token_url,
        "scopes": server.scopes,
        "pkce": server.pkce,
        "client_id_param": server.client_id_param,
    }
    values.update(changes)
    return OAuthSpec(**values)


def client_for(server: FakeOAuth) -> oauth.OAuthClient:
    return oauth.OAuthClient("test", server.client_id, server.client_secret, "", server.token_url)


@pytest.fixture
def server() -> Iterator[FakeOAuth]:
    with FakeOAuth(scopes=("read", "write"), pkce=True) as fake:
        yield fake


def authorize(server: FakeOAuth, spec: OAuthSpec) -> tuple[oauth.AuthorizationRequest, str]:
    client = oauth.OAuthClient(
        "test", server.client_id, server.client_secret, server.authorize_url, server.token_url
    )
    request = oauth.authorization_request(client, spec, REDIRECT)
    answer = httpx.get(request.url)
    assert answer.status_code == 302, answer.text
    back = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert back["state"] == [request.state]
    return request, back.get("code", [""])[0]


def test_client_comes_from_the_environment_with_endpoint_overrides() -> None:
    spec = OAuthSpec("https://p.example/auth", "https://p.example/token", ("a",))
    assert oauth.client_for("x", spec, {}) is None
    assert oauth.client_for("x", spec, {"BEFFROI_OAUTH_X_CLIENT_ID": "id"}) is None
    env = {
        "BEFFROI_OAUTH_X_CLIENT_ID": "id",
        "BEFFROI_OAUTH_X_CLIENT_SECRET": "secret",
        "BEFFROI_OAUTH_X_TOKEN_URL": "http://127.0.0.1:9/token",
    }
    client = oauth.client_for("x", spec, env)
    assert client is not None
    assert (client.authorize_url, client.token_url) == (
        spec.authorize_url,
        env["BEFFROI_OAUTH_X_TOKEN_URL"],
    )
    assert "secret" not in repr(client)


def test_authorization_code_with_pkce_gives_a_token_with_an_absolute_expiry(
    server: FakeOAuth,
) -> None:
    spec = spec_for(server)
    request, code = authorize(server, spec)
    asked = server.requests_to("GET", "/authorize")[-1]
    assert asked.query["code_challenge_method"] == ["S256"]
    assert asked.query["scope"] == ["read write"]
    token = oauth.exchange_code(
        client_for(server),
        spec,
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=request.code_verifier,
    )
    assert token["access_token"] == server.issued[-1]["access_token"]
    assert token["refresh_token"] == server.issued[-1]["refresh_token"]
    expires = expiry_of(token)
    assert expires is not None
    assert timedelta(hours=1.9) < expires - datetime.now(UTC) < timedelta(hours=2.1)


def test_a_wrong_verifier_or_a_reused_code_is_refused_with_a_clear_error(
    server: FakeOAuth,
) -> None:
    spec = spec_for(server)
    _, code = authorize(server, spec)
    with pytest.raises(AuthError, match="invalid_grant") as raised:
        oauth.exchange_code(
            client_for(server), spec, code=code, redirect_uri=REDIRECT, code_verifier="wrong"
        )
    assert server.client_secret not in str(raised.value)
    with pytest.raises(AuthError, match="Connect the account again"):
        oauth.exchange_code(
            client_for(server), spec, code=code, redirect_uri=REDIRECT, code_verifier="x"
        )


def test_refresh_rotates_the_token_and_a_revoked_refresh_token_is_an_auth_error(
    server: FakeOAuth,
) -> None:
    spec = spec_for(server)
    request, code = authorize(server, spec)
    token = oauth.exchange_code(
        client_for(server),
        spec,
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=request.code_verifier,
    )
    fresh = oauth.refresh(client_for(server), spec, {**token, "other": "kept"})
    assert fresh["access_token"] != token["access_token"]
    assert fresh["other"] == "kept"
    assert server.requests_to("POST", "/token")[-1].param("grant_type") == "refresh_token"
    server.revoke_refresh_tokens()
    with pytest.raises(AuthError, match="refreshing the token was refused"):
        oauth.refresh(client_for(server), spec, fresh)


def test_tiktok_names_the_client_id_client_key_and_separates_scopes_with_commas() -> None:
    with FakeOAuth(scopes=("user.info.basic", "video.publish"), client_id_param="client_key") as s:
        spec = spec_for(s, scope_separator=",", pkce=False)
        request, code = authorize(s, spec)
        assert "client_key=" in request.url and "client_id=" not in request.url
        assert s.requests_to("GET", "/authorize")[-1].query["scope"] == [
            "user.info.basic,video.publish"
        ]
        token = oauth.exchange_code(
            client_for(s), spec, code=code, redirect_uri=REDIRECT, code_verifier=None
        )
        assert token["access_token"]


def test_http_basic_client_authentication(server: FakeOAuth) -> None:
    spec = spec_for(server, token_auth="client_secret_basic")
    request, code = authorize(server, spec)
    oauth.exchange_code(
        client_for(server),
        spec,
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=request.code_verifier,
    )
    sent = server.requests_to("POST", "/token")[-1]
    assert sent.authorization.startswith("Basic ")
    assert sent.param("client_secret") is None


class RefreshingConnector(FakeConnector):
    options: ClassVar[dict[str, Any]] = {}
    platform: ClassVar[str] = "refreshing"
    auth: ClassVar[AuthMethod] = AuthMethod.OAUTH2


def test_connector_refreshes_through_its_spec_only_when_it_can(
    server: FakeOAuth, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = spec_for(server)
    monkeypatch.setattr(RefreshingConnector, "oauth", spec)
    request, code = authorize(server, spec)
    token = oauth.exchange_code(
        client_for(server),
        spec,
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=request.code_verifier,
    )
    connector = RefreshingConnector({}, dict(token))
    assert connector.refresh_credentials() is None  # no OAuth application configured
    monkeypatch.setenv("BEFFROI_OAUTH_REFRESHING_CLIENT_ID", server.client_id)
    monkeypatch.setenv("BEFFROI_OAUTH_REFRESHING_CLIENT_SECRET", server.client_secret)
    fresh = connector.refresh_credentials()
    assert fresh is not None and fresh["access_token"] != token["access_token"]
    assert RefreshingConnector({}, {"access_token": "x"}).refresh_credentials() is None
    monkeypatch.setattr(RefreshingConnector, "oauth", None)
    assert connector.refresh_credentials() is None
