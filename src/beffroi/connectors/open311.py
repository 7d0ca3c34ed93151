"""Handing a citizen's request off to a town's request-management system, by Open311
GeoReport v2 (http://wiki.open311.org/GeoReport_v2/ and /Service_Discovery/).

A town that runs an Open311 server (its own, or a product such as FixMyStreet, SeeClickFix or
Mark-a-Spot) publishes a discovery file, a list of services (pothole, graffiti, street light…),
and for each service the attributes a request must carry. :class:`Open311Client` reads them,
posts a request and follows it until the town closes it:

- :func:`discover` reads ``…/discovery.json`` (the GeoReport v2 endpoints, production or test,
  and the formats each serves); :meth:`Open311Client.from_discovery` picks one;
- :meth:`~Open311Client.services` and :meth:`~Open311Client.service_definition` read
  ``services.json`` and ``services/{code}.json``;
- :meth:`~Open311Client.submit` posts ``requests.json`` (form-encoded, the only call that
  carries the API key); a *realtime* service answers the request's id, a *batch* service a
  token that :meth:`~Open311Client.resolve_token` turns into an id later (``tokens/{token}``),
  a *blackbox* service neither;
- :meth:`~Open311Client.status` reads ``requests.json?service_request_id=a,b`` (open or closed,
  the town's notes, the agency in charge); :meth:`~Open311Client.request` reads one.

Only JSON is spoken: the specification makes it optional for servers (XML is required), so a
server whose discovery lists no ``application/json`` is refused with a sentence saying so.

**Errors** are the documented error list (``[{"code": 403, "description": "Invalid api_key"}]``)
turned into the connectors' errors, with the server's descriptions kept in the message: 403 is
:class:`AuthError` (missing or invalid API key), 404 :class:`NotFound` (service code,
jurisdiction, token or request unknown), 400 :class:`RequestRefused` (anything else the server
refused: a required attribute missing, no location…, with :attr:`RequestRefused.errors`), 429
:class:`RateLimited` (``Retry-After`` honoured, the key closed in the rate gate), 5xx
:class:`TransientError`. Every connection goes through :mod:`beffroi.egress`: a town's endpoint
or discovery address inside the server's network is refused unless the operator allowed it,
and plain http is accepted towards such an allowed host only. The API key never appears in a
message, a log line or a ``repr``: it travels in the POST body only (not in a URL that httpx
would log), and a server description that echoes it is scrubbed.

**No double submission.** GeoReport v2 has no idempotency key: a request posted twice is two
requests for the town's agents. So :meth:`~Open311Client.submit` is never retried inside the
call, and it tells a sure failure from an uncertain one:

- nothing left Beffroi, or the server refused (a connection that could not be opened, an
  address refused, 4xx, 429): the request was *not* created; sending again later is safe
  (:func:`retry_is_safe`);
- the request may have reached the server (the connection broke or timed out after it was
  sent, or a 5xx): :class:`SubmissionUncertain`. Sending again could duplicate it.

The caller therefore stores the draft as *sending* before the call, and *sent* (with the id or
token) after it. A draft found *sending* after a crash, or after :class:`SubmissionUncertain`,
must be looked up before anything is sent again. What the protocol allows for that:

- GET requests can be filtered by ``service_code`` and a ``start_date``/``end_date`` window,
  but not by any reference of ours. :meth:`~Open311Client.find_submitted` does that search and
  keeps the requests whose description holds the draft's :attr:`RequestDraft.reference`, which
  :meth:`~Open311Client.submit` appends to the description (``Réf. BF-…``). It finds the
  request when the server returns descriptions and already lists the request: a *batch*
  server that has not processed it yet, or one that hides descriptions, finds nothing, and
  nothing found is not a proof of absence — the caller then leaves the draft to a person.
- A town may define an attribute for an external reference in a service's definition (an
  attribute code the operator names, :attr:`RequestDraft.reference_attribute`): it is sent with
  the request so that the town's agents see it and can merge duplicates, but GeoReport v2 never
  returns attributes, so it cannot be searched from here.
- Some servers refuse an identical request with a 400 ("duplicate"): that is a
  :class:`RequestRefused`, which the caller may read as "already there".
"""

