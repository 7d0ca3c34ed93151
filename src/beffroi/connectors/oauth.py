"""OAuth 2.0 for the platforms that have it: the authorization request, the code exchange and
the refresh, with Authlib.

The web application (``beffroi.sources.oauth``) sends the administrator to the platform with
:func:`authorization_request`, receives the code on its callback and calls
:func:`exchange_code`; syncs call :func:`refresh` before a token expires. Each platform's
:class:`~beffroi.connectors.base.OAuthSpec` says where its endpoints are and how it differs
(PKCE, scope separator, TikTok's ``client_key``).

The OAuth application (client id and secret) belongs to the Beffroi instance, not to an
organization: the server's administrator creates it on the platform and sets
``BEFFROI_OAUTH_<PLATFORM>_CLIENT_ID`` and ``BEFFROI_OAUTH_<PLATFORM>_CLIENT_SECRET``.
``BEFFROI_OAUTH_<PLATFORM>_AUTHORIZE_URL`` and ``…_TOKEN_URL`` replace the platform's
endpoints (a proxy, a sandbox, the tests' loopback server).

Tokens are returned as dicts with an absolute ``expires_at`` (ISO 8601, UTC) computed from
``expires_in``, so that the expiry survives storage; secrets never appear in error messages.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.httpx_client import OAuth2Client

from beffroi import egress
from beffroi.connectors.base import (
    AuthError,
    ConfigurationError,
    ConnectorError,
    OAuthSpec,
    TransientError,
)
from beffroi.connectors.http import unreachable

#: The httpx package Authlib's client is built on (httpx2 where it is installed): its errors
#: are what a request raises, its transport what the client takes.
HTTPX: Any = egress.httpx_flavour(OAuth2Client)
#: Seconds before a token endpoint is abandoned.
TIMEOUT = 20.0
#: Token fields kept in a source's credentials.
TOKEN_FIELDS = ("access_token", "refresh_token", "expires_at", "scope", "token_type")


@dataclass(frozen=True, slots=True)
class OAuthClient:
    """The instance's OAuth application on one platform."""

    platform: str
    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str

    def __repr__(self) -> str:
        return f"<OAuthClient {self.platform} {self.client_id}>"


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """Where to send the administrator, and what to keep until the callback."""

    url: str
    state: str
    code_verifier: str | None


def env_prefix(platform: str) -> str:
    return f"BEFFROI_OAUTH_{platform.upper()}_"


def client_for(
    platform: str, spec: OAuthSpec, environ: Mapping[str, str] | None = None
) -> OAuthClient | None:
    """The instance's OAuth application for ``platform``, or None when it is not configured."""
    env = os.environ if environ is None else environ
    prefix = env_prefix(platform)
    client_id = env.get(f"{prefix}CLIENT_ID", "").strip()
    client_secret = env.get(f"{prefix}CLIENT_SECRET", "").strip()
    if not client_id or not client_secret:
        return None
    return OAuthClient(
        platform=platform,
        client_id=client_id,
        client_secret=client_secret,
        authorize_url=env.get(f"{prefix}AUTHORIZE_URL", "").strip() or spec.authorize_url,
        token_url=env.get(f"{prefix}TOKEN_URL", "").strip() or spec.token_url,
    )


def _session(client: OAuthClient, spec: OAuthSpec, redirect_uri: str | None) -> OAuth2Client:
    return OAuth2Client(
        client_id=client.client_id,
        client_secret=client.client_secret,
        scope=spec.scope_separator.join(spec.scopes),
        redirect_uri=redirect_uri,
        code_challenge_method="S256" if spec.pkce else None,
        token_endpoint_auth_method=spec.token_auth,
        timeout=TIMEOUT,
        transport=egress.guarded_transport_for(OAuth2Client),  # checked like any address
    )


