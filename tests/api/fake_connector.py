"""A connector for the API tests: one setting and one secret credential, never contacted."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from beffroi.connectors.base import Connector, FetchBatch, ItemKind, NormalizedItem, Option


class FakeConnector(Connector):
    platform = "fakesocial"
    label = "Fake Social"
    options = {
        "instance": Option("Instance address"),
        "access_token": Option("Access token", secret=True),
    }

    def fetch(self, cursor: Mapping[str, Any]) -> Iterator[FetchBatch]:
        yield from ()

    def map_item(self, raw: Mapping[str, Any], kind: ItemKind) -> NormalizedItem:
        raise NotImplementedError
