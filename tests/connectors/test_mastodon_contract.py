"""Mastodon through the contract suite, and its keyword search for listening."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from beffroi.connectors.base import (
    Action,
    AuthError,
    ConfigurationError,
    Connector,
    ItemKind,
    ItemRef,
    MalformedPayload,
    RateLimited,
    TransientError,
)
from beffroi.connectors.mastodon import MastodonConnector, parse_searches
from tests.connectors.contract import ConnectorContract, DocumentedError, Harness, drain
from tests.fakes.mastodon_server import FakeMastodon


class MastodonHarness(Harness):
    rereads = True  # replies under recent statuses are re-read on every sync

    def __init__(self, server: FakeMastodon) -> None:
        self.server = server
        self.secrets = (server.token,)
        self.citizen = server.add_account("citoyen", domain="other.example")
        self._serial = itertools.count(1)
        self.last_post: str | None = None

    def connect(self) -> Connector:
        return MastodonConnector(
            {"base_url": self.server.base_url, "search": "fontaine"},
            {"access_token": self.server.token},
            timeout=5,
            page_size=2,
        )

    def seed(self, count: int) -> set[str]:
        ids = set()
        for _ in range(count):
            n = next(self._serial)
            kind = n % 3
            if kind == 0:
                status = self.server.add_status(f"Avis n°{n} de la mairie")
                self.last_post = status["id"]
            elif kind == 1:
                # A reply under the account's latest status (a mention when there is none).
                status = self.server.add_status(
                    f"@mairie question {n}", account=self.citizen, in_reply_to=self.last_post
                )
            else:
                status = self.server.add_status(f"La fontaine {n} fuit", account=self.citizen)
            ids.add(status["id"])
        return ids

    def interrupt_after(self, requests: int) -> None:
        self.server.fail_after(requests)

    def heal(self) -> None:
        self.server.heal()

    def errors(self) -> Mapping[str, DocumentedError]:
        return {
            "revoked token": DocumentedError(self.server.revoke_token, AuthError),
            "rate limited": DocumentedError(
                lambda: self.server.rate_limit(50, reset_in=600), RateLimited
            ),
            "server error": DocumentedError(
                lambda: self.server.server_error("/api/v1/accounts/verify_credentials", 503),
                TransientError,
            ),
            "malformed": DocumentedError(
                lambda: self.server.malformed("/api/v1/accounts/verify_credentials"),
                MalformedPayload,
            ),
        }

    def act(self, connector: Connector, action: Action) -> None:
        own = self.server.add_status("Annonce")
        comment = self.server.add_status("Bof", account=self.citizen, in_reply_to=own["id"])
        ref = ItemRef(comment["id"], ItemKind.COMMENT, author_id=self.citizen["id"])
        before = len(self.server.requests)
        if action is Action.REPLY:
            connector.reply(ref, "Merci")
            posted = self.server.requests_to("POST", "/api/v1/statuses")[-1]
            assert posted.param("in_reply_to_id") == comment["id"]
            assert posted.param("status").endswith("Merci")
        elif action is Action.PRIVATE_REPLY:
            # Someone else in the thread: a private reply does not tell them.
            other = self.server.add_account("voisin")
            mention = self.server.add_status(
                f"@{self.citizen['username']} d'accord", account=other, in_reply_to=comment["id"]
            )
            result = connector.private_reply(ItemRef(mention["id"], ItemKind.REPLY), "Merci")
            posted = self.server.requests_to("POST", "/api/v1/statuses")[-1]
            assert posted.param("in_reply_to_id") == mention["id"]
            assert posted.param("visibility") == "direct"
            assert posted.param("status") == "@voisin Merci"
            stored = self.server.statuses[str(result.platform_id)]
            assert stored["visibility"] == "direct" and stored["mentions"] == [other["id"]]
            assert result.url.startswith("https://")
        elif action is Action.DELETE:
            connector.delete(ItemRef(own["id"], ItemKind.POST, author_id=self.server.me["id"]))
            assert self.server.requests_to("DELETE", f"/api/v1/statuses/{own['id']}")
        elif action is Action.PUBLISH:
            connector.publish("Bonjour")
            assert self.server.requests_to("POST", "/api/v1/statuses")[-1].param("status") == (
                "Bonjour"
            )
        elif action is Action.REPORT:
            connector.report(ref, "insulte")
            report = self.server.requests_to("POST", "/api/v1/reports")[-1]
            assert report.param("account_id") == self.citizen["id"]
            assert report.values("status_ids[]") == [comment["id"]]
        else:
            raise AssertionError(f"untested action {action}")
        assert len(self.server.requests) > before


class TestMastodonContract(ConnectorContract):
    @pytest.fixture
    def harness(self) -> Iterator[MastodonHarness]:
        with FakeMastodon() as server:
            yield MastodonHarness(server)


@pytest.fixture
def server() -> Iterator[FakeMastodon]:
    with FakeMastodon() as fake:
        yield fake


def connect(server: FakeMastodon, **settings: Any) -> MastodonConnector:
    return MastodonConnector(
        {"base_url": server.base_url, **settings}, {"access_token": server.token}, page_size=2
    )


def test_search_queries_are_one_per_line_and_deduplicated() -> None:
    assert parse_searches("fontaine  place\n\n Fontaine place\nmarché") == (
        "fontaine place",
        "Fontaine place",
        "marché",
    )
    assert parse_searches("") == ()
    with pytest.raises(ConfigurationError, match="one query per line"):
        parse_searches(["x"])


def test_search_listens_to_other_accounts_oldest_first_then_only_what_is_new(
    server: FakeMastodon,
) -> None:
    citizen = server.add_account("citoyen", domain="other.example")
    found = [server.add_status(f"La fontaine {n} fuit", account=citizen)["id"] for n in range(5)]
    server.add_status("La fontaine de la mairie")  # the account's own: not listened to
    server.add_status("Rien à voir", account=citizen)
    batches = [b for b in connect(server, search="FONTAINE").fetch({})]
    searched = [i for b in batches for i in b.items if i.platform_id in found]
    assert [i.platform_id for i in searched] == found  # oldest first
    assert all(i.kind is ItemKind.POST for i in searched)
    asked = server.requests_to("GET", "/api/v2/search")
    assert {r.query["type"][0] for r in asked} == {"statuses"}
    assert all("resolve" not in r.query or r.query["resolve"] == ["false"] for r in asked)
    assert len(asked) == 4  # 6 results (one own), 2 per page: max_id walks back to the end
    _, cursor = drain(connect(server, search="FONTAINE"), {})
    newer = server.add_status("fontaine encore", account=citizen)["id"]
    again, _ = drain(connect(server, search="FONTAINE"), cursor)
    assert [i.platform_id for i in again if "fontaine" in i.text.casefold()] == [newer]
