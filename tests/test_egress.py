"""No outbound request reaches the server's own network unless the operator allows it.

Each outbound path of the product (feeds, connectors over httpx, tweepy, Mastodon.py,
google-api-python-client, atproto, Jetstream, OAuth, alert channels, the OpenAI-compatible
moderation backend, huggingface_hub) is pointed at a real loopback listener that counts the
connections it accepts: with no internal host allowed, the request is refused before any
connection, the listener is never reached, and the error reads the same whether the port is
open or closed. Allowing the host or its network lets the request through.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from typing import Any

import pytest

from beffroi import egress
from beffroi.connectors.base import ConfigurationError, OAuthSpec, TransientError
from beffroi.egress import UNREACHABLE, BlockedAddress

FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Intranet</title>
<item><guid>urn:1</guid><title>Internal news</title><description>secret</description>
<pubDate>Mon, 06 May 2024 10:00:00 GMT</pubDate></item></channel></rss>"""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    listener: Listener

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.listener.lock:
            self.listener.connections += 1
        super().process_request(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: Any) -> None:
        return

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        listener = self.server.listener
        if self.path.startswith("/hop"):
            self.send_response(302)
            self.send_header("Location", listener.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body, kind = (FEED, "application/rss+xml") if self.path.startswith("/feed") else (
            b'{"event_id": "$1", "ok": true}', "application/json"
        )  # fmt: skip
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer


class Listener:
    """An HTTP server on 127.0.0.1 that counts the TCP connections it accepts."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.connections = 0
        self.redirect_to = ""
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.listener = self
        self.port = int(self._server.server_address[1])
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.stop()


@pytest.fixture
def no_internal(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a server gets by default: no internal host allowed."""
    monkeypatch.delenv(egress.ENV_VARIABLE, raising=False)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def refused(
    listener: Listener, expected: type[BaseException], call: Callable[[int], object]
) -> str:
    """``call(port)`` against the open listener and a closed port: both raise ``expected``
    with the same neutral words, and the listener accepted no connection."""
    messages = []
    for port in (listener.port, closed_port()):
        with pytest.raises(expected) as raised:
            call(port)
        messages.append(str(raised.value).replace(str(port), "PORT"))
        assert egress.is_blocked(raised.value)
    assert listener.connections == 0
    assert messages[0] == messages[1]
    assert UNREACHABLE in messages[0]
    assert "Error" not in messages[0]  # no exception type names in what people read
    return messages[0]


# --- the address check -------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata: link-local
        "100.64.0.1",  # shared address space (CGNAT)
        "0.0.0.0",  # noqa: S104 (an address refused, not bound)
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",  # reserved
        "255.255.255.255",
        "192.0.2.1",  # documentation
        "198.18.0.1",  # benchmarking
        "::1",
        "::",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "fec0::1",  # site-local
        "ff02::1",
        "2001:db8::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::127.0.0.1",  # IPv4-compatible (reserved)
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    ],
)
def test_internal_addresses_are_not_public(address: str) -> None:
    assert not egress.is_public(ip_address(address))


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"],
)
def test_public_addresses_are_public(address: str) -> None:
    assert egress.is_public(ip_address(address))


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "0x7f000001", "2130706433", "127.1"])
def test_every_spelling_of_loopback_is_refused_after_resolution(
    no_internal: None, host: str
) -> None:
    with pytest.raises(BlockedAddress) as raised:
        egress.check_address(host, 80)
    assert str(raised.value) == UNREACHABLE


