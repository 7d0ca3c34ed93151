"""A town's Open311 GeoReport v2 server on 127.0.0.1, answering as the specification documents
(http://wiki.open311.org/GeoReport_v2/ and /Service_Discovery/), in JSON.

Endpoints: ``GET /discovery.json`` (a production and a test GeoReport v2 endpoint, and a v3
one that clients must skip), and under :data:`API_PATH`: ``GET services.json``,
``GET services/{code}.json``, ``POST requests.json`` (form-encoded; the only call that needs the
API key), ``GET tokens/{token}.json``, ``GET requests/{id}.json`` and ``GET requests.json``
(``service_request_id=a,b`` overrides every other argument; else ``service_code``, ``status``,
``start_date``/``end_date``, the last 90 days by default). Every error is the documented list,
``[{"code": 403, "description": "..."}]``, with the documented status: 403 for a missing or
invalid API key, 404 for a service code, token, request or jurisdiction that does not exist,
400 for anything else (a location or a required attribute missing, a value not in the list,
no jurisdiction where the server serves several).

Services: ``POTHOLE`` (realtime, no attributes), ``GRAFFITI`` (realtime, a required
singlevaluelist ``SURFACE`` and an optional multivaluelist ``COLOURS``), ``STREETLIGHT``
(batch: the answer is a token that :meth:`FakeOpen311.token_polls` polls later resolve to an
id) and ``NOISE`` (blackbox: neither id nor token). The test plays the town with
:meth:`~FakeOpen311.close_request` and :meth:`~FakeOpen311.update_request`, and turns on
:meth:`~FakeOpen311.rate_limit` (429 with ``Retry-After``) and
:meth:`~FakeOpen311.server_error` (5xx with the error list); the scaffold's switches
(``malformed``, ``truncate``, ``fail_after``, ``drop_connections``, ``script``) also apply.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from tests.fakes.loopback import LoopbackServer, RecordedRequest, Reply

API_PATH = "/open311/v2"
API_KEY = "o311-key-4c9e2b7d1a"
JURISDICTION = "ville-test.fr"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"

SERVICES: list[dict[str, Any]] = [
    {
        "service_code": "POTHOLE",
        "service_name": "Nid-de-poule",
        "description": "Un trou dans la chaussée.",
        "metadata": False,
        "type": "realtime",
        "keywords": "voirie, trou, chaussée",
        "group": "voirie",
    },
    {
        "service_code": "GRAFFITI",
        "service_name": "Tag ou graffiti",
        "description": "Un tag sur un bien public.",
        "metadata": True,
        "type": "realtime",
        "keywords": "tag, graffiti",
        "group": "propreté",
    },
    {
        "service_code": "STREETLIGHT",
        "service_name": "Éclairage public en panne",
        "description": "Un lampadaire éteint.",
        "metadata": False,
        "type": "batch",
        "keywords": "lampadaire, éclairage",
        "group": "voirie",
    },
    {
        "service_code": "NOISE",
        "service_name": "Bruit",
        "description": "Nuisance sonore.",
        "metadata": False,
        "type": "blackbox",
        "keywords": "",
        "group": "tranquillité",
    },
]

DEFINITIONS: dict[str, dict[str, Any]] = {
    "GRAFFITI": {
        "service_code": "GRAFFITI",
        "attributes": [
            {
                "variable": True,
                "code": "COLOURS",
                "datatype": "multivaluelist",
                "required": False,
                "datatype_description": None,
                "order": 2,
                "description": "Couleurs du tag",
                "values": [
                    {"key": "red", "name": "Rouge"},
                    {"key": "black", "name": "Noir"},
                    {"key": "blue", "name": "Bleu"},
                ],
            },
            {
                "variable": True,
                "code": "SURFACE",
                "datatype": "singlevaluelist",
                "required": True,
                "datatype_description": None,
                "order": 1,
                "description": "Sur quelle surface ?",
                "values": [{"key": "wall", "name": "Mur"}, {"key": "bench", "name": "Banc"}],
            },
            {
                "variable": False,
                "code": "NOTICE",
                "datatype": "text",
                "required": False,
                "datatype_description": None,
                "order": 3,
                "description": "Les tags injurieux sont effacés sous 24 h.",
                "values": [],
            },
        ],
    }
}

NOTICES = {
    "POTHOLE": "Les services techniques interviennent sous 5 jours ouvrés.",
    "GRAFFITI": "Les tags sont effacés sous 10 jours.",
    "STREETLIGHT": "Votre signalement sera traité lors de la prochaine tournée.",
    "NOISE": "Votre signalement a été transmis à la police municipale.",
}


def w3(moment: datetime) -> str:
    """The specification's date format: ``2010-01-01T00:00:00Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def errors(code: int, description: str) -> Reply:
    """The documented error answer."""
    return Reply(code, [{"code": code, "description": description}])


