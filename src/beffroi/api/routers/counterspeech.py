"""The counter-speech library in the JSON API: the entries the organization reads (its own,
and the approved ones of the libraries it subscribes to), written, submitted, approved, sent
back and retired; and the library exported as a CSV or JSON file.

Every change goes through the library's services (``beffroi.counterspeech.services``), as
from its pages: the same rules, the token's person as the actor, the same audit events.
An entry of a subscribed library is read here; it is changed by no one but its publisher, so
the changing operations do not find it (404), as another organization's entry.

Refusals:

- 400: what was sent cannot be used: the entry's problems, each on its field (``errors``:
  ``strategy``, ``texts``, ``text_fr``, ``sources``, ``valid_until``…), or a narrative or a
  claim that is not the organization's.
- 409: where the entry stands does not allow the action (only a draft is submitted, only an
  entry in review is approved or sent back, no one approves what they wrote, the entry
  changed since the approver read it, a retired entry does not change).
- 422: a body or a query that does not match its description.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from types import SimpleNamespace
from typing import Annotated, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import StrictBool

from beffroi.api.auth import requires, scope
from beffroi.api.pagination import offset_page
from beffroi.api.schemas import (
    ERRORS,
    INVALID,
    MAX_ID,
    REFUSED,
    ErrorOut,
    PageQuery,
    RequestBody,
    _enum,
)
from beffroi.counterspeech import services
from beffroi.counterspeech.filtersets import EntryFilter
from beffroi.counterspeech.models import Entry, EntryUse, Licence, Strategy, Target, Tone
from beffroi.counterspeech.validation import EntryData, SourceData
from beffroi.organizations.context import OrgContext
from beffroi.organizations.roles import Capability
from beffroi.veille.models import CheckedClaim, Narrative

router = Router(tags=["counter-speech"])

EntryState = _enum("CounterSpeechState", Entry.State)
StrategyName = _enum("CounterSpeechStrategy", Strategy)
ToneName = _enum("CounterSpeechTone", Tone)
TargetName = _enum("CounterSpeechTarget", Target)
LicenceName = _enum("CounterSpeechLicence", Licence)

#: Where the entry stands does not allow the action.
CONFLICT: dict[int, type[Schema]] = {409: ErrorOut}

EntryId = Annotated[int, Path(ge=1, le=MAX_ID, description="A counter-speech entry's id.")]
RelatedId = Annotated[int, Field(ge=1, le=MAX_ID, strict=True)]


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


# --- answers ---------------------------------------------------------------------------------


class EntrySourceOut(Schema):
    url: str
    title: str
    read_at: datetime | None = Field(description="When the page was last read.")
    changed: bool = Field(description="The page changed since the approval read it.")
    error: str = Field(description="Why the last reading failed, in words (empty: it did not).")


class EntryOut(Schema):
    id: int
    key: str = Field(description="The entry's identity across exports and imports.")
    title: str
    strategy: StrategyName  # type: ignore[valid-type]
    tone: ToneName  # type: ignore[valid-type]
    targets: list[str]
    topics: list[str]
    licence: LicenceName  # type: ignore[valid-type]
    valid_from: date | None
    valid_until: date | None
    valid_now: bool = Field(description="Whether its dates hold today.")
    state: EntryState  # type: ignore[valid-type]
    state_reason: str = Field(description="Why it was sent back or retired.")
    version: int
    library: str | None = Field(
        description="The name of the subscribed library it comes from; null: the "
        "organization's own (read-only otherwise)."
    )
    approver: str | None
    approved_at: datetime | None
    content_hash: str = Field(description="What an approval is given to (`seen_hash`).")
    texts: dict[str, str] = Field(description="The text in each language (ISO 639-1).")
    sources: list[EntrySourceOut]

    @staticmethod
    def resolve_valid_now(entry: Entry) -> bool:
        return entry.valid_at()

    @staticmethod
    def resolve_library(entry: Entry, context: Any) -> str | None:
        organization = context["request"].counter_speech_org
        if services.is_own(organization, entry):
            return None
        library = getattr(entry.organization, "counter_speech_library", None)
        return (library.public_name if library is not None else "") or entry.organization.name

    @staticmethod
    def resolve_approver(entry: Entry) -> str | None:
        return _username(entry.approver)

    @staticmethod
    def resolve_texts(entry: Entry) -> dict[str, str]:
        return {text.language: text.text for text in entry.texts.all()}

    @staticmethod
    def resolve_sources(entry: Entry) -> list[dict[str, Any]]:
        return [
            {
                "url": source.url,
                "title": source.title,
                "read_at": source.fetched_at,
                "changed": source.changed,
                "error": source.last_error,
            }
            for source in entry.sources.all()
        ]


class EntryVersionOut(Schema):
    number: int
    author: str | None
    reason: str
    created_at: datetime

    @staticmethod
    def resolve_author(version: Any) -> str | None:
        return _username(version.author) or version.author_label or None


class EntryDetailOut(EntryOut):
    author: str | None = Field(description="Only for the organization's own entries.")
    uses: int = Field(description="Answers sent with it (by the organization).")
    narratives: list[int] = Field(description="Only for the organization's own entries.")
    claims: list[int] = Field(description="Only for the organization's own entries.")
    versions: list[EntryVersionOut] = Field(description="Only for the organization's own entries.")

    @staticmethod
    def resolve_author(entry: Entry, context: Any) -> str | None:
        own = services.is_own(context["request"].counter_speech_org, entry)
        return _username(entry.author) if own else None

    @staticmethod
    def resolve_uses(entry: Entry, context: Any) -> int:
        organization = context["request"].counter_speech_org
        if services.is_own(organization, entry):
            return entry.use_count
        return EntryUse.objects.for_org(organization).filter(entry=entry).count()

    @staticmethod
    def resolve_narratives(entry: Entry, context: Any) -> list[int]:
        if not services.is_own(context["request"].counter_speech_org, entry):
            return []
        return sorted(entry.narratives.values_list("pk", flat=True))

    @staticmethod
    def resolve_claims(entry: Entry, context: Any) -> list[int]:
        if not services.is_own(context["request"].counter_speech_org, entry):
            return []
        return sorted(entry.claims.values_list("pk", flat=True))

    @staticmethod
    def resolve_versions(entry: Entry, context: Any) -> list[Any]:
        if not services.is_own(context["request"].counter_speech_org, entry):
            return []
        return list(entry.versions.select_related("author").order_by("number"))


class EntryPage(Schema):
    items: list[EntryOut]
    count: int
    limit: int
    offset: int


class LibraryExportOut(Schema):
    format: str
    count: int = Field(description="How many entries the file holds.")
    content: str = Field(description="The file, as the library's import reads it back.")


# --- queries and bodies ----------------------------------------------------------------------


class EntryFilters(Schema):
    q: str | None = Field(None, max_length=200, description="In the title or a text.")
    state: EntryState | None = None  # type: ignore[valid-type]
    strategy: StrategyName | None = None  # type: ignore[valid-type]
    tone: ToneName | None = None  # type: ignore[valid-type]
    target: TargetName | None = None  # type: ignore[valid-type]
    topic: str | None = Field(None, max_length=60)
    language: str | None = Field(None, max_length=8, description="ISO 639-1 code.")
    library: str | None = Field(
        None, pattern="^(own|shared)$", description="`own`, or `shared` (subscribed libraries)."
    )
    valid_now: bool | None = Field(None, description="Only entries whose dates hold today.")

    def filters(self) -> dict[str, str]:
        given = self.model_dump(exclude={"limit", "offset"}, exclude_none=True)
        return {
            name: ("true" if value is True else "false" if value is False else str(value))
            for name, value in given.items()
        }


class EntryQuery(PageQuery, EntryFilters):
    """The list's filters and its page."""


