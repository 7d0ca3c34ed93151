"""The counter-speech library's only writers: entries written, submitted, approved, sent back,
retired; their uses counted; their sources read; the library shared and subscribed to; files
imported and exported.

Each service takes the :class:`~beffroi.organizations.context.OrgContext` of whoever acts (a
member through a page or the API, the operator at the command line), checks the capability
its rule asks for (:meth:`OrgContext.require`, a 403 for pages), checks the library's own rules
(a :class:`LibraryError` with a sentence), writes, and records the audit event.

Who may do what:

- write, edit and submit an entry: those who answer (``ANSWER``: moderators, publishers);
- approve, send back and retire: those who approve (``APPROVE``: approvers, administrators),
  never on an entry they wrote;
- import a file, share the library, subscribe to another: administrators (``MANAGE``);
- read and export what the organization sees: every member (``VIEW``).

An entry of another organization is read-only, whoever asks: every write refuses it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import httpx
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from beffroi.audit.actions import AuditAction
from beffroi.audit.services import Actor, record
from beffroi.counterspeech import approval, io
from beffroi.counterspeech.io import RowProblem
from beffroi.counterspeech.models import (
    Entry,
    EntryQuerySet,
    EntrySource,
    EntryText,
    EntryUse,
    EntryVersion,
    LibrarySettings,
    LibrarySubscription,
    SourceSnapshot,
    local_day,
    snapshot,
    valid_on,
)
from beffroi.counterspeech.page_text import KeepingTransport
from beffroi.counterspeech.snapshots import SnapshotError, read_page
from beffroi.counterspeech.validation import EntryData, Problem, SourceData, check
from beffroi.jobs.engine import enqueue
from beffroi.organizations.context import OrgContext
from beffroi.organizations.models import Organization
from beffroi.organizations.roles import Capability

State = Entry.State

SNAPSHOT_TASK = "counterspeech.snapshot_source"
#: How often the sources of approved entries are read again.
SNAPSHOT_EVERY = timedelta(days=7)
#: Sources read again per sweep at most (the next sweep takes the rest).
SNAPSHOT_BATCH = 500


class LibraryError(Exception):
    """A refused action, with a sentence for the person (translated), a ``code`` where a
    caller answers differently by cause (``invalid``, ``read_only``, ``changed``,
    ``not_shared``…) and, for invalid data, every :class:`Problem` by field."""

    def __init__(self, message: str, code: str = "", problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.problems = list(problems)


class ImportRefused(LibraryError):
    """The file was refused as a whole: nothing was stored. ``row_problems`` says every
    problem found, each with its row and column."""

    def __init__(self, row_problems: Sequence[RowProblem]) -> None:
        super().__init__(
            _("The file was not imported (%(count)d problems); nothing was stored.")
            % {"count": len(row_problems)},
            "invalid",
        )
        self.row_problems = list(row_problems)

    @property
    def sentences(self) -> list[str]:
        return [problem.sentence for problem in self.row_problems]


# --- reading ----------------------------------------------------------------------------------


def library_of(organization: Organization | int) -> LibrarySettings | None:
    return LibrarySettings.objects.for_org(organization).first()


def published_libraries() -> Any:
    """The libraries any organization may subscribe to."""
    return LibrarySettings.objects.filter(published=True).select_related("organization")


def subscribed_publishers(organization: Organization | int) -> Any:
    """The ids of the organizations whose library ``organization`` reads now: subscribed,
    and still shared."""
    return (
        LibrarySubscription.objects.for_org(organization)
        .filter(publisher__counter_speech_library__published=True)
        .values("publisher_id")
    )


def visible_entries(
    organization: Organization | int, at: date | datetime | None = None
) -> EntryQuerySet:
    """Every entry ``organization``'s members may read: its own in any state, and the
    approved entries of the libraries it subscribes to whose dates hold (``at``: now).
    Everything that reads the library starts here."""
    shared = Q(
        organization__in=subscribed_publishers(organization), state=State.APPROVED
    ) & valid_on(local_day(at))
    return Entry.objects.filter(Q(organization=organization) | shared)


def subscribers_of(organization: Organization | int) -> Any:
    """The subscriptions to ``organization``'s library (whoever subscribes), oldest first."""
    return (
        LibrarySubscription.objects.filter(publisher=organization)
        .select_related("subscriber", "created_by")
        .order_by("created_at", "id")
    )


