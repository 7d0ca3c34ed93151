"""Schemathesis over the OpenAPI description: generated requests never break the API.

The description is read from ``/api/v1/openapi.json`` through the WSGI application, and every
operation is called with values Schemathesis derives from it (boundaries, then random ones,
valid and invalid), with a token of the administrator of an organization full of objects.
Each answer must not be a server error and must match what the description promises (status
code, content type, body schema); a value out of the documented range must be refused.
Half the generated ids are swapped for ids of the organization's objects, so that the
answers about real objects are checked too. Examples are few and never shrunk, to stay fast.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.test_api_permission_matrix import _draft, _pause
from tests.cross_org import fill_everything, fill_world

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture
def _connection_kept() -> Any:
    """Keep the test's database connection across requests, as Django's test client does
    (the WSGI handler would close it when a request starts and ends)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def populated(
    _connection_kept: None,
    org: Any,
    other_org: Any,
    make_user: Callable[..., Any],
    key_for: Callable[..., str],
) -> dict[str, Any]:
    """The organization full of objects, its administrator's key and its objects' ids."""
    from beffroi.jobs.models import Job
    from beffroi.sources.models import Source

    world = fill_world(org, other_org, make_user)
    fill_everything(world, "")
    remote = Source.objects.create(
        organization=org,
        name="Flux",
        platform="rss",
        settings={"url": "https://feeds.example/private.xml?key=s3cret"},
    )
    job = Job.objects.create(name="sources.sync", organization=org, payload={})
    make_user("second-admin", org=org, role="admin")  # so that the first may lose the role
    return {
        "key": key_for(make_user("fuzzer", org=org, role="admin")),
        "slug": org.slug,
        "ids": {
            "item_id": world.item.pk,
            "author_id": world.author.pk,
            "source_id": remote.pk,
            "member_id": world.target_membership.pk,
            "invitation_id": world.invitation.pk,
            "job_id": job.pk,
            "number": world.charter_draft.number,
            "conversation_id": world.conversation.pk,
            "post_id": _draft(world).pk,
            "pause_id": _pause(world).pk,
        },
    }


def _schema() -> Any:
    # Loaded when the module is collected (the description needs no database):
    # schemathesis.pytest.from_fixture, the lazy loader, does not run under pytest 9.
    from beffroi.web.wsgi import application

    config = SchemathesisConfig.from_dict(
        {
            "generation": {
                "max-examples": 10,
                "no-shrink": True,
                "deterministic": True,
                # Unknown query parameters are ignored by design (clients may send more).
                "allow-extra-parameters": False,
                # The token is the one given below, not a generated header.
                "with-security-parameters": False,
            },
            "phases": {"stateful": {"enabled": False}},
        }
    )
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application, config=config)


schema = _schema()


@schema.parametrize()
@settings(suppress_health_check=list(HealthCheck), deadline=None)
def test_generated_requests(case: Any, populated: dict[str, Any]) -> None:
    # Any other slug is a 404; ids stay generated in negative cases (the invalid value).
    if "slug" in (case.path_parameters or {}):
        case.path_parameters["slug"] = populated["slug"]
    negative = case._meta is not None and case._meta.generation.mode.is_negative
    for name, real in populated["ids"].items():
        generated = (case.path_parameters or {}).get(name)
        if not negative and isinstance(generated, int) and zlib.crc32(b"%d" % generated) % 2:
            case.path_parameters[name] = real
    case.call_and_validate(headers={"Authorization": f"Bearer {populated['key']}"}, checks=CHECKS)
