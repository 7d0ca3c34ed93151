"""Sources (credentials write-only), sync requests and the jobs they create."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest
from ninja import Router, Status
from ninja.errors import HttpError

from beffroi.api.auth import requires, scope
from beffroi.api.schemas import (
    ERRORS,
    INVALID,
    REFUSED,
    ErrorOut,
    JobId,
    JobOut,
    SourceCreate,
    SourceId,
    SourceOut,
    SourceUpdate,
)
from beffroi.jobs.models import Job
from beffroi.organizations.roles import Capability
from beffroi.sources.models import Source
from beffroi.sources.services import create_source, request_sync, update_source

router = Router(tags=["sources"])


@router.get(
    "/orgs/{slug}/sources",
    response={200: list[SourceOut], **ERRORS},
    operation_id="list_sources",
    summary="The organization's sources (credentials are never returned)",
)
@requires(Capability.VIEW)
def list_sources(request: HttpRequest, slug: str) -> Any:
    ctx = scope(request, slug)
    return list(ctx.scoped(Source).order_by("name"))


@router.post(
    "/orgs/{slug}/sources",
    response={201: SourceOut, **REFUSED, **ERRORS, **INVALID},
    operation_id="create_source",
    summary="Connect a source",
)
@requires(
    Capability.MANAGE,
    "Settings and credentials are checked by the platform's connector; an unknown "
    "platform or a missing option is refused with 400. Credentials are encrypted and "
    "never returned.",
)
def create(request: HttpRequest, slug: str, payload: SourceCreate) -> Any:
    ctx = scope(request, slug)
    source = create_source(
        ctx.actor,
        ctx.organization,
        name=payload.name,
        platform=payload.platform,
        kind=payload.kind,
        settings=payload.settings,
        credentials=payload.credentials,
        enabled=payload.enabled,
        sync_interval_minutes=payload.sync_interval_minutes,
    )
    return Status(201, source)


@router.patch(
    "/orgs/{slug}/sources/{source_id}",
    response={200: SourceOut, **REFUSED, **ERRORS, **INVALID},
    operation_id="update_source",
    summary="Change a source",
)
@requires(
    Capability.MANAGE,
    "Only the fields sent change. Leaving out `credentials` keeps the stored ones.",
)
def update(request: HttpRequest, slug: str, source_id: SourceId, payload: SourceUpdate) -> Any:
    ctx = scope(request, slug)
    source = ctx.get(Source, pk=source_id)
    changes = payload.model_dump(exclude_unset=True)
    credentials = changes.pop("credentials", None)
    return update_source(ctx.actor, source, credentials=credentials, **changes)


@router.post(
    "/orgs/{slug}/sources/{source_id}/sync",
    response={202: JobOut, 409: ErrorOut, **ERRORS, **INVALID},
    operation_id="sync_source",
    summary="Fetch what is new for a source, in the background",
)
@requires(
    Capability.INGEST,
    "Enqueues a `sources.sync` job and returns it. While a sync of the source is pending "
    "or running, the same job is returned instead of a new one. A disabled source, or a "
    "file source (filled by imports), is refused with 409.",
)
def sync(request: HttpRequest, slug: str, source_id: SourceId) -> Any:
    ctx = scope(request, slug)
    source = ctx.get(Source, pk=source_id)
    try:
        job = request_sync(ctx.actor, source)
    except DjangoValidationError as exc:
        raise HttpError(409, " ".join(exc.messages)) from exc
    return Status(202, job)


@router.get(
    "/orgs/{slug}/jobs/{job_id}",
    response={200: JobOut, **ERRORS, **INVALID},
    operation_id="get_job",
    summary="A background job of the organization",
)
@requires(Capability.VIEW)
def get_job(request: HttpRequest, slug: str, job_id: JobId) -> Any:
    ctx = scope(request, slug)
    return ctx.get(Job, pk=job_id)