def is_own(organization: Organization | int, entry: Entry) -> bool:
    org_id = organization if isinstance(organization, int) else organization.pk
    return entry.organization_id == org_id


# --- the rules every write shares -------------------------------------------------------------


def _own(ctx: OrgContext, entry: Entry) -> None:
    if not is_own(ctx.organization, entry):
        raise LibraryError(
            _("This entry belongs to another organization's library: it is read-only here."),
            "read_only",
        )


def _locked(entry: Entry) -> Entry:
    return Entry.objects.select_for_update().get(pk=entry.pk)


def _record(actor: Actor, action: AuditAction, entry: Entry, **after: Any) -> None:
    record(
        actor,
        action,
        organization=entry.organization,
        obj=entry,
        after={**snapshot(entry), **after},
    )


def _checked(ctx: OrgContext, data: EntryData) -> EntryData:
    """``data`` cleaned, or a refusal listing every problem."""
    result = check(data)
    problems = list(result.problems)
    for narrative in data.narratives:
        if narrative.organization_id != ctx.organization.pk:
            problems.append(
                Problem("narratives", _("This narrative is not one of the organization's."))
            )
    for claim in data.claims:
        if claim.organization_id != ctx.organization.pk:
            problems.append(Problem("claims", _("This claim is not one of the organization's.")))
    if problems:
        raise LibraryError(" ".join(problem.message for problem in problems), "invalid", problems)
    return result.data


def _write_texts(entry: Entry, texts: Sequence[tuple[str, str]]) -> None:
    wanted = dict(texts)
    entry.texts.exclude(language__in=wanted).delete()
    for language, text in wanted.items():
        EntryText.objects.update_or_create(entry=entry, language=language, defaults={"text": text})


def _write_sources(entry: Entry, sources: Sequence[SourceData]) -> list[EntrySource]:
    """Keep the sources still given (and their snapshots); returns the new ones."""
    wanted = [source.url for source in sources]
    entry.sources.exclude(url__in=wanted).delete()
    kept = {source.url: source for source in entry.sources.all()}
    added = []
    for position, given in enumerate(sources):
        found = kept.get(given.url)
        if found is None:
            added.append(
                EntrySource.objects.create(
                    entry=entry, url=given.url, title=given.title, position=position
                )
            )
        elif (found.title, found.position) != (given.title, position):
            found.title, found.position = given.title, position
            found.save(update_fields=["title", "position"])
    return added


def _apply(entry: Entry, data: EntryData) -> list[EntrySource]:
    entry.title = data.title
    entry.strategy = data.strategy
    entry.tone = data.tone
    entry.targets = list(data.targets)
    entry.topics = list(data.topics)
    entry.licence = data.licence
    entry.valid_from = data.valid_from
    entry.valid_until = data.valid_until
    entry.save()
    _write_texts(entry, data.texts)
    added = _write_sources(entry, data.sources)
    entry.narratives.set(data.narratives)
    entry.claims.set(data.claims)
    return added


def _new_version(actor: Actor, entry: Entry, reason: str) -> EntryVersion:
    user = actor.user if getattr(actor.user, "is_authenticated", False) else None
    return EntryVersion.objects.create(
        entry=entry,
        number=entry.version,
        snapshot=approval.whole(entry),
        content_hash=entry.content_hash,
        author=user,
        author_label=actor.name,
        reason=reason.strip()[:2000],
    )


def _read_later(sources: Iterable[EntrySource]) -> None:
    """Take each source's snapshot in the background, once the writing is committed."""
    for source in sources:
        enqueue(
            SNAPSHOT_TASK,
            {"source_id": source.pk},
            organization=source.entry.organization,
            dedupe_key=f"{SNAPSHOT_TASK}:{source.pk}",
        )


# --- writing ----------------------------------------------------------------------------------