def _rename_client_id(url: str, name: str) -> str:
    """Give the client id the name the platform expects (TikTok: ``client_key``)."""
    parts = urlsplit(url)
    query = [(name if key == "client_id" else key, value) for key, value in parse_qsl(parts.query)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def authorization_request(
    client: OAuthClient, spec: OAuthSpec, redirect_uri: str
) -> AuthorizationRequest:
    """The platform's authorization address with a fresh ``state`` (and PKCE verifier)."""
    state = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48) if spec.pkce else None
    with _session(client, spec, redirect_uri) as session:
        url, _ = session.create_authorization_url(
            client.authorize_url, state=state, code_verifier=verifier, **dict(spec.authorize_params)
        )
    if spec.client_id_param != "client_id":
        url = _rename_client_id(url, spec.client_id_param)
    return AuthorizationRequest(url=url, state=state, code_verifier=verifier)


def normalize_token(token: Mapping[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """The fields Beffroi keeps, with ``expires_at`` as an absolute ISO time."""
    moment = now or datetime.now(UTC)
    kept = {key: token[key] for key in TOKEN_FIELDS if token.get(key) not in (None, "")}
    expires_in = token.get("expires_in")
    if isinstance(expires_in, int | float | str) and str(expires_in).strip():
        try:
            seconds = float(expires_in)
        except ValueError:
            seconds = 0.0
        if seconds > 0:
            kept["expires_at"] = (moment + timedelta(seconds=seconds)).isoformat()
    elif isinstance(kept.get("expires_at"), int | float):
        kept["expires_at"] = datetime.fromtimestamp(float(kept["expires_at"]), UTC).isoformat()
    if "access_token" not in kept:
        raise AuthError("OAuth: the platform's answer holds no access token.")
    return kept


def _translate(exc: Exception, platform: str, what: str) -> ConnectorError:
    if isinstance(exc, AuthlibBaseError):
        error = getattr(exc, "error", "") or "error"
        description = getattr(exc, "description", "") or ""
        detail = f"{error}: {description}".strip(": ") if description else str(error)
        return AuthError(
            f"{platform}: {what} was refused ({detail}). Connect the account again in Beffroi."
        )
    if isinstance(exc, HTTPX.HTTPStatusError):
        status = exc.response.status_code
        if status >= 500 or status == 429:
            return TransientError(f"{platform}: {what} failed (HTTP {status}); retry later.")
        return AuthError(f"{platform}: {what} was refused (HTTP {status}).")
    if isinstance(exc, HTTPX.TransportError):
        return unreachable(f"{platform}: the token endpoint", exc)
    if isinstance(exc, ValueError):
        return AuthError(f"{platform}: {what}: the token endpoint answered something unreadable.")
    raise exc


def _token_request(
    client: OAuthClient, spec: OAuthSpec, what: str, call: str, **kwargs: Any
) -> dict[str, Any]:
    extra = {}
    if spec.client_id_param != "client_id":
        extra[spec.client_id_param] = client.client_id
    try:
        with _session(client, spec, kwargs.pop("redirect_uri", None)) as session:
            if call == "refresh":
                token = session.refresh_token(client.token_url, **kwargs, **extra)
            else:
                token = session.fetch_token(client.token_url, **kwargs, **extra)
    except (AuthlibBaseError, HTTPX.HTTPError, ValueError) as exc:
        raise _translate(exc, client.platform, what) from exc
    return normalize_token(dict(token))


def exchange_code(
    client: OAuthClient,
    spec: OAuthSpec,
    *,
    code: str,
    redirect_uri: str,
    code_verifier: str | None,
) -> dict[str, Any]:
    """Trade the authorization ``code`` for a token (:class:`AuthError` if refused)."""
    kwargs: dict[str, Any] = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
    }
    if code_verifier:
        kwargs["code_verifier"] = code_verifier
    return _token_request(client, spec, "the authorization code", "fetch", **kwargs)


def refresh(client: OAuthClient, spec: OAuthSpec, credentials: Mapping[str, Any]) -> dict[str, Any]:
    """New credentials from the refresh token; the refresh token is kept when the platform
    does not rotate it. :class:`AuthError` when it is refused (revoked, expired)."""
    refresh_token = credentials.get("refresh_token")
    if not refresh_token:
        raise ConfigurationError(f"{client.platform}: there is no refresh token to use.")
    token = _token_request(
        client, spec, "refreshing the token", "refresh", refresh_token=str(refresh_token)
    )
    token.setdefault("refresh_token", str(refresh_token))
    return {**credentials, **token}