@dataclass
class StoredRequest:
    """One service request in the town's system."""

    service_request_id: str
    service_code: str
    form: dict[str, list[str]]
    requested: datetime
    status: str = "open"
    status_notes: str | None = None
    agency_responsible: str | None = "Services techniques"
    updated: datetime | None = None
    expected: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        def one(name: str) -> str | None:
            values = self.form.get(name)
            return values[0] if values else None

        service = next(s for s in SERVICES if s["service_code"] == self.service_code)
        lat, long = one("lat"), one("long")
        return {
            "service_request_id": self.service_request_id,
            "status": self.status,
            "status_notes": self.status_notes,
            "service_name": service["service_name"],
            "service_code": self.service_code,
            "description": one("description"),
            "agency_responsible": self.agency_responsible,
            "service_notice": NOTICES[self.service_code],
            "requested_datetime": w3(self.requested),
            "updated_datetime": w3(self.updated or self.requested),
            "expected_datetime": w3(self.expected) if self.expected else None,
            "address": one("address_string"),
            "address_id": one("address_id"),
            "zipcode": None,
            "lat": float(lat) if lat else None,
            "long": float(long) if long else None,
            "media_url": one("media_url"),
        }


@dataclass
class _Token:
    """A batch request not yet processed: it gets its id after ``polls_left`` more polls."""

    form: dict[str, list[str]]
    service_code: str
    polls_left: int
    service_request_id: str | None = None


@dataclass
class _Switches:
    rate_limited: int = 0
    retry_after: str = "30"
    server_errors: dict[str, tuple[int, int]] = field(default_factory=dict)