class EntrySourceIn(RequestBody):
    url: str = Field(max_length=1000)
    title: str = Field("", max_length=300)


class EntryIn(RequestBody):
    title: str = Field("", max_length=200)
    strategy: StrategyName  # type: ignore[valid-type]
    tone: ToneName = Tone.CALM.value  # type: ignore[valid-type]
    texts: dict[str, str] = Field(description='The text in each language: `{"fr": "…"}`.')
    targets: list[TargetName] = []  # type: ignore[valid-type]
    topics: list[str] = []
    licence: LicenceName = Licence.ALL_RIGHTS_RESERVED.value  # type: ignore[valid-type]
    valid_from: date | None = None
    valid_until: date | None = None
    sources: list[EntrySourceIn] = []
    narratives: list[RelatedId] = Field([], description="Ids of the organization's narratives.")
    claims: list[RelatedId] = Field([], description="Ids of the organization's checked claims.")
    submit: StrictBool = Field(False, description="Submit it for approval at once.")
    reason: str = Field("", max_length=2000, description="Kept in its history.")


class EntryUpdate(RequestBody):
    title: str | None = Field(None, max_length=200)
    strategy: StrategyName | None = None  # type: ignore[valid-type]
    tone: ToneName | None = None  # type: ignore[valid-type]
    texts: dict[str, str] | None = None
    targets: list[TargetName] | None = None  # type: ignore[valid-type]
    topics: list[str] | None = None
    licence: LicenceName | None = None  # type: ignore[valid-type]
    valid_from: date | None = None
    valid_until: date | None = None
    sources: list[EntrySourceIn] | None = None
    narratives: list[RelatedId] | None = None
    claims: list[RelatedId] | None = None
    reason: str = Field("", max_length=2000, description="Kept in its history.")