from __future__ import annotations

import enum
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import httpx

from beffroi.connectors.base import (
    AuthError,
    ConfigurationError,
    ConnectorError,
    MalformedPayload,
    NotFound,
    RateLimited,
    TransientError,
)
from beffroi.connectors.http import (
    DEFAULT_BACKOFF,
    DEFAULT_MAX_WAIT,
    DEFAULT_RATE_WAIT,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    RATE_GATE,
    ApiClient,
    RateGate,
    Verdict,
    parse_json,
    retry_after_seconds,
    token_key,
)
from beffroi.connectors.values import clear_text_allowed, iso_z, parse_time

log = logging.getLogger(__name__)

LABEL = "Open311"
#: The specification's token in discovery files (compared without scheme and trailing slash).
GEOREPORT_V2 = "wiki.open311.org/GeoReport_v2"
JSON_FORMAT = "application/json"
#: The specification's limit on a description.
MAX_DESCRIPTION = 4000
#: Ids per ``requests.json?service_request_id=…`` call, to keep the URL short.
IDS_PER_CALL = 50
#: What :meth:`Open311Client.submit` writes before the draft's reference in the description.
REFERENCE_PREFIX = "Réf. "


# --- errors -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServerError:
    """One entry of the documented error list: a code (often the HTTP status) and a
    description meant for a person."""

    code: str
    description: str


class RequestRefused(ConnectorError):
    """The server refused the request as sent (HTTP 400): a required attribute or the location
    missing, a value it does not accept, a duplicate… ``errors`` holds what it said."""

    def __init__(self, message: str, errors: Sequence[ServerError] = ()) -> None:
        super().__init__(message)
        self.errors = tuple(errors)


class InvalidDraft(ConnectorError):
    """The draft cannot be sent as it is (checked before anything leaves Beffroi)."""


class SubmissionUncertain(ConnectorError):
    """The request may have reached the town's server: do not send it again before looking it
    up (:meth:`Open311Client.find_submitted`). Not a :class:`TransientError` on purpose, so
    that nothing retries it blindly."""


def retry_is_safe(error: ConnectorError) -> bool:
    """Whether sending the same draft again after ``error`` from :meth:`Open311Client.submit`
    cannot create a second request: the request surely did not reach the server, and waiting
    may help (a rate limit, a server or network that was down). A refusal (API key, service,
    attribute) needs a person first; an uncertain outcome needs a look-up."""
    return isinstance(error, RateLimited | TransientError)


# --- what the server describes --------------------------------------------------------------


