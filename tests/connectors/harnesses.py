"""Every platform's fake server and contract harness, started by name (for the tests that
run all the platforms through the application: decisions, the inbox)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack

from tests.connectors.contract import Harness


def _mastodon(stack: ExitStack) -> Harness:
    from tests.connectors.test_mastodon_contract import MastodonHarness
    from tests.fakes.mastodon_server import FakeMastodon

    return MastodonHarness(stack.enter_context(FakeMastodon()))


def _x(stack: ExitStack) -> Harness:
    from tests.connectors.test_x import XHarness
    from tests.fakes.x_server import FakeX

    return XHarness(stack.enter_context(FakeX()))


def _youtube(stack: ExitStack) -> Harness:
    from tests.connectors.test_youtube import YouTubeHarness
    from tests.fakes.youtube_server import FakeYouTube

    return YouTubeHarness(stack.enter_context(FakeYouTube()))


def _bluesky(stack: ExitStack) -> Harness:
    from beffroi.connectors.bluesky import forget_sessions
    from tests.connectors.test_bluesky import BlueskyHarness
    from tests.fakes.bluesky_server import FakeBluesky, FakeJetstream

    forget_sessions()
    stack.callback(forget_sessions)
    server = stack.enter_context(FakeBluesky())
    return BlueskyHarness(server, stack.enter_context(FakeJetstream()))


def _facebook(stack: ExitStack) -> Harness:
    from tests.connectors.test_facebook import FacebookHarness
    from tests.fakes.graph_server import FakeGraph

    return FacebookHarness(stack.enter_context(FakeGraph()))


def _instagram(stack: ExitStack) -> Harness:
    from tests.connectors.test_instagram import InstagramHarness
    from tests.fakes.graph_server import FakeGraph

    return InstagramHarness(stack.enter_context(FakeGraph()))


def _telegram(stack: ExitStack) -> Harness:
    from tests.connectors.test_telegram import TelegramWebHarness
    from tests.fakes.telegram_server import FakeTelegramWeb

    server = stack.enter_context(FakeTelegramWeb(page_size=3))
    server.add_channel("mairie_test", "Mairie de Test")
    server.add_channel("prefecture_info", "Préfecture – Infos")
    return TelegramWebHarness(server)


def _rss(stack: ExitStack) -> Harness:
    from tests.connectors.test_rss import FeedHarness
    from tests.fakes.feed_server import FakeFeedSite

    return FeedHarness(stack.enter_context(FakeFeedSite()))


def _tiktok(stack: ExitStack) -> Harness:
    from tests.connectors.test_tiktok import TikTokHarness
    from tests.fakes.tiktok_server import FakeTikTok

    return TikTokHarness(stack.enter_context(FakeTikTok()))


#: Platform → a function that starts its fake(s) on ``stack`` and returns its harness.
HARNESSES: dict[str, Callable[[ExitStack], Harness]] = {
    "facebook": _facebook,
    "instagram": _instagram,
    "x": _x,
    "youtube": _youtube,
    "bluesky": _bluesky,
    "mastodon": _mastodon,
    "telegram": _telegram,
    "rss": _rss,
    "tiktok": _tiktok,
}