class EntryApproveIn(RequestBody):
    seen_hash: str | None = Field(
        None,
        max_length=64,
        description="The `content_hash` the approver read: if the entry changed since, the "
        "approval is refused (409).",
    )


class EntrySendBackIn(RequestBody):
    comment: str = Field(min_length=1, max_length=5000, description="What the entry needs.")


class EntryRetireIn(RequestBody):
    reason: str = Field("", max_length=5000)


class LibraryExportIn(RequestBody):
    format: str = Field("json", pattern="^(csv|json)$")
    semicolons: StrictBool = Field(
        False, description="CSV separated by semicolons (Excel in French)."
    )


# --- reading ---------------------------------------------------------------------------------


def _visible(request: HttpRequest, ctx: OrgContext) -> QuerySet[Entry]:
    request.counter_speech_org = ctx.organization  # type: ignore[attr-defined]
    return (
        services.visible_entries(ctx.organization)
        .select_related(
            "organization", "organization__counter_speech_library", "approver", "author"
        )
        .prefetch_related("texts", "sources")
    )


def _filtered(request: HttpRequest, ctx: OrgContext, query: EntryFilters) -> QuerySet[Entry]:
    # The filter reads the organization from its request ("own" or "shared" library).
    reader: Any = SimpleNamespace(organization=ctx.organization)
    return EntryFilter(query.filters(), queryset=_visible(request, ctx), request=reader).qs


def _entry(request: HttpRequest, ctx: OrgContext, entry_id: int) -> Entry:
    found = _visible(request, ctx).filter(pk=entry_id).first()
    if found is None:
        raise HttpError(404, "Not found")
    return found


def _own(request: HttpRequest, ctx: OrgContext, entry_id: int) -> Entry:
    """One of the organization's own entries: the only ones it changes."""
    request.counter_speech_org = ctx.organization  # type: ignore[attr-defined]
    return ctx.get(Entry, pk=entry_id)


@router.get(
    "/orgs/{slug}/counter-speech/entries",
    response={200: EntryPage, **ERRORS, **INVALID},
    operation_id="list_counter_speech_entries",
    summary="The library's entries: the organization's own and the subscribed libraries'",
)
@requires(Capability.VIEW, "Filters combine; by title, then id.")
def list_entries(request: HttpRequest, slug: str, filters: Query[EntryQuery]) -> Any:
    ctx = scope(request, slug)
    found = _filtered(request, ctx, filters).order_by("title", "id")
    return offset_page(found, filters.limit, filters.offset)


@router.get(
    "/orgs/{slug}/counter-speech/entries/{entry_id}",
    response={200: EntryDetailOut, **ERRORS, **INVALID},
    operation_id="get_counter_speech_entry",
    summary="One entry, with its history when it is the organization's own",
)
@requires(Capability.VIEW)
def get_entry(request: HttpRequest, slug: str, entry_id: EntryId) -> Any:
    ctx = scope(request, slug)
    return _entry(request, ctx, entry_id)


