"""The Open311 GeoReport v2 client against a loopback server that answers as the specification
documents, errors included (tests/fakes/open311.py)."""

from __future__ import annotations

import logging
import re
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from beffroi import egress
from beffroi.connectors.base import (
    AuthError,
    ConfigurationError,
    MalformedPayload,
    NotFound,
    RateLimited,
    TransientError,
)
from beffroi.connectors.http import RateGate
from beffroi.connectors.open311 import (
    Endpoint,
    InvalidDraft,
    Open311Client,
    RequestDraft,
    RequestRefused,
    ServiceType,
    SubmissionUncertain,
    discover,
    discovery_address,
    pick_endpoint,
    retry_is_safe,
)
from tests.fakes.loopback import Reply
from tests.fakes.open311 import API_KEY, API_PATH, JURISDICTION, FakeOpen311

# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[FakeOpen311]:
    with FakeOpen311() as fake:
        yield fake


def connect(
    server: FakeOpen311,
    api_key: str = API_KEY,
    jurisdiction_id: str | None = JURISDICTION,
    retries: int = 1,
) -> Open311Client:
    return Open311Client(
        server.endpoint,
        api_key,
        jurisdiction_id,
        timeout=5,
        retries=retries,
        backoff=0.01,
        gate=RateGate(),
    )


@pytest.fixture
def client(server: FakeOpen311) -> Iterator[Open311Client]:
    with connect(server) as opened:
        yield opened


def pothole(**changes: object) -> RequestDraft:
    fields: dict[str, object] = {
        "service_code": "POTHOLE",
        "description": "Un nid-de-poule profond devant l'école, signalé sur Facebook.",
        "lat": 48.8566,
        "long": 2.3522,
        "address_string": "12 rue de la Mairie, 75001 Test",
        "email": "habitant@example.org",
        "first_name": "Camille",
        "last_name": "Martin",
        "phone": "0102030405",
        "media_url": "https://example.org/photo.jpg",
        "reference": "BF-42",
    }
    fields.update(changes)
    return RequestDraft(**fields)  # type: ignore[arg-type]


# --- discovery ---------------------------------------------------------------------------------


def test_discovery_lists_the_endpoints_and_the_client_picks_production_json(
    server: FakeOpen311,
) -> None:
    endpoints = discover(server.discovery_url, timeout=5)

    assert [(e.type, e.url) for e in endpoints] == [
        ("production", server.endpoint),
        ("test", f"{server.base_url}/test{API_PATH}"),
        ("production", f"{server.base_url}/open311/v3"),
    ]
    assert [e.is_georeport_v2 for e in endpoints] == [True, True, False]
    assert endpoints[0].formats == ("text/xml", "application/json")
    assert pick_endpoint(endpoints).url == server.endpoint
    with pytest.raises(ConfigurationError, match="XML only"):
        pick_endpoint(endpoints, "test")

    with Open311Client.from_discovery(
        server.discovery_url, API_KEY, JURISDICTION, timeout=5
    ) as client:
        assert client.endpoint == server.endpoint
        assert [s.code for s in client.services()][:1] == ["POTHOLE"]


def test_discovery_address_is_the_json_file() -> None:
    assert (
        discovery_address("https://ville.fr/open311") == "https://ville.fr/open311/discovery.json"
    )
    assert discovery_address("https://ville.fr/discovery.xml") == "https://ville.fr/discovery.json"
    assert (
        discovery_address("https://ville.fr/discovery.json/") == "https://ville.fr/discovery.json"
    )
    with pytest.raises(ConfigurationError, match="web address"):
        discovery_address("ftp://ville.fr/discovery.json")


def test_discovery_without_georeport_v2(server: FakeOpen311) -> None:
    v3 = Endpoint("https://ville.fr/v3", "http://wiki.open311.org/GeoReport_v3", "production")
    with pytest.raises(ConfigurationError, match="no GeoReport v2 production API"):
        pick_endpoint([v3])
    server.malformed("/discovery.json")
    with pytest.raises(MalformedPayload, match="not JSON"):
        discover(server.discovery_url, timeout=5)


# --- services ----------------------------------------------------------------------------------