def _create(
    ctx: OrgContext,
    data: EntryData,
    *,
    submit: bool,
    reason: str,
    origin: str,
) -> Entry:
    user = ctx.actor.user if getattr(ctx.actor.user, "is_authenticated", False) else None
    entry = Entry(organization=ctx.organization, author=user, origin=origin)
    if data.key:
        entry.key = data.key
    added = _apply(entry, data)
    entry.content_hash = approval.content_hash(entry)
    if submit:
        entry.state = State.IN_REVIEW
    entry.save()
    _new_version(ctx.actor, entry, reason)
    _read_later(added)
    return entry


def create_entry(
    ctx: OrgContext,
    data: EntryData,
    *,
    submit: bool = False,
    reason: str = "",
    origin: str = Entry.Origin.WRITTEN,
) -> Entry:
    """Write a new entry: a draft by the person acting (in review at once with ``submit``);
    ``origin`` says whether it is the organization's rebuttal of a claim."""
    ctx.require(Capability.ANSWER)
    data = _checked(ctx, data)
    with transaction.atomic():
        if data.key and Entry.objects.for_org(ctx.organization).filter(key=data.key).exists():
            raise LibraryError(_("An entry with this key is already in the library."), "invalid")
        entry = _create(ctx, data, submit=submit, reason=reason or "created", origin=origin)
        _record(ctx.actor, AuditAction.COUNTER_SPEECH_CREATE, entry)
        if submit:
            _record(ctx.actor, AuditAction.COUNTER_SPEECH_SUBMIT, entry)
    return entry


def update_entry(ctx: OrgContext, entry: Entry, data: EntryData, *, reason: str = "") -> Entry:
    """Change an entry; each change is a new version (who, when, why). A change of what it
    says (:func:`beffroi.counterspeech.approval.content`) after its approval sends it back to
    review: the approval was given to what it said before."""
    ctx.require(Capability.ANSWER)
    _own(ctx, entry)
    data = _checked(ctx, data)
    with transaction.atomic():
        entry = _locked(entry)
        if entry.state == State.RETIRED:
            raise LibraryError(_("A retired entry does not change."), "retired")
        before = approval.whole(entry)
        before_state = entry.state
        added = _apply(entry, data)
        entry.content_hash = approval.content_hash(entry)
        if approval.whole(entry) == before:
            return entry  # nothing changed: no version, no event
        entry.version += 1
        sent_back = entry.state == State.APPROVED and entry.content_hash != entry.approved_hash
        if sent_back:
            entry.state = State.IN_REVIEW
            entry.approved_hash = ""
            entry.approver = None
            entry.approved_at = None
        entry.save()
        _new_version(ctx.actor, entry, reason or "edited")
        _record(ctx.actor, AuditAction.COUNTER_SPEECH_EDIT, entry, reason=reason)
        if sent_back:
            _record(ctx.actor, AuditAction.COUNTER_SPEECH_BACK_TO_REVIEW, entry, was=before_state)
        _read_later(added)
    return entry


def submit(ctx: OrgContext, entry: Entry) -> Entry:
    """Ask for the entry's approval."""
    ctx.require(Capability.ANSWER)
    _own(ctx, entry)
    with transaction.atomic():
        entry = _locked(entry)
        if entry.state != State.DRAFT:
            raise LibraryError(_("Only a draft is submitted for approval."), "state")
        entry.state = State.IN_REVIEW
        entry.state_reason = ""
        entry.save(update_fields=["state", "state_reason", "updated_at"])
        _record(ctx.actor, AuditAction.COUNTER_SPEECH_SUBMIT, entry)
    return entry


