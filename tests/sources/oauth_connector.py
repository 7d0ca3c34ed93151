"""A connector whose "platform" accepts only the access tokens the tests declare valid (those
a :class:`tests.fakes.oauth_server.FakeOAuth` issued last), as a platform's API refuses a
token that was refreshed away or revoked."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from beffroi.connectors.base import (
    AuthError,
    AuthMethod,
    Connector,
    FetchBatch,
    FetchKind,
    ItemKind,
    NormalizedAuthor,
    NormalizedItem,
    OAuthSpec,
    Option,
)

PLATFORM = "oauthsocial"


class OAuthTestConnector(Connector):
    platform: ClassVar[str] = PLATFORM
    label: ClassVar[str] = "OAuth Social"
    auth: ClassVar[AuthMethod] = AuthMethod.OAUTH2
    fetches: ClassVar[frozenset[FetchKind]] = frozenset({FetchKind.MENTIONS})
    #: Set by the tests to the loopback authorization server.
    oauth: ClassVar[OAuthSpec | None] = None
    #: The token the loopback server has issued last (the "platform" accepts only those).
    valid_tokens: ClassVar[set[str]] = set()
    #: How many accounts a token opens (Facebook-like sign-ins open several Pages).
    copies: ClassVar[int] = 1
    options: ClassVar[Mapping[str, Option]] = {
        "account_id": Option("Account"),
        "access_token": Option("Access token", secret=True),
    }

    def fetch(self, cursor: Mapping[str, Any]) -> Iterator[FetchBatch]:
        token = self.credentials["access_token"]
        if token not in self.valid_tokens:
            raise AuthError("OAuth Social refused the access token: connect the account again.")
        yield FetchBatch(items=[self.map_item({"id": "1"}, ItemKind.MENTION)], cursor={"n": 1})

    def map_item(self, raw: Mapping[str, Any], kind: ItemKind) -> NormalizedItem:
        return NormalizedItem(
            platform_id=str(raw["id"]),
            kind=kind,
            text="Bonjour @mairie",
            created_at=datetime.now(UTC),
            author=NormalizedAuthor("u1", "citoyen"),
            url="https://social.example/1",
        )

    @classmethod
    def accounts_from_token(cls, token: Mapping[str, Any], settings: Mapping[str, Any]) -> Any:
        accounts = super().accounts_from_token(token, settings)
        return [
            type(a)(f"Compte {n}", {"account_id": f"acc-{n}"}, a.credentials)
            for n, a in enumerate(accounts * cls.copies, start=1)
        ]