class EndpointType(enum.StrEnum):
    """Whether an endpoint's requests are acted upon."""

    PRODUCTION = "production"
    TEST = "test"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One API of a discovery file."""

    url: str
    specification: str
    type: str
    formats: tuple[str, ...] = ()
    changeset: str = ""

    @property
    def is_georeport_v2(self) -> bool:
        spec = self.specification.strip().rstrip("/").split("://", 1)[-1]
        return spec.casefold() == GEOREPORT_V2.casefold()

    @property
    def speaks_json(self) -> bool:
        return any(f.split(";")[0].strip().lower() == JSON_FORMAT for f in self.formats)


class ServiceType(enum.StrEnum):
    """What :meth:`Open311Client.submit` answers for a service."""

    #: The request's id at once.
    REALTIME = "realtime"
    #: A token, later turned into the id (:meth:`Open311Client.resolve_token`).
    BATCH = "batch"
    #: Nothing to follow the request by.
    BLACKBOX = "blackbox"


@dataclass(frozen=True, slots=True)
class Service:
    """One kind of request a town accepts."""

    code: str
    name: str
    description: str = ""
    #: True: the service has attributes (:meth:`Open311Client.service_definition`).
    metadata: bool = False
    type: ServiceType = ServiceType.REALTIME
    keywords: tuple[str, ...] = ()
    group: str = ""


@dataclass(frozen=True, slots=True)
class AttributeValue:
    """One choice of a list attribute: the key sent, the name shown."""

    key: str
    name: str


@dataclass(frozen=True, slots=True)
class Attribute:
    """A field of a service definition."""

    code: str
    description: str
    #: string, number, datetime, text, singlevaluelist or multivaluelist.
    datatype: str
    required: bool = False
    #: False: only information shown to the person, nothing to send.
    variable: bool = True
    order: int = 0
    datatype_description: str = ""
    values: tuple[AttributeValue, ...] = ()

    @property
    def multiple(self) -> bool:
        return self.datatype == "multivaluelist"


@dataclass(frozen=True, slots=True)
class ServiceDefinition:
    """The attributes of a service, in the order the town wants them shown."""

    service_code: str
    attributes: tuple[Attribute, ...] = ()

    def problems(self, values: Mapping[str, str | Sequence[str]]) -> list[str]:
        """What is wrong with ``values`` (attribute code → value or values) before sending:
        a required attribute missing, a choice the list does not offer."""
        problems: list[str] = []
        for attribute in self.attributes:
            if not attribute.variable:
                continue
            given = _as_list(values.get(attribute.code))
            if attribute.required and not given:
                problems.append(f"'{attribute.description or attribute.code}' is required.")
            keys = {value.key for value in attribute.values}
            if keys and any(value not in keys for value in given):
                problems.append(
                    f"'{attribute.description or attribute.code}' must be one of: "
                    f"{', '.join(sorted(keys))}."
                )
            if given and not attribute.multiple and len(given) > 1:
                problems.append(f"'{attribute.description or attribute.code}' takes one value.")
        return problems


@dataclass(frozen=True, slots=True)
class RequestDraft:
    """What is sent to create a request.

    A location is required: ``lat`` and ``long`` (WGS84), or ``address_string``, or
    ``address_id``. ``attributes`` maps an attribute code to its value, or to several for a
    multivaluelist. ``reference`` is the caller's own id of the request (written at the end of
    the description, see the module's note on double submission); ``reference_attribute``
    names the town's attribute for it, when the town defined one.
    """

    service_code: str
    description: str = ""
    lat: float | None = None
    long: float | None = None
    address_string: str = ""
    address_id: str = ""
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    media_url: str = ""
    device_id: str = ""
    account_id: str = ""
    attributes: Mapping[str, str | Sequence[str]] = field(default_factory=dict)
    reference: str = ""
    reference_attribute: str = ""

    def full_description(self) -> str:
        """The description sent: the text, then the reference on its own line."""
        if not self.reference:
            return self.description
        line = f"{REFERENCE_PREFIX}{self.reference}"
        return f"{self.description.rstrip()}\n\n{line}" if self.description.strip() else line

    def form(self, api_key: str, jurisdiction_id: str | None) -> list[tuple[str, str]]:
        """The form fields, in the specification's order; raises :class:`InvalidDraft`."""
        self.check()
        fields: list[tuple[str, str]] = [("api_key", api_key)]
        if jurisdiction_id:
            fields.append(("jurisdiction_id", jurisdiction_id))
        fields.append(("service_code", self.service_code))
        if self.lat is not None and self.long is not None:
            fields += [("lat", _coordinate(self.lat)), ("long", _coordinate(self.long))]
        optional = (
            ("address_string", self.address_string),
            ("address_id", self.address_id),
            ("email", self.email),
            ("device_id", self.device_id),
            ("account_id", self.account_id),
            ("first_name", self.first_name),
            ("last_name", self.last_name),
            ("phone", self.phone),
            ("description", self.full_description()),
            ("media_url", self.media_url),
        )
        fields += [(name, value) for name, value in optional if value]
        attributes = dict(self.attributes)
        if self.reference and self.reference_attribute:
            attributes.setdefault(self.reference_attribute, self.reference)
        for code, value in attributes.items():
            if isinstance(value, str):
                fields.append((f"attribute[{code}]", value))
            else:
                fields += [(f"attribute[{code}][]", str(one)) for one in value]
        return fields

    def check(self) -> None:
        """Raise :class:`InvalidDraft` saying what the specification would refuse."""
        if not self.service_code.strip():
            raise InvalidDraft(f"{LABEL}: choose the service the request is for.")
        if (self.lat is None) != (self.long is None):
            raise InvalidDraft(f"{LABEL}: a position needs both its latitude and longitude.")
        if self.lat is not None and self.long is not None:
            if not (_finite(self.lat) and -90 <= self.lat <= 90):
                raise InvalidDraft(f"{LABEL}: the latitude must be between -90 and 90.")
            if not (_finite(self.long) and -180 <= self.long <= 180):
                raise InvalidDraft(f"{LABEL}: the longitude must be between -180 and 180.")
        elif not (self.address_string.strip() or self.address_id.strip()):
            raise InvalidDraft(
                f"{LABEL}: a request needs a location: a position, an address or an address id."
            )
        if len(self.full_description()) > MAX_DESCRIPTION:
            raise InvalidDraft(
                f"{LABEL}: the description is longer than the {MAX_DESCRIPTION} characters "
                "the specification allows."
            )