# --- writing ---------------------------------------------------------------------------------


@contextmanager
def _refused() -> Iterator[None]:
    """The services refused: 400 with the problems by field for what was sent, 409 for
    where the entry stands."""
    try:
        yield
    except services.LibraryError as exc:
        if exc.code == "invalid":
            errors: dict[str, list[str]] = {}
            for problem in exc.problems:
                errors.setdefault(problem.field, []).append(problem.message)
            raise DjangoValidationError(errors or {"__all__": [str(exc)]}) from exc
        raise HttpError(409, str(exc)) from exc


def _related(ctx: OrgContext, model: Any, ids: Sequence[int], field: str) -> list[Any]:
    found = ctx.scoped(model).in_bulk(list(ids))
    if len(found) != len(set(ids)):
        message = (
            _("This narrative is not one of the organization's.")
            if model is Narrative
            else _("This claim is not one of the organization's.")
        )
        raise DjangoValidationError({field: [message]})
    return [found[pk] for pk in dict.fromkeys(ids)]


def _sources(given: Sequence[EntrySourceIn]) -> list[SourceData]:
    return [SourceData(url=source.url, title=source.title) for source in given]


@router.post(
    "/orgs/{slug}/counter-speech/entries",
    response={201: EntryDetailOut, **REFUSED, **ERRORS, **INVALID},
    operation_id="create_counter_speech_entry",
    summary="Write an entry (a draft, or in review with `submit`)",
)
@requires(
    Capability.ANSWER,
    "400 with every problem by field (`errors`), or for a narrative or claim that is not the "
    "organization's.",
)
def create_entry(request: HttpRequest, slug: str, payload: EntryIn) -> Any:
    ctx = scope(request, slug)
    data = EntryData(
        strategy=payload.strategy,
        texts=list(payload.texts.items()),
        title=payload.title,
        tone=payload.tone,
        targets=list(payload.targets),
        topics=payload.topics,
        licence=payload.licence,
        valid_from=payload.valid_from,
        valid_until=payload.valid_until,
        sources=_sources(payload.sources),
        narratives=_related(ctx, Narrative, payload.narratives, "narratives"),
        claims=_related(ctx, CheckedClaim, payload.claims, "claims"),
    )
    with _refused():
        entry = services.create_entry(ctx, data, submit=payload.submit, reason=payload.reason)
    return Status(201, _entry(request, ctx, entry.pk))


@router.patch(
    "/orgs/{slug}/counter-speech/entries/{entry_id}",
    response={200: EntryDetailOut, **REFUSED, **CONFLICT, **ERRORS, **INVALID},
    operation_id="update_counter_speech_entry",
    summary="Change one of the organization's entries",
)
@requires(
    Capability.ANSWER,
    "What is left out stays. A change of what an approved entry says sends it back to "
    "review. 409 for a retired entry; 404 for a subscribed library's entry (read-only).",
)
def update_entry(request: HttpRequest, slug: str, entry_id: EntryId, payload: EntryUpdate) -> Any:
    ctx = scope(request, slug)
    entry = _own(request, ctx, entry_id)
    given = payload.model_dump(exclude_unset=True)
    texts = (
        payload.texts
        if payload.texts is not None
        else {text.language: text.text for text in entry.texts.all()}
    )
    data = EntryData(
        strategy=payload.strategy or entry.strategy,
        texts=list(texts.items()),
        title=payload.title if payload.title is not None else entry.title,
        tone=payload.tone or entry.tone,
        targets=list(payload.targets) if payload.targets is not None else list(entry.targets),
        topics=payload.topics if payload.topics is not None else list(entry.topics),
        licence=payload.licence or entry.licence,
        valid_from=payload.valid_from if "valid_from" in given else entry.valid_from,
        valid_until=payload.valid_until if "valid_until" in given else entry.valid_until,
        sources=(
            _sources(payload.sources)
            if payload.sources is not None
            else [SourceData(s.url, s.title) for s in entry.sources.all()]
        ),
        narratives=(
            _related(ctx, Narrative, payload.narratives, "narratives")
            if payload.narratives is not None
            else list(entry.narratives.all())
        ),
        claims=(
            _related(ctx, CheckedClaim, payload.claims, "claims")
            if payload.claims is not None
            else list(entry.claims.all())
        ),
    )
    with _refused():
        services.update_entry(ctx, entry, data, reason=payload.reason)
    return _entry(request, ctx, entry.pk)