def test_a_name_with_one_internal_address_among_public_ones_is_refused(
    no_internal: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def resolve(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(BlockedAddress):
        egress.check_address("mixed.example", 443)


def test_the_policy_allows_names_addresses_and_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(egress.ENV_VARIABLE, "Matrix.Intranet., 10.20.0.0/16 [::1]\n192.168.1.5")
    assert egress.allows_internal("matrix.intranet")
    assert egress.allows_internal("10.20.3.4") and not egress.allows_internal("10.21.0.1")
    assert egress.allows_internal("::1") and egress.allows_internal("192.168.1.5")
    assert not egress.allows_internal("intranet") and not egress.allows_internal("127.0.0.1")
    assert egress.check_address("::1", 80) == ["::1"]
    assert egress.check_address("::ffff:192.168.1.5", 80)  # an allowed IPv4, mapped
    with pytest.raises(BlockedAddress):
        egress.check_address("127.0.0.1", 80)


@pytest.mark.parametrize("value", ["http://intranet", "10.0.0.0/40", "a b/c", "exa mple!"])
def test_a_bad_policy_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(egress.ENV_VARIABLE, value)
    with pytest.raises(egress.EgressConfigurationError, match=egress.ENV_VARIABLE):
        egress.policy()


def test_the_connection_goes_to_the_address_checked(
    monkeypatch: pytest.MonkeyPatch, listener: Listener
) -> None:
    """Resolved once: a DNS answer that changes after the check (rebinding) is never used."""
    import httpx

    resolve = socket.getaddrinfo
    answers = iter(["127.0.0.1"])
    asked: list[str] = []

    def rebinding(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.example":
            return resolve(host, port, *args, **kwargs)
        asked.append(host)
        address = next(answers, None)
        if address is None:
            raise socket.gaierror("the second answer would point elsewhere")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with httpx.Client(transport=egress.guarded_transport()) as client:
        response = client.get(f"http://rebind.example:{listener.port}/")
    assert response.status_code == 200 and asked == ["rebind.example"]


# --- feeds and connectors over httpx --------------------------------------------------------


def _feed(url: str) -> list[Any]:
    from beffroi.connectors.rss import FeedConnector

    connector = FeedConnector({"url": url}, {}, timeout=2, retries=0, backoff=0)
    return [item for batch in connector.fetch({}) for item in batch.items]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "0x7f000001", "2130706433", "127.1"])
def test_a_feed_on_loopback_is_refused(no_internal: None, listener: Listener, host: str) -> None:
    message = refused(
        listener, ConfigurationError, lambda port: _feed(f"http://{host}:{port}/feed")
    )
    assert message.startswith("RSS / Atom feed could not be reached")


def test_a_feed_redirecting_to_a_refused_address_is_stopped_at_the_hop(
    monkeypatch: pytest.MonkeyPatch, listener: Listener
) -> None:
    monkeypatch.setenv(egress.ENV_VARIABLE, "localhost")
    listener.redirect_to = f"http://127.0.0.1:{listener.port}/feed"
    with pytest.raises(ConfigurationError, match="could not be reached"):
        _feed(f"http://localhost:{listener.port}/hop")
    assert listener.connections == 1  # the allowed host, never the address it redirected to


def test_allowing_the_network_lets_an_intranet_feed_through(
    monkeypatch: pytest.MonkeyPatch, listener: Listener
) -> None:
    monkeypatch.setenv(egress.ENV_VARIABLE, "127.0.0.0/8")
    items = _feed(f"http://127.0.0.1:{listener.port}/feed")
    assert [item.text for item in items] and listener.connections == 1


def test_the_api_client_refuses_and_reads_like_a_closed_port(
    monkeypatch: pytest.MonkeyPatch, listener: Listener
) -> None:
    from beffroi.connectors.http import ApiClient

    def call(port: int) -> object:
        with ApiClient(f"https://127.0.0.1:{port}", label="Graph API", key="k") as client:
            return client.get("/me")

    monkeypatch.delenv(egress.ENV_VARIABLE)
    blocked = refused(listener, ConfigurationError, call)
    monkeypatch.setenv(egress.ENV_VARIABLE, "127.0.0.1")
    port = closed_port()
    with pytest.raises(TransientError) as failed:  # allowed, but nothing listens: retried
        ApiClient(f"http://127.0.0.1:{port}", label="Graph API", key="k", retries=0).get("/me")
    assert str(failed.value).replace(str(port), "PORT") == blocked


def test_plain_http_is_only_for_allowed_internal_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    from beffroi.connectors.mastodon import normalise_base_url
    from beffroi.connectors.values import api_base_url

    monkeypatch.delenv(egress.ENV_VARIABLE)
    for url in ("http://127.0.0.1:8080", "http://localhost", "http://intranet.example"):
        with pytest.raises(ConfigurationError, match="clear text"):
            api_base_url(url, "P", "https://api.example")
        with pytest.raises(ConfigurationError, match="clear text"):
            normalise_base_url(url)
    monkeypatch.setenv(egress.ENV_VARIABLE, "intranet.example,127.0.0.0/8")
    assert api_base_url("http://intranet.example", "P", "https://x") == "http://intranet.example"
    assert normalise_base_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080"


def test_graph_connector_on_loopback_is_refused(no_internal: None, listener: Listener) -> None:
    from beffroi.connectors.facebook import FacebookConnector

    def call(port: int) -> object:
        connector = FacebookConnector(
            {"page_id": "1", "base_url": f"https://127.0.0.1:{port}"}, {"access_token": "t"}
        )
        return list(connector.fetch({}))

    refused(listener, ConfigurationError, call)


def test_telegram_web_preview_on_loopback_is_refused(no_internal: None, listener: Listener) -> None:
    from beffroi.connectors.telegram import TelegramConnector

    def call(port: int) -> object:
        connector = TelegramConnector(
            {"channels": "durov", "base_url": f"https://127.0.0.1:{port}"}, {}
        )
        return list(connector.fetch({}))

    refused(listener, ConfigurationError, call)


def test_a_telethon_session_naming_an_internal_data_centre_is_refused(
    no_internal: None, listener: Listener
) -> None:
    from telethon.crypto import AuthKey
    from telethon.sessions import StringSession

    from beffroi.connectors.telegram import TelegramConnector, telethon_client

    def call(port: int) -> object:
        session = StringSession()
        session.set_dc(2, "127.0.0.1", port)
        session.auth_key = AuthKey(b"\0" * 256)
        settings = {"channels": "durov", "method": "api", "api_id": "123"}
        return telethon_client(
            TelegramConnector(settings, {"api_hash": "abc", "session": session.save()})
        )

    refused(listener, ConfigurationError, call)


# --- SDKs: tweepy, Mastodon.py, google-api-python-client, atproto, websockets ---------------


def test_x_through_tweepy_is_refused(no_internal: None, listener: Listener) -> None:
    from beffroi.connectors.x import XConnector

    def call(port: int) -> object:
        connector = XConnector(
            {"user_id": "42", "username": "ville", "base_url": f"https://127.0.0.1:{port}"},
            {"access_token": "t"},
            timeout=2,
            retries=0,
            backoff=0.0,
        )
        return list(connector.fetch({}))

    refused(listener, ConfigurationError, call)


def test_mastodon_is_refused_without_the_libraries_socket_error(
    no_internal: None, listener: Listener
) -> None:
    from beffroi.connectors.mastodon import MastodonConnector

    def call(port: int) -> object:
        connector = MastodonConnector(
            {"base_url": f"https://127.0.0.1:{port}"}, {"access_token": "t"}, timeout=2
        )
        return list(connector.fetch({}))

    message = refused(listener, ConfigurationError, call)
    assert "Connection refused" not in message and "Errno" not in message


def test_youtube_through_httplib2_is_refused(no_internal: None, listener: Listener) -> None:
    from beffroi.connectors.youtube import YouTubeConnector

    def call(port: int) -> object:
        connector = YouTubeConnector(
            {"base_url": f"https://127.0.0.1:{port}", "channel_id": "UC1"},
            {"access_token": "t"},
            backoff=0,
        )
        return list(connector.fetch({}))

    refused(listener, ConfigurationError, call)


def test_the_httplib2_client_follows_redirects_only_to_allowed_addresses(
    monkeypatch: pytest.MonkeyPatch, listener: Listener
) -> None:
    monkeypatch.setenv(egress.ENV_VARIABLE, "localhost")
    http = egress.guarded_httplib2(timeout=2)
    response, _ = http.request(f"http://localhost:{listener.port}/feed")
    assert response.status == 200 and listener.connections == 1
    listener.redirect_to = f"http://127.0.0.1:{listener.port}/feed"
    with pytest.raises(BlockedAddress):
        http.request(f"http://localhost:{listener.port}/hop")
    assert listener.connections == 2


def test_requests_sessions_check_every_hop(
    monkeypatch: pytest.MonkeyPatch, listener: Listener
) -> None:
    import requests

    monkeypatch.setenv(egress.ENV_VARIABLE, "localhost")
    session = egress.guarded_session()
    assert session.get(f"http://localhost:{listener.port}/feed", timeout=2).status_code == 200
    listener.redirect_to = f"http://127.0.0.1:{listener.port}/feed"
    with pytest.raises(requests.ConnectionError) as raised:
        session.get(f"http://localhost:{listener.port}/hop", timeout=2)
    assert egress.is_blocked(raised.value) and listener.connections == 2


def _bluesky(port: int, **settings: Any) -> Any:
    from beffroi.connectors.bluesky import BlueskyConnector

    return BlueskyConnector(
        {"handle": "ville.bsky.social", "base_url": f"https://127.0.0.1:{port}", **settings},
        {"app_password": "abcd-efgh-ijkl-mnop"},
        timeout=2,
        retries=0,
    )


def test_bluesky_through_atproto_is_refused(no_internal: None, listener: Listener) -> None:
    refused(listener, ConfigurationError, lambda port: list(_bluesky(port).fetch({})))


def test_jetstream_over_websockets_is_refused(no_internal: None, listener: Listener) -> None:
    def call(port: int) -> object:
        connector = _bluesky(443, keywords="mairie", jetstream_url=f"wss://127.0.0.1:{port}")
        return list(connector._jetstream("did:plc:own", {}, set(), 0))

    refused(listener, ConfigurationError, call)


# --- OAuth token endpoints -----------------------------------------------------------------


def test_oauth_code_exchange_and_refresh_are_refused(no_internal: None, listener: Listener) -> None:
    from beffroi.connectors import oauth

    spec = OAuthSpec("https://p.example/auth", "https://p.example/token", ("read",))

    def client(port: int) -> oauth.OAuthClient:
        return oauth.OAuthClient("test", "id", "secret", "", f"http://127.0.0.1:{port}/token")

    refused(
        listener,
        ConfigurationError,
        lambda port: oauth.exchange_code(
            client(port), spec, code="c", redirect_uri="https://b.example/cb", code_verifier=None
        ),
    )
    refused(
        listener,
        ConfigurationError,
        lambda port: oauth.refresh(client(port), spec, {"refresh_token": "r"}),
    )


# --- alert channels ------------------------------------------------------------------------


def test_webhook_and_matrix_channels_are_refused_for_good(
    monkeypatch: pytest.MonkeyPatch, listener: Listener
) -> None:
    from beffroi.notify.delivery import AlertMessage, DeliveryError, send_matrix, send_webhook

    alert = AlertMessage(title="t", text="x")

    def webhook(port: int) -> object:
        send_webhook(f"http://127.0.0.1:{port}/hook", alert, timeout=2)
        return None

    def matrix(port: int) -> object:
        return send_matrix(f"http://localhost:{port}", "!r:example.org", "token", alert, timeout=2)

    monkeypatch.delenv(egress.ENV_VARIABLE)
    for send in (webhook, matrix):
        with pytest.raises(DeliveryError) as raised:
            send(listener.port)
        assert raised.value.retry_after is None  # a refusal: not retried
        refused(listener, DeliveryError, send)
    monkeypatch.setenv(egress.ENV_VARIABLE, "127.0.0.1,localhost")
    webhook(listener.port)
    assert matrix(listener.port) == "$1" and listener.connections == 2


@pytest.mark.django_db
def test_the_test_button_shows_the_refusal_never_sent(
    no_internal: None,
    listener: Listener,
    org: Any,
    make_user: Callable[..., Any],
    verified_client: Callable[[Any], Any],
) -> None:
    from django.contrib.messages import get_messages
    from django.urls import reverse

    from beffroi.veille.models import AlertChannel

    client = verified_client(make_user("admin", org=org, role="admin"))
    channel = AlertChannel.objects.create(
        organization=org, kind="webhook", name="hook", target=f"http://127.0.0.1:{listener.port}/"
    )
    test_url = reverse("veille:channel_test", kwargs={"org_slug": org.slug, "pk": channel.pk})
    response = client.post(test_url)
    shown = [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]
    assert len(shown) == 1 and shown[0][0] == "error" and UNREACHABLE in shown[0][1]
    assert listener.connections == 0


# --- moderation backends -------------------------------------------------------------------


def test_the_openai_moderation_backend_is_refused(no_internal: None, listener: Listener) -> None:
    from beffroi.analysis.moderation.backends.errors import BackendConfigurationError
    from beffroi.analysis.moderation.backends.openai_moderation import OpenAIModerationDetector

    slept: list[float] = []

    def call(port: int) -> object:
        detector = OpenAIModerationDetector(
            f"http://127.0.0.1:{port}", api_key="k", timeout=2, sleep=slept.append
        )
        return detector.score(["idiot"])

    refused(listener, BackendConfigurationError, call)
    assert slept == []  # a refusal is not retried


def test_hugging_face_downloads_go_through_the_check(no_internal: None, listener: Listener) -> None:
    hub = pytest.importorskip("huggingface_hub")
    from huggingface_hub.utils import _http as hub_http

    assert egress.guard_huggingface_hub()
    try:
        session = hub.get_session()
        with pytest.raises(Exception) as raised:
            session.get(f"http://127.0.0.1:{listener.port}/model/config.json")
        assert egress.is_blocked(raised.value) and listener.connections == 0
    finally:
        hub.set_client_factory(hub_http.default_client_factory)
