"""The library's pages: the list (filters, counts, CSV and JSON exports, the import form), an
entry's page (its texts, sources, approval, history and the actions its state allows) and the
form that writes one.

Each view parses, calls one service and renders: the rules (who may write, approve, retire;
what an entry must hold) live in ``counterspeech.services``. An entry is read through
:func:`~beffroi.counterspeech.services.visible_entries` (the organization's own and the
subscribed libraries' approved ones); it is changed only through the organization's own
entries, so another library's entry is not found by the actions.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from beffroi.core.exports import delimiter_of
from beffroi.counterspeech import approval, io, services
from beffroi.counterspeech.filtersets import EntryFilter
from beffroi.counterspeech.forms import (
    ApproveForm,
    EntryForm,
    ImportForm,
    RetireForm,
    SendBackForm,
    TextFormSet,
    entry_data,
    entry_initial,
    prefilled_initial,
    show_problems,
    strategy_choices,
)
from beffroi.counterspeech.models import STRATEGY_HELP, Entry, EntryUse, Strategy, Target
from beffroi.items.models import Item
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability
from beffroi.veille.models import CheckedClaim, Narrative

PAGE_SIZE = 50
State = Entry.State


def _detail(request: OrgRequest, entry: Entry) -> HttpResponse:
    return redirect("counterspeech:detail", org_slug=request.org.organization.slug, pk=entry.pk)


def _own_entry(request: OrgRequest, pk: int) -> Entry:
    """One of the organization's own entries (the actions): another library's is not found."""
    return request.org.get(Entry, pk=pk)


def _visible_entry(request: OrgRequest, pk: int) -> Entry:
    """An entry the organization reads: its own, or a subscribed library's approved one."""
    found = (
        services.visible_entries(request.org.organization)
        .select_related("organization", "organization__counter_speech_library")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404("No such counter-speech entry")
    return found


def library_name(entry: Entry) -> str:
    """How a subscriber sees the library an entry comes from."""
    library = getattr(entry.organization, "counter_speech_library", None)
    return (library.public_name if library is not None else "") or entry.organization.name


# --- the list ----------------------------------------------------------------------------------


def _export(request: OrgRequest, found: Any, file_format: str) -> StreamingHttpResponse:
    """The filtered list as a file (the service keeps that it was exported), sent as the
    other exports are (a stream)."""
    text = services.export_entries(
        request.org, file_format, delimiter=delimiter_of(request), among=found
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    name = f"counter-speech-{request.org.organization.slug}-{stamp}.{file_format}"
    content_type = (
        "application/json; charset=utf-8" if file_format == io.JSON else "text/csv; charset=utf-8"
    )
    response = StreamingHttpResponse(iter([text]), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _library_page(request: OrgRequest, import_form: ImportForm, **extra: Any) -> HttpResponse:
    organization = request.org.organization
    entries = services.visible_entries(organization).select_related(
        "organization", "organization__counter_speech_library"
    )
    filterset = EntryFilter(request.GET or None, queryset=entries, request=request)
    found = filterset.qs
    counts = found.aggregate(
        own=Count("pk", filter=Q(organization=organization)),
        shared=Count("pk", filter=~Q(organization=organization)),
        approved=Count("pk", filter=Q(state=State.APPROVED)),
        in_review=Count("pk", filter=Q(state=State.IN_REVIEW)),
        drafts=Count("pk", filter=Q(state=State.DRAFT)),
    )
    page: Any = Paginator(found.prefetch_related("texts"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [
        {
            "entry": entry,
            "own": services.is_own(organization, entry),
            "library": library_name(entry),
            "languages": [text.language for text in entry.texts.all()],
            "valid": entry.valid_at(),
        }
        for entry in page.object_list
    ]
    return render(
        request,
        "counterspeech/library.html",
        {
            "nav": "counterspeech",
            "filter": filterset,
            "page_obj": page,
            "rows": rows,
            "total": page.paginator.count,
            "counts": counts,
            "can_write": request.org.can(Capability.ANSWER),
            "can_manage": request.org.can(Capability.MANAGE),
            "import_form": import_form,
            **extra,
        },
    )


@org_view(Capability.VIEW)
def library(request: OrgRequest) -> HttpResponse | StreamingHttpResponse:
    wanted = request.GET.get("format")
    if wanted in io.FORMATS:
        entries = services.visible_entries(request.org.organization)
        found = EntryFilter(request.GET, queryset=entries, request=request).qs
        return _export(request, found, wanted)
    return _library_page(request, ImportForm())


@org_view(Capability.MANAGE)
@require_POST
def import_file(request: OrgRequest) -> HttpResponse:
    """Import a CSV or JSON file: stored whole, or refused with every problem by row and
    column (nothing stored)."""
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _library_page(request, form, import_open=True)
    upload = form.cleaned_data["file"]
    if upload.size > io.MAX_BYTES:
        form.add_error("file", _("This file is too large."))
        return _library_page(request, form, import_open=True)
    try:
        imported = services.import_entries(
            request.org,
            upload.read(),
            form.file_format(),
            submit=form.cleaned_data["submit_for_approval"],
        )
    except services.ImportRefused as exc:
        return _library_page(
            request, form, import_open=True, import_refusal=str(exc), import_problems=exc.sentences
        )
    except services.LibraryError as exc:
        form.add_error("file", str(exc))
        return _library_page(request, form, import_open=True)
    messages.success(
        request,
        _("%(count)d entries imported.") % {"count": len(imported)},
    )
    return redirect("counterspeech:library", org_slug=request.org.organization.slug)


# --- an entry ----------------------------------------------------------------------------------


def _source_rows(entry: Entry) -> list[dict[str, Any]]:
    rows = []
    for source in entry.sources.all():
        if source.last_error:
            state, tone = _("Unreadable: %(why)s") % {"why": source.last_error}, "badge-error"
        elif source.changed:
            state, tone = _("Changed since approval"), "badge-warn"
        elif source.fetched_at is not None:
            state, tone = _("Read"), "badge-ok"
        else:
            state, tone = _("Not read yet"), "badge-neutral"
        rows.append({"source": source, "state": state, "tone": tone})
    return rows


def _validity(entry: Entry) -> str:
    """What the entry's dates mean today, in words (empty: valid without limit)."""
    today = timezone.localdate()
    if entry.valid_until is not None and entry.valid_until < today:
        return _("Out of date: it is no longer suggested nor shared.")
    if entry.valid_from is not None and entry.valid_from > today:
        return _("Not valid yet: it is suggested from its first day.")
    return ""


def _entry_page(request: OrgRequest, entry: Entry, **extra: Any) -> HttpResponse:
    org = request.org
    own = services.is_own(org.organization, entry)
    state = entry.state
    can_answer = own and org.can(Capability.ANSWER)
    can_approve = own and org.can(Capability.APPROVE)
    refusal = approval.refusal(request.user, entry) if can_approve else None
    context: dict[str, Any] = {
        "nav": "counterspeech",
        "entry": entry,
        "own": own,
        "library": library_name(entry),
        "texts": list(entry.texts.all()),
        "strategy_help": STRATEGY_HELP.get(Strategy(entry.strategy), ""),
        "targets": _labels(list(entry.targets), Target.choices),
        "sources": _source_rows(entry),
        "validity": _validity(entry),
        "may_edit": can_answer and state != State.RETIRED,
        "may_submit": can_answer and state == State.DRAFT,
        "may_decide": can_approve and state == State.IN_REVIEW and refusal is None,
        "decide_refusal": refusal if can_approve and state == State.IN_REVIEW else None,
        "may_retire": can_approve and state != State.RETIRED,
        "approve_form": ApproveForm(initial={"seen_hash": entry.content_hash}),
        "send_back_form": SendBackForm(),
        "retire_form": RetireForm(),
        **extra,
    }
    if own:
        # The publisher's own filing: a subscriber reads the entry, not the publisher's veille.
        context["narratives"] = list(entry.narratives.all())
        context["claims"] = list(entry.claims.all())
        context["versions"] = list(entry.versions.select_related("author").order_by("-number"))
        context["uses"] = entry.use_count
        context["last_used_at"] = entry.last_used_at
    else:
        context["uses"] = EntryUse.objects.for_org(org.organization).filter(entry=entry).count()
    return render(request, "counterspeech/detail.html", context)


@org_view(Capability.VIEW)
def entry_detail(request: OrgRequest, pk: int) -> HttpResponse:
    return _entry_page(request, _visible_entry(request, pk))


def _labels(values: list[str], choices: Any) -> list[str]:
    names = dict(choices)
    return [str(names.get(value, value)) for value in values]


def _prefilled(request: OrgRequest) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """A new entry prefilled from what it answers: ``?claim=``, ``?item=``, ``?narrative=``
    (the veille's rebuttal flow, the item pages), each fetched among the organization's own:
    another organization's is not found."""
    org = request.org

    def wanted(name: str) -> int | None:
        value = request.GET.get(name, "")
        return int(value) if value.isdigit() else None

    claim_pk, item_pk, narrative_pk = wanted("claim"), wanted("item"), wanted("narrative")
    return prefilled_initial(
        claim=org.get(CheckedClaim, pk=claim_pk) if claim_pk is not None else None,
        item=org.get(Item, pk=item_pk) if item_pk is not None else None,
        narrative=org.get(Narrative, pk=narrative_pk) if narrative_pk is not None else None,
    )


@org_view(Capability.ANSWER)
def entry_form(request: OrgRequest, pk: int | None = None) -> HttpResponse:
    """Write an entry or change one (each change a new version, with why); a new one may be
    prefilled from what it answers (:func:`_prefilled`)."""
    org = request.org
    entry = _own_entry(request, pk) if pk is not None else None
    if entry is not None and entry.state == State.RETIRED:
        messages.error(request, _("A retired entry does not change."))
        return _detail(request, entry)
    initial, text_initial = entry_initial(entry) if entry is not None else _prefilled(request)
    narratives = org.scoped(Narrative).order_by("name")
    claims = org.scoped(CheckedClaim).order_by("-id")
    data = request.POST if request.method == "POST" else None
    form = EntryForm(data, initial=initial, narratives=narratives, claims=claims)
    texts = TextFormSet(data, initial=text_initial or None, prefix="texts")
    if data is not None and "add_language" in data and texts.is_valid():
        # One more empty language below those written: nothing is saved yet.
        grown = data.copy()
        grown["texts-TOTAL_FORMS"] = str(texts.total_form_count() + 1)
        form = EntryForm(grown, initial=initial, narratives=narratives, claims=claims)
        texts = TextFormSet(grown, prefix="texts")
        form.is_valid()
        texts.is_valid()
        return _form_page(request, entry, form, texts)
    if data is not None and form.is_valid() and texts.is_valid():
        written = entry_data(form, texts)
        reason = form.cleaned_data.get("reason") or ""
        try:
            if entry is None:
                saved = services.create_entry(org, written, submit="submit" in data, reason=reason)
            else:
                saved = services.update_entry(org, entry, written, reason=reason)
        except services.LibraryError as exc:
            show_problems(form, texts, exc.problems, str(exc))
        else:
            if entry is None:
                messages.success(
                    request,
                    _("Submitted: it waits for approval.")
                    if saved.state == State.IN_REVIEW
                    else _("Draft saved."),
                )
            elif entry.state == State.APPROVED and saved.state == State.IN_REVIEW:
                messages.success(
                    request,
                    _(
                        "Saved. What it says changed after its approval: it goes back to "
                        "review, and is not suggested until it is approved again."
                    ),
                )
            else:
                messages.success(request, _("Saved."))
            return _detail(request, saved)
    return _form_page(request, entry, form, texts)


def _form_page(
    request: OrgRequest, entry: Entry | None, form: EntryForm, texts: Any
) -> HttpResponse:
    return render(
        request,
        "counterspeech/form.html",
        {
            "nav": "counterspeech",
            "entry": entry,
            "form": form,
            "texts": texts,
            "strategies": strategy_choices(),
        },
    )


def _act(request: OrgRequest, entry: Entry, done: str, call: Any) -> HttpResponse:
    """Call the service; say what it did or why it refused."""
    try:
        call()
    except services.LibraryError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return _detail(request, entry)


@org_view(Capability.ANSWER)
@require_POST
def entry_submit(request: OrgRequest, pk: int) -> HttpResponse:
    entry = _own_entry(request, pk)
    return _act(
        request,
        entry,
        _("Submitted: it waits for approval."),
        lambda: services.submit(request.org, entry),
    )


@org_view(Capability.APPROVE)
@require_POST
def entry_approve(request: OrgRequest, pk: int) -> HttpResponse:
    entry = _own_entry(request, pk)
    form = ApproveForm(request.POST)
    seen = form.cleaned_data["seen_hash"] if form.is_valid() else ""
    return _act(
        request,
        entry,
        _("Approved: the entry is suggested and shared while its dates hold."),
        lambda: services.approve(request.org, entry, seen_hash=seen),
    )


@org_view(Capability.APPROVE)
@require_POST
def entry_send_back(request: OrgRequest, pk: int) -> HttpResponse:
    entry = _own_entry(request, pk)
    form = SendBackForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say what the entry needs before it can be approved."))
        return _detail(request, entry)
    return _act(
        request,
        entry,
        _("Sent back to its author."),
        lambda: services.send_back(request.org, entry, form.cleaned_data["comment"]),
    )


@org_view(Capability.APPROVE)
@require_POST
def entry_retire(request: OrgRequest, pk: int) -> HttpResponse:
    entry = _own_entry(request, pk)
    form = RetireForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _act(
        request,
        entry,
        _("Retired: it is no longer suggested nor shared."),
        lambda: services.retire(request.org, entry, reason),
    )