def _act(request: HttpRequest, slug: str, entry_id: int, call: Any) -> Any:
    ctx = scope(request, slug)
    entry = _own(request, ctx, entry_id)
    with _refused():
        call(ctx, entry)
    return _entry(request, ctx, entry.pk)


@router.post(
    "/orgs/{slug}/counter-speech/entries/{entry_id}/submit",
    response={200: EntryDetailOut, **CONFLICT, **ERRORS, **INVALID},
    operation_id="submit_counter_speech_entry",
    summary="Ask for a draft's approval",
)
@requires(Capability.ANSWER, "409 for an entry that is not a draft.")
def submit_entry(request: HttpRequest, slug: str, entry_id: EntryId) -> Any:
    return _act(request, slug, entry_id, services.submit)


@router.post(
    "/orgs/{slug}/counter-speech/entries/{entry_id}/approve",
    response={200: EntryDetailOut, **REFUSED, **CONFLICT, **ERRORS, **INVALID},
    operation_id="approve_counter_speech_entry",
    summary="Approve an entry in review",
)
@requires(
    Capability.APPROVE,
    "409 for an entry not in review, one the caller wrote, or one that changed since `seen_hash`.",
)
def approve_entry(
    request: HttpRequest, slug: str, entry_id: EntryId, payload: EntryApproveIn
) -> Any:
    return _act(
        request,
        slug,
        entry_id,
        lambda ctx, entry: services.approve(ctx, entry, seen_hash=payload.seen_hash),
    )


@router.post(
    "/orgs/{slug}/counter-speech/entries/{entry_id}/send-back",
    response={200: EntryDetailOut, **REFUSED, **CONFLICT, **ERRORS, **INVALID},
    operation_id="send_back_counter_speech_entry",
    summary="Send an entry in review back to its author, with what it needs",
)
@requires(Capability.APPROVE, "409 for an entry not in review, or one the caller wrote.")
def send_back_entry(
    request: HttpRequest, slug: str, entry_id: EntryId, payload: EntrySendBackIn
) -> Any:
    return _act(
        request,
        slug,
        entry_id,
        lambda ctx, entry: services.send_back(ctx, entry, payload.comment),
    )


@router.post(
    "/orgs/{slug}/counter-speech/entries/{entry_id}/retire",
    response={200: EntryDetailOut, **REFUSED, **CONFLICT, **ERRORS, **INVALID},
    operation_id="retire_counter_speech_entry",
    summary="Take an entry out of the library for good",
)
@requires(Capability.APPROVE, "409 for an entry already retired.")
def retire_entry(request: HttpRequest, slug: str, entry_id: EntryId, payload: EntryRetireIn) -> Any:
    return _act(
        request,
        slug,
        entry_id,
        lambda ctx, entry: services.retire(ctx, entry, payload.reason),
    )


@router.post(
    "/orgs/{slug}/counter-speech/export",
    response={200: LibraryExportOut, **REFUSED, **ERRORS, **INVALID},
    operation_id="export_counter_speech_entries",
    summary="The entries the organization reads (filtered) as a CSV or JSON file",
)
@requires(
    Capability.VIEW,
    "A POST: the export is written to the organization's audit trail. The query takes the "
    "list's filters; the file imports back as it is.",
)
def export_entries(
    request: HttpRequest, slug: str, payload: LibraryExportIn, filters: Query[EntryFilters]
) -> Any:
    ctx = scope(request, slug)
    found = _filtered(request, ctx, filters)
    content = services.export_entries(
        ctx, payload.format, delimiter=";" if payload.semicolons else ",", among=found
    )
    return {"format": payload.format, "count": found.count(), "content": content}