def test_services_are_read_as_documented(client: Open311Client, server: FakeOpen311) -> None:
    services = {s.code: s for s in client.services()}

    assert list(services) == ["POTHOLE", "GRAFFITI", "STREETLIGHT", "NOISE"]
    graffiti = services["GRAFFITI"]
    assert (graffiti.name, graffiti.metadata, graffiti.type) == (
        "Tag ou graffiti",
        True,
        ServiceType.REALTIME,
    )
    assert graffiti.keywords == ("tag", "graffiti")
    assert graffiti.group == "propreté"
    assert services["STREETLIGHT"].type is ServiceType.BATCH
    assert services["NOISE"].type is ServiceType.BLACKBOX
    assert services["NOISE"].keywords == ()
    asked = server.requests_to("GET", f"{API_PATH}/services.json")[0]
    assert asked.param("jurisdiction_id") == JURISDICTION
    assert asked.param("api_key") is None  # only the POST carries the key


def test_service_definition_in_the_towns_order(client: Open311Client) -> None:
    definition = client.service_definition("GRAFFITI")

    assert definition.service_code == "GRAFFITI"
    assert [a.code for a in definition.attributes] == ["SURFACE", "COLOURS", "NOTICE"]
    surface, colours, notice = definition.attributes
    assert (surface.required, surface.datatype, surface.multiple) == (
        True,
        "singlevaluelist",
        False,
    )
    assert [(v.key, v.name) for v in surface.values] == [("wall", "Mur"), ("bench", "Banc")]
    assert colours.multiple and not colours.required
    assert notice.variable is False
    assert definition.problems({}) == ["'Sur quelle surface ?' is required."]
    assert definition.problems({"SURFACE": "roof"}) == [
        "'Sur quelle surface ?' must be one of: bench, wall."
    ]
    assert definition.problems({"SURFACE": "wall", "COLOURS": ["red", "blue"]}) == []
    assert definition.problems({"SURFACE": ["wall", "bench"]}) == [
        "'Sur quelle surface ?' takes one value."
    ]
    assert client.service_definition("POTHOLE").attributes == ()


def test_unknown_service_code_is_not_found_with_the_servers_words(client: Open311Client) -> None:
    with pytest.raises(NotFound, match="service_code TRAM not found"):
        client.service_definition("TRAM")


# --- submitting ---------------------------------------------------------------------------------


def test_realtime_request_sends_the_documented_form(
    client: Open311Client, server: FakeOpen311
) -> None:
    submitted = client.submit(
        pothole(
            service_code="GRAFFITI",
            attributes={"SURFACE": "wall", "COLOURS": ["red", "black"]},
        )
    )

    assert submitted.service_request_id == "638344"
    assert submitted.token is None
    assert submitted.service_notice == "Les tags sont effacés sous 10 jours."
    assert submitted.followable
    posted = server.requests_to("POST", f"{API_PATH}/requests.json")
    assert len(posted) == 1
    assert posted[0].header("Content-Type") == "application/x-www-form-urlencoded; charset=utf-8"
    assert posted[0].body == {
        "api_key": [API_KEY],
        "jurisdiction_id": [JURISDICTION],
        "service_code": ["GRAFFITI"],
        "lat": ["48.8566"],
        "long": ["2.3522"],
        "address_string": ["12 rue de la Mairie, 75001 Test"],
        "email": ["habitant@example.org"],
        "first_name": ["Camille"],
        "last_name": ["Martin"],
        "phone": ["0102030405"],
        "description": [
            "Un nid-de-poule profond devant l'école, signalé sur Facebook.\n\nRéf. BF-42"
        ],
        "media_url": ["https://example.org/photo.jpg"],
        "attribute[SURFACE]": ["wall"],
        "attribute[COLOURS][]": ["red", "black"],
    }


def test_reference_attribute_is_sent_when_the_town_has_one(
    client: Open311Client, server: FakeOpen311
) -> None:
    client.submit(
        pothole(
            reference_attribute="EXTERNAL_REF",
            address_string="",
            lat=None,
            long=None,
            address_id="A-17",
        )
    )

    body = server.requests_to("POST", f"{API_PATH}/requests.json")[0].body
    assert body["attribute[EXTERNAL_REF]"] == ["BF-42"]
    assert body["address_id"] == ["A-17"]
    assert "lat" not in body and "long" not in body