def approve(ctx: OrgContext, entry: Entry, *, seen_hash: str | None = None) -> Entry:
    """Approve the entry as it is now, bound to the content the approver saw (``seen_hash``:
    refused when it changed since). Its sources' current snapshots become their reference."""
    ctx.require(Capability.APPROVE)
    _own(ctx, entry)
    with transaction.atomic():
        entry = _locked(entry)
        if seen_hash is not None and seen_hash != entry.content_hash:
            raise LibraryError(
                _("The entry changed since you opened it: read it again before deciding."),
                "changed",
            )
        why = approval.refusal(ctx.actor.user, entry)
        if why is not None:
            raise LibraryError(why, "refused")
        entry.state = State.APPROVED
        entry.state_reason = ""
        entry.approver = ctx.actor.user
        entry.approved_at = timezone.now()
        entry.approved_hash = entry.content_hash
        entry.approved_version = entry.version
        entry.save()
        for source in entry.sources.all():
            source.reference_sha256 = source.sha256
            source.changed_at = None
            source.save(update_fields=["reference_sha256", "changed_at"])
        _record(ctx.actor, AuditAction.COUNTER_SPEECH_APPROVE, entry)
    return entry


def send_back(ctx: OrgContext, entry: Entry, reason: str) -> Entry:
    """Refuse the entry as it is: back to its author as a draft, with why."""
    ctx.require(Capability.APPROVE)
    _own(ctx, entry)
    reason = reason.strip()
    if not reason:
        raise LibraryError(_("Say what the entry needs before it can be approved."), "invalid")
    with transaction.atomic():
        entry = _locked(entry)
        why = approval.refusal(ctx.actor.user, entry)
        if why is not None:
            raise LibraryError(why, "refused")
        entry.state = State.DRAFT
        entry.state_reason = reason[:5000]
        entry.save(update_fields=["state", "state_reason", "updated_at"])
        _record(ctx.actor, AuditAction.COUNTER_SPEECH_SEND_BACK, entry, reason=reason)
    return entry


def retire(ctx: OrgContext, entry: Entry, reason: str = "") -> Entry:
    """Take the entry out of the library for good: no longer suggested nor shared (its uses
    and history stay)."""
    ctx.require(Capability.APPROVE)
    _own(ctx, entry)
    with transaction.atomic():
        entry = _locked(entry)
        if entry.state == State.RETIRED:
            raise LibraryError(_("This entry is already retired."), "state")
        entry.state = State.RETIRED
        entry.state_reason = reason.strip()[:5000]
        entry.save(update_fields=["state", "state_reason", "updated_at"])
        _record(ctx.actor, AuditAction.COUNTER_SPEECH_RETIRE, entry, reason=reason)
    return entry


def record_use(
    entry: Entry, organization: Organization, item: Any = None, user: Any = None
) -> EntryUse:
    """Count that ``organization`` answered with ``entry`` (about ``item``): called by the
    desks that send the answer. An entry of a library the organization subscribes to counts
    on the publisher's entry (the publisher sees the count; the item stays the
    subscriber's). The use is counted whatever the entry's state now: it happened."""
    if not is_own(organization, entry) and not (
        LibrarySubscription.objects.for_org(organization)
        .filter(publisher_id=entry.organization_id)
        .exists()
    ):
        raise LibraryError(_("This entry is not in a library the organization reads."), "read_only")
    if item is not None and item.organization_id != organization.pk:
        raise LibraryError(_("This item is not one of the organization's."), "invalid")
    now = timezone.now()
    with transaction.atomic():
        use = EntryUse.objects.create(
            entry=entry,
            organization=organization,
            item=item,
            user=user if getattr(user, "is_authenticated", False) else None,
            used_at=now,
        )
        Entry.objects.filter(pk=entry.pk).update(use_count=F("use_count") + 1, last_used_at=now)
    return use


# --- sharing ----------------------------------------------------------------------------------


def publish_library(ctx: OrgContext, public_name: str, description: str = "") -> LibrarySettings:
    """Share the library: other organizations may subscribe and read its approved, valid
    entries (never its drafts, nor its entries out of their dates)."""
    ctx.require(Capability.MANAGE)
    name = " ".join(public_name.split())[:200] or ctx.organization.name
    with transaction.atomic():
        library, _created = LibrarySettings.objects.select_for_update().get_or_create(
            organization=ctx.organization
        )
        library.public_name = name
        library.description = description.strip()
        if not library.published:
            library.published = True
            library.published_at = timezone.now()
        library.save()
        record(
            ctx.actor,
            AuditAction.COUNTER_SPEECH_LIBRARY_PUBLISH,
            organization=ctx.organization,
            obj=library,
            after={"public_name": library.public_name},
        )
    return library