@dataclass(frozen=True, slots=True)
class Submitted:
    """What the server answered to a new request: its id (realtime service), or a token to
    resolve later (batch service), or neither (blackbox service)."""

    service_request_id: str | None = None
    token: str | None = None
    service_notice: str = ""
    account_id: str = ""

    @property
    def followable(self) -> bool:
        """Whether the request's status can ever be read back."""
        return self.service_request_id is not None or self.token is not None


class RequestState(enum.StrEnum):
    """The two statuses GeoReport v2 defines."""

    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class RequestStatus:
    """A request as the town's system sees it now."""

    service_request_id: str
    status: str
    status_notes: str = ""
    service_name: str = ""
    service_code: str = ""
    description: str = ""
    agency_responsible: str = ""
    service_notice: str = ""
    requested_datetime: datetime | None = None
    updated_datetime: datetime | None = None
    expected_datetime: datetime | None = None
    address: str = ""
    address_id: str = ""
    zipcode: str = ""
    lat: float | None = None
    long: float | None = None
    media_url: str = ""

    @property
    def closed(self) -> bool:
        """The town resolved it (what the desk shows as *done externally*)."""
        return self.status == RequestState.CLOSED


# --- the client -----------------------------------------------------------------------------


class Open311Client:
    """One town's GeoReport v2 endpoint, with the API key Beffroi was given for it.

    ``endpoint`` is the API's base address (``https://open311.ville.fr/v2``: the calls append
    ``/services.json`` and so on). ``timeout``, ``retries``, ``backoff`` and ``max_wait`` are
    :class:`~beffroi.connectors.http.ApiClient`'s; reads are retried after a 5xx or a network
    failure, :meth:`submit` never is.
    """

    def __init__(
        self,
        endpoint: str,
        api_key: str,
        jurisdiction_id: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff: float = DEFAULT_BACKOFF,
        max_wait: float = DEFAULT_MAX_WAIT,
        gate: RateGate = RATE_GATE,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.endpoint = endpoint_url(endpoint, "endpoint")
        self._api_key = api_key.strip()
        self.jurisdiction_id = (jurisdiction_id or "").strip() or None
        key = token_key("open311", f"{self.endpoint}\0{self._api_key}")
        options: dict[str, Any] = {
            "label": LABEL,
            "key": key,
            "classify": self._classify,
            "headers": {"Accept": JSON_FORMAT},
            "timeout": timeout,
            "backoff": backoff,
            "max_wait": max_wait,
            "gate": gate,
            "transport": transport,
        }
        self._reads = ApiClient(self.endpoint, retries=retries, **options)
        self._writes = ApiClient(self.endpoint, retries=0, **options)

    @classmethod
    def from_discovery(
        cls,
        discovery_url: str,
        api_key: str,
        jurisdiction_id: str | None = None,
        *,
        kind: str = EndpointType.PRODUCTION,
        **options: Any,
    ) -> Open311Client:
        """A client for the GeoReport v2 JSON endpoint of ``kind`` (production or test) that
        ``discovery_url`` lists (ConfigurationError when it lists none)."""
        timeout = float(options.get("timeout", DEFAULT_TIMEOUT))
        endpoints = discover(discovery_url, timeout=timeout, transport=options.get("transport"))
        return cls(pick_endpoint(endpoints, kind).url, api_key, jurisdiction_id, **options)

    def __repr__(self) -> str:
        return f"Open311Client({self.endpoint!r}, jurisdiction_id={self.jurisdiction_id!r})"

    def close(self) -> None:
        self._reads.close()
        self._writes.close()

    def __enter__(self) -> Open311Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- reading ----------------------------------------------------------------------------

    def services(self) -> list[Service]:
        """The kinds of request the town accepts (``GET services.json``)."""
        payload = self._get("/services.json")
        return [_service(entry) for entry in _entries(payload, "the service list")]

    def service_definition(self, code: str) -> ServiceDefinition:
        """The attributes of service ``code`` (``GET services/{code}.json``)."""
        payload = self._get(f"/services/{_segment(code)}.json")
        if not isinstance(payload, dict):
            raise MalformedPayload(f"{LABEL}: the service definition is not an object.")
        attributes = [_attribute(entry) for entry in _unwrap(payload.get("attributes"))]
        attributes.sort(key=lambda attribute: attribute.order)
        return ServiceDefinition(_text(payload.get("service_code")) or code, tuple(attributes))

    def resolve_token(self, token: str) -> str | None:
        """The id of the request a batch service answered ``token`` for, or None while the
        server has not created it yet (``GET tokens/{token}.json``); NotFound for a token the
        server does not know."""
        payload = self._get(f"/tokens/{_segment(token)}.json")
        for entry in _entries(payload, "the token's answer"):
            request_id = _text(entry.get("service_request_id"))
            if request_id:
                return request_id
        return None

    def request(self, service_request_id: str) -> RequestStatus:
        """One request as the town sees it now (``GET requests/{id}.json``)."""
        payload = self._get(f"/requests/{_segment(service_request_id)}.json")
        found = [_status(entry) for entry in _entries(payload, "the request")]
        if not found:
            raise NotFound(f"{LABEL}: request {service_request_id} was not found.")
        return found[0]

    def status(self, ids: Iterable[str]) -> list[RequestStatus]:
        """The requests among ``ids`` the server knows, as it sees them now
        (``GET requests.json?service_request_id=a,b``; an unknown id is left out)."""
        wanted = list(dict.fromkeys(str(i) for i in ids if str(i)))
        found: list[RequestStatus] = []
        for start in range(0, len(wanted), IDS_PER_CALL):
            chunk = wanted[start : start + IDS_PER_CALL]
            payload = self._get("/requests.json", service_request_id=",".join(chunk))
            found += [_status(entry) for entry in _entries(payload, "the request list")]
        return found

    def find_submitted(
        self, draft: RequestDraft, sent_at: datetime, *, margin: timedelta = timedelta(hours=1)
    ) -> list[RequestStatus]:
        """The requests of ``draft``'s service created around ``sent_at`` whose description
        holds its reference: where a draft left *sending* by a crash or by
        :class:`SubmissionUncertain` went. Empty does not prove it was not created (see the
        module's note)."""
        if not draft.reference:
            raise InvalidDraft(f"{LABEL}: a draft without a reference cannot be looked up.")
        payload = self._get(
            "/requests.json",
            service_code=draft.service_code,
            start_date=iso_z(sent_at - margin),
            end_date=iso_z(sent_at + margin),
        )
        marker = f"{REFERENCE_PREFIX}{draft.reference}"
        statuses = [_status(entry) for entry in _entries(payload, "the request list")]
        return [status for status in statuses if _holds_line(status.description, marker)]

    # --- writing ----------------------------------------------------------------------------

    def submit(self, draft: RequestDraft) -> Submitted:
        """Create a request (``POST requests.json``); see the module's note on double
        submission for what each error means."""
        body = urlencode(draft.form(self._api_key, self.jurisdiction_id)).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        try:
            response = self._writes.request("POST", "/requests.json", content=body, headers=headers)
        except TransientError as exc:
            if _surely_not_sent(exc):
                raise
            raise SubmissionUncertain(
                f"{LABEL}: the request may have been recorded by the town's server, but its "
                f"answer was lost ({str(exc).rstrip('.')}). Look it up before sending it again."
            ) from exc
        try:
            entries = _entries(parse_json(response, LABEL), "the answer to a new request")
        except MalformedPayload as exc:
            raise SubmissionUncertain(
                f"{LABEL}: the town's server accepted the request but its answer cannot be "
                f"read ({str(exc).rstrip('.')}). Look it up before sending it again."
            ) from exc
        if not entries:
            return Submitted()
        entry = entries[0]
        return Submitted(
            service_request_id=_text(entry.get("service_request_id")) or None,
            token=_text(entry.get("token")) or None,
            service_notice=_text(entry.get("service_notice")),
            account_id=_text(entry.get("account_id")),
        )

    # --- plumbing ---------------------------------------------------------------------------

    def _get(self, path: str, **params: str) -> Any:
        if self.jurisdiction_id:
            params = {"jurisdiction_id": self.jurisdiction_id, **params}
        return self._reads.get(path, params=params)

    def _classify(self, response: httpx.Response) -> Verdict:
        return classify(response, secrets=(self._api_key,))


def discover(
    discovery_url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
) -> list[Endpoint]:
    """The endpoints a town's discovery file lists (``…/discovery.json``; an address ending in
    ``discovery.xml`` or in neither is read as its JSON form)."""
    url = discovery_address(discovery_url)
    parts = urlsplit(url)
    origin = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    client = ApiClient(
        origin,
        label=LABEL,
        key=token_key("open311", origin),
        classify=classify,
        headers={"Accept": JSON_FORMAT},
        timeout=timeout,
        transport=transport,
    )
    with client:
        payload = client.get(parts.path)
    if not isinstance(payload, dict):
        raise MalformedPayload(f"{LABEL}: the discovery file is not an object.")
    endpoints: list[Endpoint] = []
    for entry in _unwrap(payload.get("endpoints"), "endpoint"):
        if not isinstance(entry, dict) or not _text(entry.get("url")):
            continue
        formats = tuple(_text(f) for f in _unwrap(entry.get("formats"), "format"))
        endpoints.append(
            Endpoint(
                url=_text(entry.get("url")),
                specification=_text(entry.get("specification")),
                type=_text(entry.get("type")).lower(),
                formats=formats,
                changeset=_text(entry.get("changeset")),
            )
        )
    return endpoints


def pick_endpoint(endpoints: Sequence[Endpoint], kind: str = EndpointType.PRODUCTION) -> Endpoint:
    """The GeoReport v2 endpoint of ``kind`` that speaks JSON (the newest changeset first)."""
    candidates = [e for e in endpoints if e.is_georeport_v2 and e.type == kind]
    if not candidates:
        raise ConfigurationError(f"{LABEL}: the discovery file lists no GeoReport v2 {kind} API.")
    usable = [e for e in candidates if e.speaks_json]
    if not usable:
        raise ConfigurationError(
            f"{LABEL}: the town's GeoReport v2 {kind} API serves XML only; Beffroi reads JSON."
        )
    return max(usable, key=lambda e: e.changeset)


# --- addresses ------------------------------------------------------------------------------


def endpoint_url(value: str, what: str) -> str:
    """``value`` as an https address with a host (http towards an allowed internal host only),
    without a trailing slash; ConfigurationError saying what is wrong."""
    raw = value.strip().rstrip("/")
    parts = urlsplit(raw)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host or parts.query or parts.fragment:
        raise ConfigurationError(
            f"{LABEL}: the {what} must be a web address, e.g. https://open311.ville.fr/v2."
        )
    if parts.scheme == "http" and not clear_text_allowed(host):
        raise ConfigurationError(
            f"{LABEL}: the {what} must use https; the API key would travel in clear text."
        )
    return raw


def discovery_address(value: str) -> str:
    """The JSON discovery file of ``value`` (``…/discovery.json``)."""
    url = endpoint_url(value, "discovery address")
    if url.endswith("/discovery.json"):
        return url
    if url.endswith("/discovery.xml"):
        return url[: -len("xml")] + "json"
    return f"{url}/discovery.json"


# --- answers --------------------------------------------------------------------------------


def server_errors(payload: Any) -> list[ServerError]:
    """The documented error list in ``payload`` (also ``{"errors": [...]}`` and a single
    object, which some servers send)."""
    if isinstance(payload, dict):
        payload = payload.get("errors", payload.get("error", [payload]))
    errors = []
    for entry in _unwrap(payload, "error"):
        if isinstance(entry, dict) and _text(entry.get("description")):
            errors.append(ServerError(_text(entry.get("code")), _text(entry.get("description"))))
    return errors


def classify(response: httpx.Response, secrets: Sequence[str] = ()) -> Verdict:
    """A GeoReport answer as a connector error (or none), with the server's descriptions;
    ``secrets`` are removed from them should a server echo them."""
    status = response.status_code
    if status < 300:
        return Verdict()
    if status < 400:
        return Verdict(
            ConfigurationError(
                f"{LABEL}: the server answered with a redirect (HTTP {status}); set the "
                "address it redirects to."
            )
        )
    try:
        errors = server_errors(response.json())
    except ValueError:
        errors = []
    errors = [ServerError(e.code, _scrub(e.description, secrets)) for e in errors]
    said = "; ".join(e.description for e in errors)
    told = f": {said}" if said else ""
    if status in (401, 403):
        return Verdict(
            AuthError(f"{LABEL}: the town's server refused the API key (HTTP {status}){told}.")
        )
    if status in (404, 410):
        return Verdict(NotFound(f"{LABEL}: not found (HTTP {status}){told}."))
    if status == 429:
        wait = retry_after_seconds(response.headers, DEFAULT_RATE_WAIT)
        return Verdict(
            RateLimited(f"{LABEL}: the town's server asked to slow down (HTTP 429){told}.", wait),
            wait,
        )
    if status >= 500:
        return Verdict(TransientError(f"{LABEL}: the town's server failed (HTTP {status}){told}."))
    return Verdict(
        RequestRefused(
            f"{LABEL}: the town's server refused the request (HTTP {status}){told}.", errors
        )
    )


def _surely_not_sent(error: TransientError) -> bool:
    """Whether a failed POST surely never reached the server: the connection could not be
    opened (nothing was written). A timeout or a break after connecting, and a 5xx, may follow
    a request the server recorded."""
    cause = error.__cause__
    return isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout)