def test_batch_request_gets_a_token_that_resolves_after_polls(server: FakeOpen311) -> None:
    for pending_form in ("absent", "null"):
        server.pending_token_form = pending_form
        with connect(server) as client:
            submitted = client.submit(pothole(service_code="STREETLIGHT"))
            assert submitted.service_request_id is None
            assert submitted.token is not None and submitted.followable
            assert client.resolve_token(submitted.token) is None
            assert client.resolve_token(submitted.token) is None
            request_id = client.resolve_token(submitted.token)
            assert request_id is not None and request_id in server.stored
            assert client.resolve_token(submitted.token) == request_id
            assert client.request(request_id).service_code == "STREETLIGHT"
    with connect(server) as client, pytest.raises(NotFound, match="token 999 not found"):
        client.resolve_token("999")


def test_blackbox_request_gives_nothing_to_follow(client: Open311Client) -> None:
    submitted = client.submit(pothole(service_code="NOISE"))

    assert (submitted.service_request_id, submitted.token) == (None, None)
    assert not submitted.followable
    assert submitted.service_notice == "Votre signalement a été transmis à la police municipale."


def test_invalid_drafts_are_refused_before_sending(
    client: Open311Client, server: FakeOpen311
) -> None:
    nowhere = {"lat": None, "long": None, "address_string": ""}
    cases = [
        (pothole(**nowhere), "needs a location"),
        (pothole(long=None), "both its latitude and longitude"),
        (pothole(lat=91.0), "latitude must be between"),
        (pothole(long=float("nan")), "longitude must be between"),
        (pothole(description="x" * 4000), "4000 characters"),
        (pothole(service_code=" "), "choose the service"),
    ]
    for draft, message in cases:
        with pytest.raises(InvalidDraft, match=message):
            client.submit(draft)
    assert server.requests == []


# --- documented errors ------------------------------------------------------------------------


def test_bad_or_missing_api_key_is_an_auth_error(server: FakeOpen311) -> None:
    for key, said in (("wrong-key", "Invalid api_key received"), ("", "api_key was not provided")):
        with connect(server, api_key=key) as client, pytest.raises(AuthError) as raised:
            client.submit(pothole())
        assert said in str(raised.value)
        assert "HTTP 403" in str(raised.value)
        assert not retry_is_safe(raised.value)
    assert server.stored == {}


