"""An OAuth 2.0 authorization server on 127.0.0.1 (RFC 6749, PKCE RFC 7636).

``GET /authorize`` checks the client, the redirect address, ``response_type=code``, the
scopes and, when PKCE is required, an S256 ``code_challenge``; it answers ``302`` to the
redirect address with ``code`` and ``state`` (or ``error=access_denied`` after :meth:`deny`).
``POST /token`` takes ``authorization_code`` (checking the code, its redirect address, the
client's authentication — HTTP Basic or in the body — and the verifier) and
``refresh_token`` grants, and answers the token or the RFC's error bodies:
``{"error": "invalid_grant" | "invalid_client" | "invalid_request", "error_description"}``.
Refresh tokens rotate. ``client_id_param`` names the client id as TikTok does (``client_key``).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import secrets
from typing import Any
from urllib.parse import urlencode

from tests.fakes.loopback import LoopbackServer, RecordedRequest, Reply


class FakeOAuth(LoopbackServer):
    def __init__(
        self,
        *,
        client_id: str = "beffroi-client",
        client_secret: str = "s3cret-client",  # noqa: S107 (a test server)
        scopes: tuple[str, ...] = (),
        pkce: bool = False,
        client_id_param: str = "client_id",
        expires_in: int = 7200,
    ) -> None:
        super().__init__()
        self.client_id, self.client_secret = client_id, client_secret
        self.scopes, self.pkce, self.client_id_param = scopes, pkce, client_id_param
        self.expires_in = expires_in
        self.codes: dict[str, dict[str, Any]] = {}
        self.refresh_tokens: dict[str, str] = {}
        self.issued: list[dict[str, Any]] = []
        self.denied = False
        #: The access token the next grant gives, when a test needs a given one (a token
        #: another fake platform accepts).
        self.next_access_token: str | None = None
        self._serial = itertools.count(1)

    @property
    def authorize_url(self) -> str:
        return f"{self.base_url}/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/token"

    def deny(self) -> None:
        """The administrator refuses on the platform's consent page."""
        self.denied = True

    def revoke_refresh_tokens(self) -> None:
        with self.lock:
            self.refresh_tokens.clear()

    def handle(self, request: RecordedRequest) -> Reply:
        if request.method == "GET" and request.path == "/authorize":
            return self._authorize(request)
        if request.method == "POST" and request.path == "/token":
            return self._token(request)
        return Reply(404, {"error": "not_found"})

    def _authorize(self, request: RecordedRequest) -> Reply:
        q = {key: values[0] for key, values in request.query.items()}
        if q.get(self.client_id_param) != self.client_id:
            return Reply(400, {"error": "invalid_client"})
        redirect = q.get("redirect_uri", "")
        if not redirect.startswith("http") or q.get("response_type") != "code":
            return Reply(400, {"error": "invalid_request"})
        separator = "," if "," in q.get("scope", "") else " "
        if set(self.scopes) - set(q.get("scope", "").split(separator)):
            return Reply(400, {"error": "invalid_scope"})
        if self.pkce and (q.get("code_challenge_method") != "S256" or not q.get("code_challenge")):
            return Reply(400, {"error": "invalid_request", "error_description": "PKCE required"})
        if self.denied:
            params = {"error": "access_denied", "state": q.get("state", "")}
            return Reply(302, None, {"Location": f"{redirect}?{urlencode(params)}"}, raw=b"")
        code = secrets.token_urlsafe(12)
        self.codes[code] = {"redirect_uri": redirect, "challenge": q.get("code_challenge")}
        params = {"code": code, "state": q.get("state", "")}
        return Reply(302, None, {"Location": f"{redirect}?{urlencode(params)}"}, raw=b"")

    def _client_ok(self, request: RecordedRequest) -> bool:
        if request.authorization.startswith("Basic "):
            decoded = base64.b64decode(request.authorization[6:]).decode()
            return decoded == f"{self.client_id}:{self.client_secret}"
        return (
            request.param(self.client_id_param) == self.client_id
            and request.param("client_secret") == self.client_secret
        )

    def _token(self, request: RecordedRequest) -> Reply:
        if not self._client_ok(request):
            return Reply(401, {"error": "invalid_client", "error_description": "Bad client"})
        grant = request.param("grant_type")
        if grant == "authorization_code":
            issued = self.codes.pop(str(request.param("code")), None)
            if issued is None or issued["redirect_uri"] != request.param("redirect_uri"):
                return Reply(400, {"error": "invalid_grant", "error_description": "Bad code"})
            if self.pkce:
                verifier = str(request.param("code_verifier") or "")
                digest = hashlib.sha256(verifier.encode()).digest()
                challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
                if challenge != issued["challenge"]:
                    return Reply(
                        400, {"error": "invalid_grant", "error_description": "Bad verifier"}
                    )
            return Reply(200, self._issue())
        if grant == "refresh_token":
            token = str(request.param("refresh_token"))
            if token not in self.refresh_tokens:
                return Reply(400, {"error": "invalid_grant", "error_description": "Token revoked"})
            del self.refresh_tokens[token]
            return Reply(200, self._issue())
        return Reply(400, {"error": "unsupported_grant_type"})

    def _issue(self) -> dict[str, Any]:
        n = next(self._serial)
        refresh = f"refresh-{n}-{secrets.token_hex(4)}"
        self.refresh_tokens[refresh] = f"access-{n}"
        access = self.next_access_token or f"access-{n}-{secrets.token_hex(4)}"
        self.next_access_token = None
        token = {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": self.expires_in,
            "refresh_token": refresh,
            "scope": " ".join(self.scopes),
        }
        self.issued.append(token)
        return token
