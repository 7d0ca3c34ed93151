"""Which connector serves which platform.

Built-in connectors are listed here; third-party packages add theirs through the
``beffroi.connectors`` entry-point group (see :mod:`beffroi.extensions`).
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from beffroi.connectors.base import ConfigurationError, Connector
from beffroi.extensions import CONNECTORS

BUILTIN: dict[str, str] = {
    "facebook": "beffroi.connectors.facebook:FacebookConnector",
    "instagram": "beffroi.connectors.instagram:InstagramConnector",
    "x": "beffroi.connectors.x:XConnector",
    "youtube": "beffroi.connectors.youtube:YouTubeConnector",
    "bluesky": "beffroi.connectors.bluesky:BlueskyConnector",
    "mastodon": "beffroi.connectors.mastodon:MastodonConnector",
    "telegram": "beffroi.connectors.telegram:TelegramConnector",
    "rss": "beffroi.connectors.rss:FeedConnector",
    "tiktok": "beffroi.connectors.tiktok:TikTokConnector",
    "snapchat": "beffroi.connectors.snapchat:SnapchatImportConnector",
    "file": "beffroi.connectors.fileimport:FileConnector",
}


def _load(target: str) -> type[Connector]:
    module_name, _, attr = target.partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise ConfigurationError(f"{target} is not a Connector")
    return cls


def available() -> dict[str, str]:
    """Platform name to import path, built-ins first, then entry points."""
    found = dict(BUILTIN)
    for ep in entry_points(group=CONNECTORS):
        found.setdefault(ep.name, ep.value)
    return found


def connector_class(platform: str) -> type[Connector]:
    """The connector class for ``platform`` or a clear ConfigurationError."""
    # Built-ins first, without scanning the installed packages' entry points (slow, and
    # asked for on every page that shows a network's limits).
    target = BUILTIN.get(platform) or available().get(platform)
    if target is None:
        raise ConfigurationError(
            f"No connector for platform '{platform}'. Known: {', '.join(sorted(available()))}."
        )
    return _load(target)
