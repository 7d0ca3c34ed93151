"""The JSON API, mounted at ``/api/v1/``: OpenAPI at ``openapi.json``, documentation at ``docs``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError

from beffroi.api.auth import ApiTokenAuth
from beffroi.api.parsing import NulRefusingParser
from beffroi.api.routers import (
    audit,
    briefs,
    charter,
    conversations,
    counterspeech,
    items,
    members,
    moderation,
    orgs,
    publishing,
    sources,
    veille,
)

# Lazy: the schema is built for each request, in the reader's language (Accept-Language).
DESCRIPTION = gettext_lazy(
    "The JSON API of Beffroi, for integrations.\n\n"
    "Authenticate every request with `Authorization: Bearer <key>`, using an API token created "
    "in your account settings. The token acts with exactly the roles of its user: an "
    "organization the user does not belong to answers 404, and an operation the user's role "
    "does not allow answers 403. Each operation names the capability it needs "
    "(`x-required-capability`). Every change made through the API is written to the "
    "organization's audit trail."
)


class TranslatedApi(NinjaAPI):
    """The API whose title and description are read in the reader's language each time the
    schema is made, and given as plain text (any JSON encoder can write the schema)."""

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        info = schema.get("info") or {}
        for key in ("title", "description"):
            if key in info:
                info[key] = str(info[key])
        return schema


api = TranslatedApi(
    title=gettext_lazy("Beffroi API"),  # type: ignore[arg-type]
    version="1",
    description=DESCRIPTION,  # type: ignore[arg-type]
    urls_namespace="api",
    auth=ApiTokenAuth(),
    parser=NulRefusingParser(),
    # Swagger UI from ninja's own static files (ninja is an installed app): nothing is
    # fetched from a CDN, and the online validator that would leak the URL is off.
    docs=Swagger(settings={"validatorUrl": None}),
    docs_url="/docs",
    openapi_url="/openapi.json",
)

for module in (
    orgs,
    items,
    sources,
    moderation,
    members,
    audit,
    charter,
    veille,
    conversations,
    publishing,
    counterspeech,
    briefs,
):
    api.add_router("", module.router)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(
        request,
        {"detail": "Missing, unknown, expired or revoked API token."},
        status=401,
    )
    response["WWW-Authenticate"] = 'Bearer realm="beffroi"'
    return response


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    detail = str(exc) or "Your role does not allow this operation."
    return api.create_response(request, {"detail": detail}, status=403)


@api.exception_handler(DjangoValidationError)
def refused(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    body: dict[str, object] = {"detail": " ".join(exc.messages)}
    if hasattr(exc, "error_dict"):
        body["errors"] = {field: list(messages) for field, messages in exc.message_dict.items()}
    return api.create_response(request, body, status=400)


app_name = "api"
urlpatterns = api.urls[0]
