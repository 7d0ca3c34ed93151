"""The charter in the JSON API: the live version, the list of versions, a version as YAML."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema
from ninja.errors import HttpError

from beffroi.api.auth import requires, scope
from beffroi.api.schemas import ERRORS, INVALID, VersionNumber
from beffroi.charter import services
from beffroi.charter.models import Category, CharterVersion
from beffroi.charter.yaml_io import FORMAT
from beffroi.organizations.roles import Capability

router = Router(tags=["charter"])


class CharterCategoryOut(Schema):
    slug: str
    name_fr: str
    name_en: str
    clause_fr: str
    clause_en: str
    legal_reference: str
    severity: int = Field(description="1 low, 2 medium, 3 high, 4 critical.")
    hide_at: float | None = Field(description="Hidden at once from this confidence; null: never.")
    review_at: float | None = Field(description="Queued for review from this confidence.")
    auto_delete: bool
    shadow: bool = Field(description="Judged and recorded, never acted on.")
    enabled: bool
    dsa_decision_ground: str
    dsa_category: str
    dsa_category_specification: list[str]
    dsa_category_specification_other: str


class CharterVersionSummaryOut(Schema):
    number: int
    status: str = Field(description="draft, shadow, live or retired.")
    use_default_rules: bool
    notes: str
    created_at: datetime
    shadow_at: datetime | None
    published_at: datetime | None
    retired_at: datetime | None


class CharterVersionOut(CharterVersionSummaryOut):
    preamble_fr: str
    preamble_en: str
    categories: list[CharterCategoryOut]
    own_rules: int = Field(description="Number of the organization's own rule entries.")

    @staticmethod
    def resolve_categories(version: CharterVersion) -> list[Category]:
        return list(version.categories.all())

    @staticmethod
    def resolve_own_rules(version: CharterVersion) -> int:
        return version.rules.count()


@router.get(
    "/orgs/{slug}/charter",
    response={200: CharterVersionOut, **ERRORS},
    operation_id="get_live_charter",
    summary="The live version of the organization's charter",
)
@requires(
    Capability.VIEW,
    "Categories with their clauses, legal references, thresholds and DSA mapping. "
    "404 when no version is live.",
)
def live_charter(request: HttpRequest, slug: str) -> Any:
    ctx = scope(request, slug)
    version = services.live_version(ctx.organization)
    if version is None:
        raise HttpError(404, "No version of the charter is live.")
    return version


@router.get(
    "/orgs/{slug}/charter/versions",
    response={200: list[CharterVersionSummaryOut], **ERRORS},
    operation_id="list_charter_versions",
    summary="Every version of the charter, newest first",
)
@requires(Capability.VIEW)
def list_versions(request: HttpRequest, slug: str) -> Any:
    ctx = scope(request, slug)
    return list(ctx.scoped(CharterVersion).order_by("-number"))


#: The file is a YAML mapping (what a client reading it gets), described down to its sections.
_YAML_RESPONSE = {
    "responses": {
        200: {
            "description": "The charter file (format beffroi-charter/1).",
            "content": {
                "application/yaml": {
                    "schema": {
                        "type": "object",
                        "required": ["format", "settings", "categories", "rules"],
                        "properties": {
                            "format": {"const": FORMAT},
                            "version": {"type": "object"},
                            "settings": {"type": "object"},
                            "categories": {"type": "array", "items": {"type": "object"}},
                            "rules": {"type": "array", "items": {"type": "object"}},
                        },
                    }
                }
            },
        }
    }
}


@router.get(
    "/orgs/{slug}/charter/versions/{number}/yaml",
    response={200: None, **ERRORS, **INVALID},
    operation_id="export_charter_version",
    summary="A version of the charter as a YAML file",
    openapi_extra=_YAML_RESPONSE,
)
@requires(
    Capability.VIEW,
    "Categories, the organization's own rules and the settings; the web interface and "
    "`beffroi charter import` read it back as a new draft.",
)
def export_version(request: HttpRequest, slug: str, number: VersionNumber) -> HttpResponse:
    ctx = scope(request, slug)
    version = ctx.get(CharterVersion, number=number)
    response = HttpResponse(
        services.export_yaml(version), content_type="application/yaml; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="charter-{ctx.organization.slug}-v{version.number}.yaml"'
    )
    return response