def _scrub(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


def _entries(payload: Any, what: str) -> list[dict[str, Any]]:
    """The list of objects GeoReport answers (``service_requests`` and ``services`` wrappers,
    which some servers keep from the XML form, are accepted)."""
    if isinstance(payload, dict):
        for wrapper in ("service_requests", "services"):
            if wrapper in payload:
                payload = payload[wrapper]
                break
    items = _unwrap(payload, "request", "service")
    if not isinstance(payload, list | dict) or not all(isinstance(i, dict) for i in items):
        raise MalformedPayload(f"{LABEL}: {what} is not a list of objects as documented.")
    return list(items)


def _unwrap(value: Any, *singular: str) -> list[Any]:
    """A JSON list, or the Spark convention's wrapped form ``{"endpoint": [...]}``."""
    if value is None:
        return []
    if isinstance(value, dict):
        for name in singular:
            if name in value:
                inner = value[name]
                return inner if isinstance(inner, list) else [inner]
        return [value]
    if isinstance(value, list):
        return value
    return []


def _text(value: Any) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _flag(value: Any) -> bool:
    return value is True or _text(value).lower() in ("true", "1", "yes")


def _number(value: Any) -> float | None:
    try:
        number = float(_text(value))
    except ValueError:
        return None
    return number if _finite(number) else None


def _finite(value: float) -> bool:
    return math.isfinite(value)


def _coordinate(value: float) -> str:
    return f"{value:.8f}".rstrip("0").rstrip(".")


def _segment(value: str) -> str:
    return quote(str(value), safe="")


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    return [str(one) for one in value if str(one).strip()]


def _holds_line(text: str, line: str) -> bool:
    return any(candidate.strip() == line for candidate in text.splitlines())


def _service(entry: Mapping[str, Any]) -> Service:
    code = _text(entry.get("service_code"))
    if not code:
        raise MalformedPayload(f"{LABEL}: a service has no service_code.")
    try:
        kind = ServiceType(_text(entry.get("type")).lower() or ServiceType.REALTIME)
    except ValueError:
        kind = ServiceType.BLACKBOX  # unknown kind: promise nothing about what comes back
    keywords = tuple(k.strip() for k in _text(entry.get("keywords")).split(",") if k.strip())
    return Service(
        code=code,
        name=_text(entry.get("service_name")) or code,
        description=_text(entry.get("description")),
        metadata=_flag(entry.get("metadata")),
        type=kind,
        keywords=keywords,
        group=_text(entry.get("group")),
    )


def _attribute(entry: Any) -> Attribute:
    if not isinstance(entry, dict) or not _text(entry.get("code")):
        raise MalformedPayload(f"{LABEL}: an attribute of the service definition has no code.")
    values = tuple(
        AttributeValue(_text(value.get("key")), _text(value.get("name")))
        for value in _unwrap(entry.get("values"), "value")
        if isinstance(value, dict)
    )
    order = _number(entry.get("order"))
    return Attribute(
        code=_text(entry.get("code")),
        description=_text(entry.get("description")),
        datatype=_text(entry.get("datatype")).lower() or "string",
        required=_flag(entry.get("required")),
        variable=entry.get("variable") is None or _flag(entry.get("variable")),
        order=int(order) if order is not None else 0,
        datatype_description=_text(entry.get("datatype_description")),
        values=values,
    )


def _status(entry: Mapping[str, Any]) -> RequestStatus:
    request_id = _text(entry.get("service_request_id"))
    if not request_id:
        raise MalformedPayload(f"{LABEL}: a request has no service_request_id.")
    return RequestStatus(
        service_request_id=request_id,
        status=_text(entry.get("status")).lower(),
        status_notes=_text(entry.get("status_notes")),
        service_name=_text(entry.get("service_name")),
        service_code=_text(entry.get("service_code")),
        description=_text(entry.get("description")),
        agency_responsible=_text(entry.get("agency_responsible")),
        service_notice=_text(entry.get("service_notice")),
        requested_datetime=parse_time(entry.get("requested_datetime")),
        updated_datetime=parse_time(entry.get("updated_datetime")),
        expected_datetime=parse_time(entry.get("expected_datetime")),
        address=_text(entry.get("address")),
        address_id=_text(entry.get("address_id")),
        zipcode=_text(entry.get("zipcode")),
        lat=_number(entry.get("lat")),
        long=_number(entry.get("long")),
        media_url=_text(entry.get("media_url")),
    )