def test_an_echoed_api_key_is_scrubbed_and_never_logged(
    server: FakeOpen311, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.script(
        f"{API_PATH}/requests.json",
        Reply(403, [{"code": 403, "description": f"api_key {API_KEY} is revoked"}]),
    )
    with connect(server) as client:
        with pytest.raises(AuthError) as raised:
            client.submit(pothole())
        assert "api_key [redacted] is revoked" in str(raised.value)
        client.submit(pothole())
        server.server_error("/requests.json")
        with pytest.raises(SubmissionUncertain) as uncertain:
            client.submit(pothole())
        assert API_KEY not in repr(client)
    assert API_KEY not in str(raised.value) and API_KEY not in str(uncertain.value)
    assert caplog.records  # httpx logged each call
    assert API_KEY not in caplog.text


def test_unknown_service_code_on_submit_is_not_found(client: Open311Client) -> None:
    with pytest.raises(NotFound, match="service_code TRAM not found"):
        client.submit(pothole(service_code="TRAM"))


def test_missing_required_attribute_is_refused_with_the_servers_errors(
    client: Open311Client, server: FakeOpen311
) -> None:
    with pytest.raises(RequestRefused) as raised:
        client.submit(pothole(service_code="GRAFFITI", attributes={"COLOURS": ["green"]}))

    assert [(e.code, e.description) for e in raised.value.errors] == [
        ("400", "attribute[COLOURS]: 'green' is not one of the allowed values"),
        ("400", "attribute[SURFACE] is required: Sur quelle surface ?"),
    ]
    assert "attribute[SURFACE] is required" in str(raised.value)
    assert not retry_is_safe(raised.value)
    assert server.stored == {}


def test_jurisdiction_missing_or_unknown(server: FakeOpen311) -> None:
    with connect(server, jurisdiction_id=None) as client:
        with pytest.raises(RequestRefused, match="jurisdiction_id was not provided"):
            client.services()
    with connect(server, jurisdiction_id="ailleurs.fr") as client:
        with pytest.raises(NotFound, match=r"jurisdiction_id ailleurs\.fr not found"):
            client.submit(pothole())


def test_rate_limit_honours_retry_after_and_closes_the_key(
    client: Open311Client, server: FakeOpen311
) -> None:
    server.rate_limit(retry_after="120")
    with pytest.raises(RateLimited) as raised:
        client.submit(pothole())
    assert raised.value.retry_after == pytest.approx(120)
    assert "Too many requests" in str(raised.value)
    assert retry_is_safe(raised.value)  # refused: nothing was created
    asked = len(server.requests)
    with pytest.raises(RateLimited, match="resets in"):
        client.services()
    assert len(server.requests) == asked  # the server is not asked again inside the window
    assert server.stored == {}


def test_server_errors_on_reads_are_retried_then_transient(
    client: Open311Client, server: FakeOpen311
) -> None:
    server.server_error("/services.json", requests=1)
    assert len(client.services()) == 4  # retried inside the call
    server.server_error("/services.json", requests=5, status=503)
    with pytest.raises(TransientError, match=r"HTTP 503.*Internal error"):
        client.services()


def test_a_failed_submit_is_never_retried_and_says_whether_it_may_exist(
    server: FakeOpen311,
) -> None:
    with connect(server, retries=3) as client:
        server.server_error("/requests.json", requests=1)
        with pytest.raises(SubmissionUncertain, match="Look it up before sending it again"):
            client.submit(pothole())
        assert len(server.requests_to("POST", f"{API_PATH}/requests.json")) == 1

        server.drop_connections(1)
        with pytest.raises(SubmissionUncertain) as dropped:
            client.submit(pothole())
        assert not retry_is_safe(dropped.value)
        assert len(server.requests_to("POST", f"{API_PATH}/requests.json")) == 2

        server.malformed(f"{API_PATH}/requests.json")
        with pytest.raises(SubmissionUncertain, match="not JSON"):
            client.submit(pothole())
        server.heal()
        server.script(f"{API_PATH}/requests.json", Reply(200, "created"))
        with pytest.raises(SubmissionUncertain, match=r"cannot be read.*not a list of objects"):
            client.submit(pothole())
        assert len(server.requests_to("POST", f"{API_PATH}/requests.json")) == 4


def test_a_closed_port_surely_sent_nothing() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = Open311Client(f"http://127.0.0.1:{port}/v2", API_KEY, timeout=2, gate=RateGate())
    with client, pytest.raises(TransientError) as raised:
        client.submit(pothole())
    assert retry_is_safe(raised.value)
    assert egress.UNREACHABLE in str(raised.value)


def test_bad_json_and_wrong_shapes_are_clear_errors(
    client: Open311Client, server: FakeOpen311
) -> None:
    server.malformed(f"{API_PATH}/services.json")
    with pytest.raises(MalformedPayload, match="Open311 answered something that is not JSON"):
        client.services()
    server.heal()
    server.script(f"{API_PATH}/services.json", Reply(200, "services"))
    with pytest.raises(MalformedPayload, match="not a list of objects as documented"):
        client.services()
    server.script(f"{API_PATH}/requests.json", Reply(200, [{"status": "open"}]))
    with pytest.raises(MalformedPayload, match="has no service_request_id"):
        client.status(["1"])
    server.script(f"{API_PATH}/services/GRAFFITI.json", Reply(200, ["GRAFFITI"]))
    with pytest.raises(MalformedPayload, match="service definition is not an object"):
        client.service_definition("GRAFFITI")
    server.script(f"{API_PATH}/services.json", Reply(302, None, {"Location": "https://x.fr"}))
    with pytest.raises(ConfigurationError, match="redirect"):
        client.services()


# --- following a request --------------------------------------------------------------------


def test_status_follows_the_town_until_it_closes(
    client: Open311Client, server: FakeOpen311
) -> None:
    first = client.submit(pothole()).service_request_id
    second = client.submit(pothole(service_code="GRAFFITI", attributes={"SURFACE": "bench"}))
    assert first is not None and second.service_request_id is not None
    ids = [first, second.service_request_id, "404404"]

    statuses = client.status(ids)
    assert [(s.service_request_id, s.status, s.closed) for s in statuses] == [
        (first, "open", False),
        (second.service_request_id, "open", False),
    ]
    asked = server.requests_to("GET", f"{API_PATH}/requests.json")[-1]
    assert asked.param("service_request_id") == ",".join(ids)

    server.close_request(first, notes="Trou rebouché le 6 décembre.")
    server.update_request(
        second.service_request_id,
        agency_responsible="Propreté urbaine",
        expected=datetime(2026, 12, 20, 9, 0, tzinfo=UTC),
    )
    closed, still_open = client.status(ids)
    assert closed.closed and closed.status_notes == "Trou rebouché le 6 décembre."
    assert closed.updated_datetime is not None and closed.requested_datetime is not None
    assert closed.updated_datetime >= closed.requested_datetime
    assert (closed.lat, closed.long) == (48.8566, 2.3522)
    assert closed.address == "12 rue de la Mairie, 75001 Test"
    assert closed.media_url == "https://example.org/photo.jpg"
    assert closed.service_notice == "Les services techniques interviennent sous 5 jours ouvrés."
    assert not still_open.closed
    assert still_open.agency_responsible == "Propreté urbaine"
    assert still_open.expected_datetime == datetime(2026, 12, 20, 9, 0, tzinfo=UTC)

    assert client.request(first).closed
    with pytest.raises(NotFound, match="service_request_id not found"):
        client.request("404404")


def test_many_ids_are_asked_in_chunks(client: Open311Client, server: FakeOpen311) -> None:
    request_id = client.submit(pothole()).service_request_id
    assert request_id is not None
    ids = [str(n) for n in range(120)] + [request_id]

    assert [s.service_request_id for s in client.status(ids)] == [request_id]
    assert len(server.requests_to("GET", f"{API_PATH}/requests.json")) == 3
    assert client.status([]) == []


def test_a_draft_left_sending_is_found_by_its_reference(
    client: Open311Client, server: FakeOpen311
) -> None:
    sent_at = datetime.now(UTC)
    server.server_error("/requests.json")  # the answer is lost: the draft stays "sending"
    with pytest.raises(SubmissionUncertain):
        client.submit(pothole(reference="BF-7"))
    assert client.find_submitted(pothole(reference="BF-7"), sent_at) == []  # truly not created

    client.submit(pothole(reference="BF-7"))
    client.submit(pothole(reference="BF-70"))  # same service, another draft
    found = client.find_submitted(pothole(reference="BF-7"), sent_at)
    assert len(found) == 1 and found[0].description.endswith("Réf. BF-7")
    asked = server.requests_to("GET", f"{API_PATH}/requests.json")[-1]
    assert asked.param("service_code") == "POTHOLE"
    assert asked.param("start_date") < asked.param("end_date")
    assert client.find_submitted(pothole(reference="BF-7"), sent_at - timedelta(days=3)) == []
    with pytest.raises(InvalidDraft, match="without a reference"):
        client.find_submitted(pothole(reference=""), sent_at)


# --- the egress guard -------------------------------------------------------------------------


class Listener:
    """A TCP listener on the loopback that counts the connections it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


def test_internal_addresses_are_refused_unless_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    listener = Listener()
    try:
        monkeypatch.delenv(egress.ENV_VARIABLE, raising=False)
        with pytest.raises(ConfigurationError, match="clear text"):
            Open311Client(f"http://127.0.0.1:{listener.port}/v2", API_KEY)
        with pytest.raises(ConfigurationError, match="clear text"):
            discover(f"http://localhost:{listener.port}")
        client = Open311Client(f"https://localhost:{listener.port}/v2", API_KEY, gate=RateGate())
        with client, pytest.raises(ConfigurationError) as refused:
            client.submit(pothole())
        assert egress.UNREACHABLE in str(refused.value)
        assert egress.is_blocked(refused.value)
        assert not retry_is_safe(refused.value)  # a person must change the address
        with pytest.raises(ConfigurationError, match=re.escape(egress.UNREACHABLE)):
            discover(f"https://127.0.0.1:{listener.port}/discovery.json", timeout=2)
        assert listener.connections == 0
    finally:
        listener.close()


def test_a_discovery_file_cannot_point_inside_the_network(
    server: FakeOpen311, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(egress.ENV_VARIABLE, "127.0.0.1")  # the town's server, as an operator
    inside = {
        "specification": "http://wiki.open311.org/GeoReport_v2",
        "url": "https://169.254.169.254/latest/v2",
        "type": "production",
        "formats": ["application/json"],
    }
    server.script("/discovery.json", Reply(200, {"changeset": "1", "endpoints": [inside]}))
    client = Open311Client.from_discovery(server.discovery_url, API_KEY, timeout=2, retries=0)
    with client, pytest.raises(ConfigurationError, match=re.escape(egress.UNREACHABLE)):
        client.services()
    with connect(server) as allowed:  # the allowed host itself works
        assert allowed.services()
