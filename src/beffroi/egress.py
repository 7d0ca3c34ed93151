"""Every outbound connection, checked: Beffroi never reaches into the server's own network.

People type addresses that the server then fetches (a feed, a webhook, a Matrix homeserver, a
platform's ``base_url``). Without a check, such an address could point at the server itself or
at its neighbours (``http://127.0.0.1:6379/``, ``http://169.254.169.254/``, an intranet
service) and Beffroi would fetch it on their behalf. So:

- **The address is checked where the connection is made**, after DNS resolution: every
  address a name resolves to must be public (:func:`is_public`), so ``localhost``,
  ``0x7f000001``, ``2130706433`` or ``127.1`` are caught whatever form they take. The socket
  then connects to the very address checked, never to a second resolution that a hostile DNS
  server could answer differently. A redirect is a new connection, hence checked again.
- **The operator may allow internal hosts** in ``BEFFROI_ALLOWED_INTERNAL_HOSTS``: host names,
  IP addresses or networks (``matrix.intranet,10.20.0.0/16``), separated by commas or spaces —
  an intranet feed, a local Matrix server, the tests' loopback fakes. Plain ``http`` towards a
  platform's API is accepted for those hosts only (:func:`allows_internal`).
- **One neutral message** (:data:`UNREACHABLE`) is given for a refused address and for a
  connection that failed, so an error never tells an open port from a closed one.

Every HTTP library the connectors use goes through here: httpx (:func:`guarded_transport`,
which covers Authlib's OAuth client and atproto), requests (:func:`guard_session`: tweepy and
Mastodon.py), httplib2 (:func:`guarded_httplib2`: google-api-python-client), websockets
(:func:`open_socket` handed to ``connect(sock=...)``) and huggingface_hub
(:func:`guard_huggingface_hub`). The guarded clients connect directly: an HTTP proxy set in
the environment is not used, since it would resolve names where they cannot be checked.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_address,
    ip_network,
)
from types import ModuleType
from typing import Any, TypeVar

import httpcore
import httpx
import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import create_connection

__all__ = [
    "ENV_VARIABLE",
    "UNREACHABLE",
    "BlockedAddress",
    "EgressConfigurationError",
    "Policy",
    "allows_internal",
    "check_address",
    "guard_huggingface_hub",
    "guard_session",
    "guarded_httplib2",
    "guarded_session",
    "guarded_transport",
    "guarded_transport_for",
    "httpx_flavour",
    "is_blocked",
    "is_public",
    "open_socket",
    "parse_policy",
    "policy",
]

log = logging.getLogger(__name__)

T = TypeVar("T")
IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

ENV_VARIABLE = "BEFFROI_ALLOWED_INTERNAL_HOSTS"

#: What every refused or failed connection says, after the name of what was called: the same
#: words whether the address is internal, the port closed or the host silent.
UNREACHABLE = (
    "could not be reached (nothing answered at this address, or it is an address inside the "
    "server's own network, which Beffroi does not contact)"
)

#: NAT64 (RFC 6052): the last 32 bits are an IPv4 address, which is what gets reached.
_NAT64 = ip_network("64:ff9b::/96")
_HOST_NAME = re.compile(r"^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_][a-z0-9_-]{0,62})*$")


class BlockedAddress(ConnectionError):
    """The address is inside the server's network and the operator did not allow it.

    A :class:`ConnectionError` (an ``OSError``), so that every HTTP library reports it as the
    connection failure it is; its message is :data:`UNREACHABLE`, never the address.
    """

    def __init__(self, host: str, port: int) -> None:
        super().__init__(UNREACHABLE)
        self.host, self.port = host, port


class EgressConfigurationError(ValueError):
    """``BEFFROI_ALLOWED_INTERNAL_HOSTS`` holds something that is not a host, an IP or a
    network."""


# --- the policy ----------------------------------------------------------------------------


def _bare_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def _ip(host: str) -> IPAddress | None:
    try:
        return ip_address(_bare_host(host))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Policy:
    """The internal hosts the operator allows: host names, and addresses or networks."""

    names: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    def allows_name(self, host: str) -> bool:
        return _bare_host(host) in self.names

    def allows_ip(self, address: IPAddress) -> bool:
        forms = [address]
        if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
            forms.append(address.ipv4_mapped)
        return any(form in network for form in forms for network in self.networks)


@lru_cache(maxsize=8)
def parse_policy(value: str) -> Policy:
    """The allowed internal hosts written in ``value`` (comma or space separated)."""
    names: set[str] = set()
    networks: list[IPNetwork] = []
    for entry in re.split(r"[\s,]+", value.strip()):
        if not entry:
            continue
        try:
            networks.append(ip_network(entry.strip("[]"), strict=False))
            continue
        except ValueError:
            pass
        name = _bare_host(entry)
        if not _HOST_NAME.match(name):
            raise EgressConfigurationError(
                f"{ENV_VARIABLE}: '{entry}' is not a host name, an IP address or a network "
                "(such as matrix.intranet, 10.0.0.5 or 10.20.0.0/16)."
            )
        names.add(name)
    return Policy(frozenset(names), tuple(networks))


def policy() -> Policy:
    """The policy in force: read from the environment at each call (parsed once per value)."""
    return parse_policy(os.environ.get(ENV_VARIABLE, ""))


def is_public(address: IPAddress) -> bool:
    """Whether ``address`` is on the public Internet: not loopback, private, link-local,
    shared (CGNAT), multicast, reserved or unspecified. An IPv4 address carried in IPv6
    (IPv4-mapped, 6to4, NAT64) is judged as the IPv4 address it reaches."""
    if isinstance(address, IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public(embedded)
        if address.is_site_local:
            return False
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_unspecified
    )


def allows_internal(host: str) -> bool:
    """Whether the operator allowed ``host`` (by name, or an IP address inside an allowed
    network): where plain http may go, without any DNS look-up."""
    rules = policy()
    address = _ip(host)
    return rules.allows_name(host) or (address is not None and rules.allows_ip(address))


def check_address(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, once every one of them is allowed.

    Raises :class:`BlockedAddress` when one is not public and not allowed (a name that
    resolves to a public and an internal address is refused: which one a connection would use
    is not ours to choose), and ``OSError`` (``socket.gaierror``) when the name does not
    resolve. Connect to the addresses returned, not to ``host`` again.
    """
    bare = _bare_host(host)
    infos = socket.getaddrinfo(bare, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    rules = policy()
    if rules.allows_name(bare):
        return addresses
    for text in addresses:
        address = ip_address(text)
        if not is_public(address) and not rules.allows_ip(address):
            log.warning(
                "egress: refused a connection to %s port %s (%s is inside the server's "
                "network); list it in %s if this is intended.",
                bare,
                port,
                address,
                ENV_VARIABLE,
            )
            raise BlockedAddress(host, port)
    return addresses


def _first_connected(host: str, port: int, open_one: Callable[[str], T]) -> T:
    """``open_one(address)`` for each checked address of ``host`` until one connects."""
    failure: Exception | None = None
    for address in check_address(host, port):
        try:
            return open_one(address)
        except Exception as exc:  # each library raises its own kind: try the next address
            failure = exc
    if failure is None:
        raise OSError(f"{host} resolves to no address")
    raise failure


def open_socket(host: str, port: int, timeout: float | None) -> socket.socket:
    """A TCP connection to ``host``, checked (for libraries that accept a connected socket)."""
    return _first_connected(
        host, port, lambda address: socket.create_connection((address, port), timeout)
    )


def is_blocked(exc: BaseException) -> bool:
    """Whether ``exc`` comes from a :class:`BlockedAddress` (anywhere in its chain, however
    many libraries wrapped it): a refusal, not worth retrying."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        if isinstance(current, BlockedAddress):
            return True
        seen.add(id(current))
        pending += [current.__cause__, current.__context__]
        reason = getattr(current, "reason", None)  # urllib3's MaxRetryError
        pending += [arg for arg in (reason, *current.args) if isinstance(arg, BaseException)]
    return False


# --- httpx (and httpx2 for huggingface_hub) ------------------------------------------------


@lru_cache(maxsize=4)
def _backend_class(core: Any) -> Any:
    """A subclass of ``core.SyncBackend`` (httpcore or httpcore2) whose connections are
    checked: every connection of a client, hence every redirect, goes through it."""

    class GuardedBackend(core.SyncBackend):  # type: ignore[misc]
        def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> Any:
            opened = super().connect_tcp
            try:
                return _first_connected(
                    host,
                    port,
                    lambda address: opened(address, port, timeout, local_address, socket_options),
                )
            except OSError as exc:  # refused or unresolvable: what httpcore itself raises
                raise core.ConnectError(UNREACHABLE) from exc

    return GuardedBackend


_HTTPCORE_BACKEND = _backend_class(httpcore)


def _guard_transport(transport: Any, core: Any, backend: Any) -> None:
    pool = getattr(transport, "_pool", None)
    if not isinstance(pool, core.ConnectionPool) or not hasattr(pool, "_network_backend"):
        # A new httpx whose transport is built differently: refuse rather than go unchecked.
        raise RuntimeError("egress: this version of httpx cannot be guarded")
    pool._network_backend = backend()


def guarded_transport(**options: Any) -> httpx.HTTPTransport:
    """An httpx transport whose every connection is checked; ``options`` as
    :class:`httpx.HTTPTransport` takes them. Give it to ``httpx.Client(transport=...)``."""
    transport = httpx.HTTPTransport(**options)
    _guard_transport(transport, httpcore, _HTTPCORE_BACKEND)
    return transport


def httpx_flavour(client_class: type) -> ModuleType:
    """The httpx package ``client_class`` is built on: ``httpx``, or ``httpx2`` (its
    successor, which Authlib and huggingface_hub prefer where it is installed)."""
    for base in client_class.__mro__:
        root = base.__module__.split(".")[0]
        if root in ("httpx", "httpx2"):
            return importlib.import_module(root)
    raise TypeError(f"{client_class.__name__} is not an httpx client")


def guarded_transport_for(client_class: type, **options: Any) -> Any:
    """:func:`guarded_transport` for the httpx flavour of ``client_class``."""
    flavour = httpx_flavour(client_class)
    if flavour is httpx:
        return guarded_transport(**options)
    core = importlib.import_module(flavour.__name__.replace("httpx", "httpcore"))
    transport = flavour.HTTPTransport(**options)
    _guard_transport(transport, core, _backend_class(core))
    return transport


# --- requests (tweepy, Mastodon.py) --------------------------------------------------------


def _urllib3_socket(connection: HTTPConnection) -> socket.socket:
    """What urllib3's ``_new_conn`` does, towards checked addresses only (errors as urllib3
    raises them, so that requests reports them as it always does)."""
    host, port = connection.host, connection.port
    try:
        return _first_connected(
            host,
            port,
            lambda address: create_connection(
                (address, port),
                connection.timeout,
                source_address=connection.source_address,
                socket_options=connection.socket_options,
            ),
        )
    except socket.gaierror as exc:
        raise NameResolutionError(host, connection, exc) from exc
    except TimeoutError as exc:
        raise ConnectTimeoutError(connection, f"Connection to {host} timed out.") from exc
    except OSError as exc:
        raise NewConnectionError(connection, f"Failed to establish a connection: {exc}") from exc


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _urllib3_socket(self)


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _urllib3_socket(self)  # TLS then wraps it with the host name (SNI, certificate)


class _GuardedHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connections are checked."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        # Through a proxy, the proxy resolves the name: nothing here could check it.
        raise requests.exceptions.ConnectionError(BlockedAddress(proxy, 0))


def guard_session(session: requests.Session) -> requests.Session:
    """``session`` with every connection checked (and no proxy taken from the environment)."""
    session.trust_env = False
    adapter = GuardedAdapter()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def guarded_session() -> requests.Session:
    """A new requests session with every connection checked."""
    return guard_session(requests.Session())


# --- httplib2 (google-api-python-client) ---------------------------------------------------


@lru_cache(maxsize=1)
def _httplib2_http_class() -> Any:
    import httplib2  # only the YouTube connector needs it

    def timeout_of(value: object) -> float | None:
        return float(value) if isinstance(value, int | float) else None

    class GuardedHTTPConnection(httplib2.HTTPConnectionWithTimeout):  # type: ignore[misc]
        def connect(self) -> None:
            self.sock = open_socket(self.host, self.port, timeout_of(self.timeout))

    class GuardedHTTPSConnection(httplib2.HTTPSConnectionWithTimeout):  # type: ignore[misc]
        def connect(self) -> None:
            sock = open_socket(self.host, self.port, timeout_of(self.timeout))
            try:
                self.sock = self._context.wrap_socket(sock, server_hostname=self.host)
            except Exception:
                sock.close()
                raise

    class GuardedHttp(httplib2.Http):  # type: ignore[misc]
        """Redirects call :meth:`request` again: each hop gets a guarded connection."""

        def request(
            self,
            uri: str,
            method: str = "GET",
            body: Any = None,
            headers: Any = None,
            redirections: int = httplib2.DEFAULT_MAX_REDIRECTS,
            connection_type: Any = None,
        ) -> Any:
            if connection_type is None:
                secure = uri.lower().startswith("https:")
                connection_type = GuardedHTTPSConnection if secure else GuardedHTTPConnection
            return super().request(uri, method, body, headers, redirections, connection_type)

    return GuardedHttp


def guarded_httplib2(timeout: float | None = None) -> Any:
    """An ``httplib2.Http`` whose every connection (and redirect) is checked."""
    return _httplib2_http_class()(timeout=timeout, proxy_info=None)


# --- huggingface_hub (model downloads) -----------------------------------------------------


def guard_huggingface_hub() -> bool:
    """Route huggingface_hub's HTTP client through the check; False when it is not installed.

    huggingface_hub >= 1.0 builds httpx (or httpx2) clients from a factory it lets us replace;
    older versions take a requests session factory. Files stored with Xet are fetched by the
    ``hf_xet`` native extension from the addresses the Hub gives, outside Python's HTTP.
    """
    try:
        import huggingface_hub
    except ImportError:
        return False
    if hasattr(huggingface_hub, "set_client_factory"):
        from huggingface_hub.utils import _http as hub_http

        default_factory = hub_http.default_client_factory

        def factory() -> Any:
            client = default_factory()
            client._transport = guarded_transport_for(type(client))
            client._mounts.clear()  # proxies from the environment: names they resolve unchecked
            return client

        huggingface_hub.set_client_factory(factory)
        return True
    configure = getattr(huggingface_hub, "configure_http_backend", None)
    if configure is None:
        return False
    configure(backend_factory=guarded_session)
    return True
