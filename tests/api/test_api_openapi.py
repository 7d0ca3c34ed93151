"""The OpenAPI description is valid and complete; the documentation calls nothing outside."""

from __future__ import annotations

import re
from typing import Any

from openapi_spec_validator import validate


def test_openapi_json_is_served_and_valid(api: Any) -> None:
    api.client.cookies["django_language"] = "en"  # the title is translated (test_api_docs_language)
    response = api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"] == "Beffroi API"
    assert document["info"]["version"] == "1"
    validate(document)


def test_every_operation_is_documented(api: Any) -> None:
    document = api.get("/api/v1/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())
    for path, item in document["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            assert operation.get("security"), where
            assert operation.get("summary"), where
            assert operation.get("operationId"), where
            assert "401" in operation["responses"], where
            success = [code for code in operation["responses"] if code.startswith("2")]
            assert success, where
            for code in success:
                if code != "204":
                    assert operation["responses"][code].get("content"), where
            if "{slug}" in path:
                assert {"403", "404"} <= set(operation["responses"]), where


def test_credentials_are_write_only_in_the_description(api: Any) -> None:
    document = api.get("/api/v1/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert "credentials" not in schemas["SourceOut"]["properties"]
    assert "has_credentials" in schemas["SourceOut"]["properties"]
    assert schemas["SourceCreate"]["properties"]["credentials"]["writeOnly"] is True


def test_docs_page_loads_only_local_files(api: Any) -> None:
    response = api.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()
    references = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert references
    for ref in references:
        assert ref.startswith(("/api/v1/", "/static/")), ref
        assert api.get(ref).status_code == 200, ref
    assert '"validatorUrl": null' in html
    assert "/api/v1/openapi.json" in html