class FakeOpen311(LoopbackServer):
    """One town's GeoReport v2 server, JSON only."""

    unavailable_body: Any = [{"code": 503, "description": "Service temporarily unavailable"}]

    def __init__(
        self,
        *,
        api_key: str = API_KEY,
        jurisdiction_id: str | None = JURISDICTION,
        token_polls: int = 2,
        pending_token_form: str = "absent",  # noqa: S107 (an answer's form, not a secret)
    ) -> None:
        super().__init__()
        self.api_key = api_key
        #: None: the server serves one jurisdiction and ignores the argument.
        self.jurisdiction_id = jurisdiction_id
        #: Polls of a token answered "not yet" before it resolves.
        self.token_polls = token_polls
        #: How a pending token is answered: "absent" (no service_request_id) or "null".
        self.pending_token_form = pending_token_form
        self.stored: dict[str, StoredRequest] = {}
        self.tokens: dict[str, _Token] = {}
        self.switches = _Switches()
        self._ids = itertools.count(638344)
        self._token_numbers = itertools.count(12345)

    # --- what the town does -------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return f"{self.base_url}{API_PATH}"

    @property
    def discovery_url(self) -> str:
        return f"{self.base_url}/discovery.json"

    def close_request(self, request_id: str, notes: str = "Intervention réalisée.") -> None:
        """The town resolves the request."""
        self.update_request(request_id, status="closed", status_notes=notes)

    def update_request(self, request_id: str, **changes: Any) -> None:
        with self.lock:
            stored = self.stored[request_id]
            for name, value in changes.items():
                setattr(stored, name, value)
            stored.updated = datetime.now(UTC)

    def rate_limit(self, requests: int = 1, retry_after: str = "30") -> None:
        """The next ``requests`` requests get 429 with ``Retry-After``."""
        with self.lock:
            self.switches.rate_limited = requests
            self.switches.retry_after = retry_after

    def server_error(self, path: str, requests: int = 1, status: int = 500) -> None:
        """The next ``requests`` requests to ``path`` (under the API) get ``status``."""
        with self.lock:
            self.switches.server_errors[API_PATH + path] = (requests, status)

    # --- the protocol -------------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Reply:
        with self.lock:
            return self._handle(request)

    def _handle(self, request: RecordedRequest) -> Reply:
        switches = self.switches
        if switches.rate_limited > 0:
            switches.rate_limited -= 1
            reply = errors(429, "Too many requests; retry later.")
            reply.headers["Retry-After"] = switches.retry_after
            return reply
        failing = switches.server_errors.get(request.path)
        if failing is not None and failing[0] > 0:
            switches.server_errors[request.path] = (failing[0] - 1, failing[1])
            return errors(failing[1], "Internal error in the request-management system")
        if request.method == "GET" and request.path == "/discovery.json":
            return Reply(200, self._discovery())
        if not request.path.startswith(API_PATH + "/"):
            return errors(404, "Resource not found")
        path = request.path[len(API_PATH) :]
        if not path.endswith(".json"):
            return errors(400, "Only the json format is served here")
        path = path[: -len(".json")]
        refusal = self._check_jurisdiction(request)
        if refusal is not None:
            return refusal
        if request.method == "POST" and path == "/requests":
            return self._post_request(request)
        if request.method != "GET":
            return errors(400, f"{request.method} is not supported on this resource")
        if path == "/services":
            return Reply(200, SERVICES)
        if path.startswith("/services/"):
            return self._definition(unquote(path[len("/services/") :]))
        if path.startswith("/tokens/"):
            return self._token(unquote(path[len("/tokens/") :]))
        if path == "/requests":
            return self._requests(request)
        if path.startswith("/requests/"):
            stored = self.stored.get(unquote(path[len("/requests/") :]))
            if stored is None:
                return errors(404, "service_request_id not found")
            return Reply(200, [stored.as_json()])
        return errors(404, "Resource not found")

    def _discovery(self) -> dict[str, Any]:
        return {
            "changeset": "2026-11-30 09:00",
            "contact": "Mairie de Test, open311@ville-test.fr",
            "key_service": "Demandez une clé à open311@ville-test.fr",
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": self.endpoint,
                    "changeset": "2026-11-30 09:00",
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                },
                {
                    "specification": SPECIFICATION,
                    "url": f"{self.base_url}/test{API_PATH}",
                    "changeset": "2026-10-01 09:00",
                    "type": "test",
                    "formats": ["text/xml"],
                },
                {
                    "specification": "http://wiki.open311.org/GeoReport_v3",
                    "url": f"{self.base_url}/open311/v3",
                    "changeset": "2026-12-01 09:00",
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                },
            ],
        }

    def _check_jurisdiction(self, request: RecordedRequest) -> Reply | None:
        if self.jurisdiction_id is None:
            return None
        given = request.param("jurisdiction_id")
        if not given:
            return errors(400, "jurisdiction_id was not provided")
        if given != self.jurisdiction_id:
            return errors(404, f"jurisdiction_id {given} not found")
        return None

    def _definition(self, code: str) -> Reply:
        if not any(s["service_code"] == code for s in SERVICES):
            return errors(404, f"service_code {code} not found")
        return Reply(200, DEFINITIONS.get(code, {"service_code": code, "attributes": []}))

    def _post_request(self, request: RecordedRequest) -> Reply:
        form = request.body if isinstance(request.body, dict) else {}

        def one(name: str) -> str:
            values = form.get(name) or [""]
            return str(values[0]).strip()

        if not one("api_key"):
            return errors(403, "api_key was not provided")
        if one("api_key") != self.api_key:
            return errors(403, "Invalid api_key received -- can't proceed with create_request.")
        code = one("service_code")
        if not code:
            return errors(400, "service_code was not provided")
        service = next((s for s in SERVICES if s["service_code"] == code), None)
        if service is None:
            return errors(404, f"service_code {code} not found")
        problems = self._location_problems(one("lat"), one("long"))
        if not problems and not (one("lat") or one("address_string") or one("address_id")):
            problems.append("A full location parameter must be submitted")
        if len(one("description")) > 4000:
            problems.append("description is limited to 4,000 characters")
        problems += self._attribute_problems(code, form)
        if problems:
            return Reply(400, [{"code": 400, "description": p} for p in problems])
        kind = service["type"]
        if kind == "batch":
            token = str(next(self._token_numbers))
            self.tokens[token] = _Token(form, code, self.token_polls)
            return Reply(200, [{"token": token, "service_notice": NOTICES[code]}])
        request_id = self._store(code, form)
        if kind == "blackbox":
            return Reply(200, [{"service_notice": NOTICES[code], "account_id": None}])
        return Reply(
            200,
            [
                {
                    "service_request_id": request_id,
                    "service_notice": NOTICES[code],
                    "account_id": None,
                }
            ],
        )

    @staticmethod
    def _location_problems(lat: str, long: str) -> list[str]:
        if not lat and not long:
            return []
        if not lat or not long:
            return ["lat & long both need to be sent"]
        try:
            latitude, longitude = float(lat), float(long)
        except ValueError:
            return ["lat and long must be numbers (WGS84)"]
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            return ["lat or long is out of range (WGS84)"]
        return []

    @staticmethod
    def _attribute_problems(code: str, form: dict[str, list[str]]) -> list[str]:
        problems = []
        for attribute in DEFINITIONS.get(code, {}).get("attributes", []):
            if not attribute["variable"]:
                continue
            name = f"attribute[{attribute['code']}]"
            given = [v for v in form.get(name, []) + form.get(f"{name}[]", []) if v]
            if attribute["required"] and not given:
                problems.append(f"{name} is required: {attribute['description']}")
            keys = {str(value["key"]) for value in attribute["values"]}
            for value in given:
                if keys and value not in keys:
                    problems.append(f"{name}: '{value}' is not one of the allowed values")
        return problems

    def _store(self, code: str, form: dict[str, list[str]]) -> str:
        request_id = str(next(self._ids))
        self.stored[request_id] = StoredRequest(request_id, code, form, datetime.now(UTC))
        return request_id

    def _token(self, token: str) -> Reply:
        pending = self.tokens.get(token)
        if pending is None:
            return errors(404, f"token {token} not found")
        if pending.service_request_id is None and pending.polls_left > 0:
            pending.polls_left -= 1
            if self.pending_token_form == "null":
                return Reply(200, [{"service_request_id": None, "token": token}])
            return Reply(200, [{"token": token}])
        if pending.service_request_id is None:
            pending.service_request_id = self._store(pending.service_code, pending.form)
        return Reply(200, [{"service_request_id": pending.service_request_id, "token": token}])

    def _requests(self, request: RecordedRequest) -> Reply:
        ids = request.param("service_request_id")
        if ids:
            wanted = [i.strip() for i in str(ids).split(",")]
            found = [self.stored[i].as_json() for i in wanted if i in self.stored]
            return Reply(200, found)
        now = datetime.now(UTC)
        try:
            start = _date(request.param("start_date")) or now - timedelta(days=90)
            end = _date(request.param("end_date")) or now
        except ValueError:
            return errors(400, "start_date and end_date must use the w3 format")
        if end - start > timedelta(days=90):
            return errors(400, "start_date and end_date may not span more than 90 days")
        codes = _csv(request.param("service_code"))
        statuses = _csv(request.param("status"))
        found = [
            stored.as_json()
            for stored in self.stored.values()
            if start <= stored.requested <= end
            and (not codes or stored.service_code in codes)
            and (not statuses or stored.status in statuses)
        ]
        return Reply(200, found[:1000])


def _date(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _csv(value: Any) -> set[str]:
    return {part.strip() for part in str(value or "").split(",") if part.strip()}