def unpublish_library(ctx: OrgContext) -> LibrarySettings:
    """Stop sharing: the subscribers stop reading it at once (their subscriptions stay, and
    read again if it is shared again)."""
    ctx.require(Capability.MANAGE)
    with transaction.atomic():
        library, _created = LibrarySettings.objects.select_for_update().get_or_create(
            organization=ctx.organization
        )
        library.published = False
        library.save(update_fields=["published"])
        record(
            ctx.actor,
            AuditAction.COUNTER_SPEECH_LIBRARY_UNPUBLISH,
            organization=ctx.organization,
            obj=library,
        )
    return library


def subscribe(ctx: OrgContext, publisher: Organization) -> LibrarySubscription:
    """Read ``publisher``'s shared library, live and read-only."""
    ctx.require(Capability.MANAGE)
    if publisher.pk == ctx.organization.pk:
        raise LibraryError(_("An organization already reads its own library."), "invalid")
    library = library_of(publisher)
    if library is None or not library.published:
        raise LibraryError(_("This library is not shared."), "not_shared")
    user = ctx.actor.user if getattr(ctx.actor.user, "is_authenticated", False) else None
    with transaction.atomic():
        subscription, created = LibrarySubscription.objects.get_or_create(
            subscriber=ctx.organization, publisher=publisher, defaults={"created_by": user}
        )
        if created:
            record(
                ctx.actor,
                AuditAction.COUNTER_SPEECH_SUBSCRIBE,
                organization=ctx.organization,
                obj=subscription,
                after={"publisher": library.public_name or publisher.name},
            )
    return subscription


def unsubscribe(ctx: OrgContext, publisher: Organization) -> None:
    ctx.require(Capability.MANAGE)
    with transaction.atomic():
        subscription = (
            LibrarySubscription.objects.for_org(ctx.organization)
            .filter(publisher=publisher)
            .first()
        )
        if subscription is None:
            raise LibraryError(_("The organization does not read this library."), "invalid")
        record(
            ctx.actor,
            AuditAction.COUNTER_SPEECH_UNSUBSCRIBE,
            organization=ctx.organization,
            obj=subscription,
            before={"publisher": publisher.name},
        )
        subscription.delete()


# --- the sources' snapshots -------------------------------------------------------------------


def take_snapshot(source_id: int, *, transport: httpx.BaseTransport | None = None) -> str:
    """Read a source's page and keep its fingerprint; returns ``same``, ``new``, ``changed``
    (differs from the one the approval saw), ``failed`` (the failure kept in words) or
    ``gone``."""
    source = (
        EntrySource.objects.select_related("entry", "entry__organization")
        .filter(pk=source_id)
        .first()
    )
    if source is None or source.entry.state == State.RETIRED:
        return "gone"
    now = timezone.now()
    # The page's text is kept too, for drafts to rest on: taken as the body streams past.
    keeper = KeepingTransport(transport)
    try:
        page = read_page(source.url, transport=keeper)
    except SnapshotError as exc:
        EntrySource.objects.filter(pk=source.pk).update(last_error=str(exc), last_attempt_at=now)
        return "failed"
    text = keeper.text()
    with transaction.atomic():
        source = EntrySource.objects.select_for_update().select_related("entry").get(pk=source.pk)
        outcome = "same"
        if page.sha256 != source.sha256:
            SourceSnapshot.objects.create(
                source=source,
                sha256=page.sha256,
                size_bytes=page.size_bytes,
                fetched_at=now,
                text=text,
            )
            outcome = "new"
        elif text:
            # A snapshot read before its text was kept gets it now.
            SourceSnapshot.objects.filter(source=source, sha256=page.sha256, text="").update(
                text=text
            )
        source.sha256 = page.sha256
        source.fetched_at = now
        source.last_attempt_at = now
        source.last_error = ""
        entry = source.entry
        if entry.state == State.APPROVED and not source.reference_sha256:
            # Approved before its first reading: the first page read is the one it rests on.
            source.reference_sha256 = page.sha256
        if source.changed:
            outcome = "changed"
            if source.changed_at is None:
                source.changed_at = now
                record(
                    Actor.system("counter-speech sources"),
                    AuditAction.COUNTER_SPEECH_SOURCE_CHANGED,
                    organization=entry.organization,
                    obj=entry,
                    after={"source": source.url, "sha256": page.sha256},
                )
        else:
            source.changed_at = None
        source.save()
    return outcome


def request_snapshots(entry: Entry) -> None:
    """Read every source of ``entry`` again (in the background)."""
    _read_later(entry.sources.select_related("entry__organization"))


def snapshots_due(now: datetime | None = None) -> int:
    """Ask for a new reading of the sources of approved entries not read for a while (and of
    those never read); returns how many were asked for."""
    now = now or timezone.now()
    due = (
        EntrySource.objects.filter(entry__state=State.APPROVED)
        .filter(Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lt=now - SNAPSHOT_EVERY))
        .select_related("entry__organization")
        .order_by("last_attempt_at", "id")[:SNAPSHOT_BATCH]
    )
    sources = list(due)
    _read_later(sources)
    return len(sources)


# --- import and export ------------------------------------------------------------------------


def import_entries(
    ctx: OrgContext, data: bytes, file_format: str, *, submit: bool = False
) -> list[Entry]:
    """Import a CSV or JSON file (:mod:`beffroi.counterspeech.io`): the whole file is checked
    first and refused with every problem (:class:`ImportRefused`) or stored at once, in one
    transaction, as drafts of the person importing (in review with ``submit``), with one
    audit event."""
    ctx.require(Capability.MANAGE)
    rows, row_problems = io.read_entries(data, file_format)
    problems = list(row_problems)
    keys = {row.data.key: row.number for row in rows if row.data.key}
    taken = set(
        Entry.objects.for_org(ctx.organization).filter(key__in=keys).values_list("key", flat=True)
    )
    for key in sorted(taken, key=keys.__getitem__):
        problems.append(
            RowProblem(
                keys[key],
                "key",
                _(
                    "an entry with this key is already in the library (remove the key to "
                    "import it as a new entry)."
                ),
                file_format == io.JSON,
            )
        )
    if problems:
        # By row and column; what concerns the whole file (the note that more problems were
        # left unlisted) last.
        raise ImportRefused(
            sorted(problems, key=lambda p: (p.row if p.row or p.column else 10**9, p.column))
        )
    with transaction.atomic():
        entries = [
            _create(
                ctx,
                row.data,
                submit=submit,
                reason="imported",
                origin=Entry.Origin.IMPORTED,
            )
            for row in rows
        ]
        record(
            ctx.actor,
            AuditAction.COUNTER_SPEECH_IMPORT,
            organization=ctx.organization,
            after={
                "format": file_format,
                "entries": len(entries),
                "state": State.IN_REVIEW if submit else State.DRAFT,
                "keys": [entry.key for entry in entries][:1000],
            },
        )
    return entries


def export_entries(
    ctx: OrgContext,
    file_format: str,
    *,
    delimiter: str = ",",
    among: QuerySet[Entry] | None = None,
) -> str:
    """The entries the organization sees, as a CSV or JSON file (the audit trail keeps that
    it was exported, and how many). ``among``: only those of this queryset (a filtered
    list), never more than the organization sees."""
    ctx.require(Capability.VIEW)
    seen = visible_entries(ctx.organization)
    if among is not None:
        seen = seen.filter(pk__in=among.values("pk"))
    entries = list(
        seen.select_related("organization", "organization__counter_speech_library")
        .prefetch_related("texts", "sources")
        .order_by("organization_id", "title", "id")
    )
    own = ctx.organization.pk
    text = (
        io.write_json(entries, own)
        if file_format == io.JSON
        else io.write_csv(entries, own, delimiter=delimiter)
    )
    record(
        ctx.actor,
        AuditAction.COUNTER_SPEECH_EXPORT,
        organization=ctx.organization,
        after={"format": file_format, "entries": len(entries)},
    )
    return text
