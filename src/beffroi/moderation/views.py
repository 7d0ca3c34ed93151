"""Moderation pages: the review queue, a case, appeals, the decisions log, DSA statements,
evidence dossiers and the classifier versions.

Who may do what: working the queue, deciding, recording and judging appeals, downloading
dossiers and DSA statements need MODERATE (moderators and administrators); the classifier
versions need MANAGE; every member sees the read-only moderation panel of an item page.

The queue is made for people who do this all day: opening a case claims it (two moderators
never work on the same one), each decision leads straight to the next case, claimed
atomically, and the last decision can be undone from anywhere. The rules themselves live in
:mod:`beffroi.moderation.services`; these views only translate requests and show errors.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from beffroi.analysis.moderation.decide import CategoryPolicy
from beffroi.audit.services import Actor, record
from beffroi.core.exports import stream_csv
from beffroi.core.sessions import keep_in_session
from beffroi.items.models import Item
from beffroi.jobs.engine import LIVE_STATES, enqueue
from beffroi.jobs.models import Job
from beffroi.moderation import dossier as dossiers
from beffroi.moderation import learning
from beffroi.moderation.evidence import verify
from beffroi.moderation.filtersets import QUEUE_ORDERS, CaseFilter, DecisionFilter
from beffroi.moderation.forms import (
    BULK_ACTIONS,
    RECEIVED_VIA_SUGGESTIONS,
    AppealDecisionForm,
    AppealForm,
    BulkForm,
    DecisionForm,
    StatementsForm,
)
from beffroi.moderation.models import Appeal, Case, ClassifierVersion, Decision
from beffroi.moderation.policy import charter_policies
from beffroi.moderation.services import (
    ASSIGNMENT_TIMEOUT,
    ModerationError,
    claim_case,
    decide,
    decide_appeal,
    file_appeal,
    last_undoable,
    next_case,
    open_cases,
    release_case,
    undo,
)
from beffroi.moderation.statements import CSV_FIELDS, csv_row, statement, statement_decisions
from beffroi.moderation.tables import (
    PLATFORM_BADGES,
    STATUS_BADGES,
    detector_rows,
    explanation_rows,
    is_sensitive,
    item_is_sensitive,
    percent,
)
from beffroi.organizations.access import org_view
from beffroi.organizations.models import Organization
from beffroi.organizations.roles import Capability

PAGE_SIZE = 50
#: Siblings shown on each side of the item in the thread around it.
SIBLINGS_AROUND = 8
#: How many of the author's other items and past decisions a case shows.
AUTHOR_HISTORY = 10

# Session keys: the last action (with its undo), the queue filters "next case" follows, the
# cases seen (for "previous case") and the cases skipped since the queue was last opened.
FLASH_KEY = "moderation_flash"
FILTERS_KEY = "moderation_queue_filters"
HISTORY_KEY = "moderation_history"
SKIPPED_KEY = "moderation_skipped"
HISTORY_LIMIT = 50

DECISION_COLUMNS = [
    "id",
    "created_at",
    "item_id",
    "platform",
    "author",
    "text",
    "action",
    "status",
    "category",
    "clause",
    "score",
    "automated",
    "actor",
    "confirmed_by",
    "note",
    "platform_status",
    "platform_detail",
    "evidence_sha256",
    "reverses",
]


# --- small helpers -----------------------------------------------------------------------------


def _actor(request: HttpRequest) -> Actor:
    return Actor(request.user, "ui")


def _org(request: HttpRequest) -> Organization:
    return request.organization  # type: ignore[attr-defined, no-any-return]


def _categories(request: HttpRequest) -> dict[str, CategoryPolicy]:
    """The charter's categories (the live version wins over one in shadow), once a request."""
    cached: dict[str, CategoryPolicy] | None = getattr(request, "_moderation_categories", None)
    if cached is None:
        live, shadow = charter_policies(_org(request))
        cached = {}
        for policy in (shadow, live):
            if policy is not None:
                cached.update(policy.categories)
        request._moderation_categories = cached  # type: ignore[attr-defined]
    return cached


def _category_names(request: HttpRequest) -> dict[str, str]:
    return {slug: category.name for slug, category in _categories(request).items()}


def _severities(request: HttpRequest) -> dict[str, int]:
    return {slug: category.severity for slug, category in _categories(request).items()}


def _case_url(case: Case) -> str:
    return reverse("moderation:case", kwargs={"org_slug": case.organization.slug, "pk": case.pk})


def _queue_url(request: HttpRequest) -> str:
    return reverse("moderation:queue", kwargs={"org_slug": _org(request).slug})


def _item_url(request: HttpRequest, item_id: int) -> str:
    return reverse("items:item", kwargs={"org_slug": _org(request).slug, "pk": item_id})


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _done_text(action: str) -> str:
    texts = {
        Decision.Action.KEEP: _("Kept."),
        Decision.Action.HIDE: _("Hidden."),
        Decision.Action.DELETE: _("Deleted."),
        Decision.Action.ESCALATE: _("Escalated."),
        Decision.Action.REPLY: _("Reply recorded; it is being sent."),
        Decision.Action.REPORT: _("Report recorded; it is being sent to the platform."),
    }
    return texts.get(action, _("Done."))  # type: ignore[call-overload, no-any-return]


def _flash(request: HttpRequest, text: str, undoable: Decision | None = None) -> None:
    """The result of the last action, shown (and announced) on the next page with its undo."""
    request.session[FLASH_KEY] = {"text": text, "undo": undoable.pk if undoable else None}


def _pop_flash(request: HttpRequest) -> dict[str, Any] | None:
    flash = request.session.pop(FLASH_KEY, None)
    if not isinstance(flash, dict):
        return None
    decision_id = flash.get("undo")
    flash["decision"] = (
        Decision.objects.filter(
            pk=decision_id, organization=_org(request), status=Decision.Status.APPLIED
        ).first()
        if decision_id
        else None
    )
    return flash


def _undo_context(request: HttpRequest) -> dict[str, Any]:
    actor = _actor(request)
    return {
        "flash": _pop_flash(request),
        "undoable": last_undoable(actor, _org(request)),
    }


def _queue_filters(request: HttpRequest) -> QueryDict:
    return QueryDict(request.session.get(FILTERS_KEY, ""))


def _filtered_open_cases(request: HttpRequest, query: QueryDict) -> QuerySet[Case]:
    base = open_cases(_org(request))
    filterset = CaseFilter(
        query or None, queryset=base, request=request, category_names=_category_names(request)
    )
    return filterset.qs if filterset.is_bound else base


def _claim_next(request: HttpRequest, exclude: list[int] | None = None) -> Case | None:
    """Claim the next case of the queue, as filtered when the moderator last looked at it."""
    cases = _filtered_open_cases(request, _queue_filters(request))
    skipped = [*request.session.get(SKIPPED_KEY, []), *(exclude or [])]
    if skipped:
        cases = cases.exclude(pk__in=skipped)
    return next_case(_actor(request), _org(request), cases)


def _go_next(request: HttpRequest, text: str, undoable: Decision | None = None) -> HttpResponse:
    case = _claim_next(request)
    if case is None:
        _flash(request, f"{text} {_('No more cases for you in the queue.')}", undoable)
        return redirect(_queue_url(request))
    _flash(request, f"{text} {_('Next case.')}", undoable)
    return redirect(_case_url(case))


def _remember(request: HttpRequest, case: Case) -> None:
    history = [pk for pk in request.session.get(HISTORY_KEY, []) if isinstance(pk, int)]
    if not history or history[-1] != case.pk:
        history.append(case.pk)
    keep_in_session(request, HISTORY_KEY, history[-HISTORY_LIMIT:])


def _previous_case_id(request: HttpRequest, case: Case) -> int | None:
    history = [pk for pk in request.session.get(HISTORY_KEY, []) if isinstance(pk, int)]
    if case.pk in history:
        history = history[: len(history) - 1 - history[::-1].index(case.pk)]
    return history[-1] if history else None


def _report_errors(request: HttpRequest, form: Any) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))


def _htmx_render(
    request: HttpRequest, page: str, fragment: str, context: dict[str, Any]
) -> HttpResponse:
    htmx = getattr(request, "htmx", None)
    partial = bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]
    response = render(request, fragment if partial else page, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- the queue ---------------------------------------------------------------------------------


def _queue_row(case: Case, severities: dict[str, int], names: dict[str, str]) -> dict[str, Any]:
    stale = timezone.now() - ASSIGNMENT_TIMEOUT
    return {
        "case": case,
        "held": case.state == Case.State.ASSIGNED
        and case.assigned_at is not None
        and case.assigned_at >= stale,
        "item": case.item,
        "sensitive": is_sensitive(case.category, case.severity or severities.get(case.category)),
        "category_name": names.get(case.category, case.category),
        "confidence": percent(case.score),
    }


@org_view(Capability.MODERATE)
def queue(request: HttpRequest) -> HttpResponse:
    """Open cases, filtered and ordered; a selection can be decided at once."""
    organization = _org(request)
    base = (
        open_cases(organization)
        .select_related("item__author", "item__source", "assignee", "organization")
        .order_by(*QUEUE_ORDERS["priority"])
    )
    names = _category_names(request)
    filterset = CaseFilter(
        request.GET or None, queryset=base, request=request, category_names=names
    )
    cases = filterset.qs if filterset.is_bound else base
    # "Next case" follows these filters; coming back to the queue forgets skipped cases.
    kept = request.GET.copy()
    for key in ("page", "sort"):
        kept.pop(key, None)
    keep_in_session(request, FILTERS_KEY, kept.urlencode())
    keep_in_session(request, SKIPPED_KEY, [])
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    severities = _severities(request)
    by_kind = dict(open_cases(organization).order_by().values_list("kind").annotate(n=Count("id")))
    tabs = [("", _("All"), sum(by_kind.values()))] + [
        (value, label, by_kind.get(value, 0)) for value, label in Case.Kind.choices
    ]
    context = {
        "nav": "moderation",
        "tab": "queue",
        "filter": filterset,
        "page_obj": page,
        "rows": [_queue_row(case, severities, names) for case in page.object_list],
        "kind_tabs": tabs,
        "current_kind": request.GET.get("kind", ""),
        "filtered": filterset.is_bound
        and any(v for k, v in request.GET.items() if k not in ("page", "sort")),
        "bulk_actions": BULK_ACTIONS,
        "htmx_target": "#results",
        **_undo_context(request),
    }
    return _htmx_render(request, "moderation/queue.html", "moderation/_queue_results.html", context)


@org_view(Capability.MODERATE)
@require_POST
def queue_next(request: HttpRequest) -> HttpResponse:
    """Claim the next case; with ``skip``, first let go of the case being skipped."""
    skip = request.POST.get("skip", "")
    if skip.isdigit():
        skipped_case = Case.objects.filter(organization=_org(request), pk=int(skip)).first()
        if skipped_case is not None:
            release_case(_actor(request), skipped_case)
            skipped = [pk for pk in request.session.get(SKIPPED_KEY, []) if isinstance(pk, int)]
            request.session[SKIPPED_KEY] = [*skipped, skipped_case.pk][-HISTORY_LIMIT:]
    case = _claim_next(request)
    if case is None:
        _flash(request, _("No more cases for you in the queue."))
        return redirect(_queue_url(request))
    return redirect(_case_url(case))


@org_view(Capability.MODERATE)
@require_POST
def queue_bulk(request: HttpRequest) -> HttpResponse:
    """The same decision on each selected case that nobody else holds."""
    organization = _org(request)
    target = _safe_next(request) or _queue_url(request)
    form = BulkForm(
        request.POST,
        cases=Case.objects.filter(organization=organization).select_related("item"),
    )
    if not form.is_valid():
        _report_errors(request, form)
        return redirect(target)
    actor = _actor(request)
    action = form.cleaned_data["action"]
    done = held = skipped = 0
    failures: list[str] = []
    for case in form.cleaned_data["cases"]:
        if case.state == Case.State.CLOSED or case.kind == Case.Kind.APPEAL:
            skipped += 1
            continue
        if not claim_case(actor, case):
            held += 1
            continue
        try:
            decide(actor, case.item, action, note=form.cleaned_data["note"])
        except ModerationError as exc:
            failures.append(f"#{case.pk}: {exc}")
            continue
        done += 1
    label = Decision.Action(action).label
    if done:
        messages.success(
            request,
            ngettext(
                "%(action)s: %(count)s case decided.",
                "%(action)s: %(count)s cases decided.",
                done,
            )
            % {"action": label, "count": done},
        )
    if held:
        messages.warning(
            request,
            ngettext(
                "%(count)s case is being handled by someone else: left as it is.",
                "%(count)s cases are being handled by someone else: left as they are.",
                held,
            )
            % {"count": held},
        )
    if skipped:
        messages.warning(
            request,
            ngettext(
                "%(count)s case was closed or is an appeal: left as it is.",
                "%(count)s cases were closed or are appeals: left as they are.",
                skipped,
            )
            % {"count": skipped},
        )
    for failure in failures:
        messages.error(request, failure)
    return redirect(target)


# --- a case ------------------------------------------------------------------------------------


def _thread_around(item: Item) -> dict[str, Any]:
    """The post, the parent and the item's siblings (oldest first), around the item."""
    related = Item.objects.filter(
        organization_id=item.organization_id, platform=item.platform
    ).select_related("author")
    parent = related.filter(pk=item.parent_id).first() if item.parent_id else None
    root = None
    if item.thread_id and item.thread_id != item.platform_id:
        root = related.filter(platform_id=item.thread_id).first()
        if root is not None and parent is not None and root.pk == parent.pk:
            root = None
    if item.parent_id:
        siblings_qs = related.filter(parent_id=item.parent_id)
    elif item.thread_id and item.thread_id != item.platform_id:
        siblings_qs = related.filter(thread_id=item.thread_id, parent__isnull=True).exclude(
            platform_id=item.thread_id
        )
    else:
        siblings_qs = related.filter(pk=item.pk)
    siblings = list(siblings_qs.order_by("created_at", "id")[:500])
    if item.pk not in {s.pk for s in siblings}:
        siblings.append(item)
    index = next(i for i, s in enumerate(siblings) if s.pk == item.pk)
    start = max(0, index - SIBLINGS_AROUND)
    window = siblings[start : index + SIBLINGS_AROUND + 1]
    return {
        "root": root,
        "parent": parent,
        "siblings": window,
        "before": start,
        "after": max(0, len(siblings) - (index + SIBLINGS_AROUND + 1)),
        "replies": related.filter(parent_id=item.pk).count(),
    }


def _author_history(item: Item) -> dict[str, Any]:
    items = Item.objects.filter(organization_id=item.organization_id, author_id=item.author_id)
    counts = items.aggregate(
        total=Count("id"),
        hidden=Count("id", filter=Q(visibility=Item.Visibility.HIDDEN)),
        deleted=Count("id", filter=Q(visibility=Item.Visibility.DELETED)),
    )
    decisions = (
        Decision.objects.filter(
            organization_id=item.organization_id,
            item__author_id=item.author_id,
            automated=False,
        )
        .exclude(item_id=item.pk)
        .exclude(status__in=[Decision.Status.SHADOW, Decision.Status.SUPERSEDED])
        .select_related("item", "actor")
        .order_by("-created_at", "-id")[:AUTHOR_HISTORY]
    )
    automatic = (
        Decision.objects.filter(
            organization_id=item.organization_id,
            item__author_id=item.author_id,
            automated=True,
            status=Decision.Status.APPLIED,
        )
        .exclude(item_id=item.pk)
        .count()
    )
    return {
        "counts": counts,
        "automatic": automatic,
        "items": items.exclude(pk=item.pk).order_by("-created_at", "-id")[:AUTHOR_HISTORY],
        "decisions": decisions,
    }


def _timeline(item: Item) -> list[dict[str, Any]]:
    """Every decision on the item, oldest first, with its evidence seal and its appeals."""
    decisions = (
        Decision.objects.filter(item=item)
        .select_related("actor", "confirmed_by", "evidence", "reverses")
        .prefetch_related("appeals")
        .order_by("created_at", "id")
    )
    return [
        {
            "decision": decision,
            "status_badge": STATUS_BADGES.get(decision.status, ""),
            "platform_badge": PLATFORM_BADGES.get(decision.platform_status, ""),
            "platform_detail": str((decision.platform_result or {}).get("detail", "")),
            "platform_retry": bool((decision.platform_result or {}).get("retry")),
            "sealed": decision.evidence is not None and verify(decision.evidence),
            "undoable": decision.undoable,
            "appealable": decision.appealable,
            "appeals": list(decision.appeals.all()),
        }
        for decision in decisions
    ]


def _why(request: HttpRequest, item: Item, basis: Decision | None, category: str) -> dict[str, Any]:
    """Why the item was flagged: category, clause cited, score per detector, what matched."""
    analysis = item.analysis if isinstance(item.analysis, dict) else {}
    names = _category_names(request)
    policy = _categories(request).get(category)
    snapshot = (basis.charter_snapshot if basis else None) or {}
    scores = (basis.scores if basis and basis.scores else None) or analysis.get("scores") or {}
    explanation = (basis.explanation if basis and basis.explanation else None) or analysis.get(
        "explanation"
    )
    detectors = (basis.detectors if basis and basis.detectors else None) or analysis.get(
        "detectors"
    )
    score = basis.score if basis and basis.score is not None else analysis.get("score")
    return {
        "category": category,
        "category_name": snapshot.get("name") or names.get(category, category),
        "clause": (basis.clause if basis else "")
        or snapshot.get("clause")
        or (policy.clause if policy else ""),
        "legal_reference": snapshot.get("legal_reference")
        or (policy.legal_reference if policy else ""),
        "severity": snapshot.get("severity") or (policy.severity if policy else None),
        "score": percent(score if isinstance(score, int | float) else None),
        "detector_scores": detector_rows(scores, names),
        "explanation": explanation_rows(explanation),
        "detectors": sorted((detectors or {}).items()) if isinstance(detectors, dict) else [],
        "charter_version": (basis.charter_version if basis else None)
        or analysis.get("charter_version"),
    }


def _decision_categories(request: HttpRequest) -> list[tuple[str, str]]:
    return [(slug, category.name) for slug, category in _categories(request).items()]


@org_view(Capability.MODERATE)
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One case: opening it claims it; everything needed to decide, and the keys to do it."""
    organization = _org(request)
    case = get_object_or_404(
        Case.objects.filter(organization=organization).select_related(
            "item__author",
            "item__source",
            "assignee",
            "decision__actor",
            "decision__confirmed_by",
            "appeal__entered_by",
            "organization",
        ),
        pk=pk,
    )
    actor = _actor(request)
    held_by = None
    excluded = False
    if case.state != Case.State.CLOSED:
        if case.excluded_user_id is not None and case.excluded_user_id == request.user.pk:
            excluded = True
        elif not claim_case(actor, case):
            case.refresh_from_db()
            held_by = case.assignee
    _remember(request, case)
    item = case.item
    severities = _severities(request)
    basis = case.decision
    category = case.category or (basis.category if basis else "")
    sensitive = is_sensitive(category, case.severity or severities.get(category))
    thread = _thread_around(item)
    previous = _previous_case_id(request, case)
    can_act = case.state != Case.State.CLOSED and held_by is None and not excluded
    context = {
        "nav": "moderation",
        "tab": "queue",
        "case": case,
        "item": item,
        "author": item.author,
        "sensitive": sensitive,
        "why": _why(request, item, basis, category),
        "thread": thread,
        "thread_sensitive": {
            s.pk for s in thread["siblings"] if s.pk != item.pk and item_is_sensitive(s, severities)
        },
        "history": _author_history(item),
        "timeline": _timeline(item),
        "evidence": list(item.evidence.select_related("created_by").order_by("created_at")),
        "appeal": case.appeal,
        "contested": case.appeal.decision if case.appeal else None,
        "held_by": held_by,
        "excluded": excluded,
        "can_act": can_act,
        "form": DecisionForm(
            categories=_decision_categories(request),
            initial={"category": ""},
        ),
        "appeal_form": AppealDecisionForm(),
        "previous_url": (
            reverse("moderation:case", kwargs={"org_slug": organization.slug, "pk": previous})
            if previous
            else ""
        ),
        "age": timezone.now() - case.created_at,
        **_undo_context(request),
    }
    return render(request, "moderation/case.html", context)


def _case_for_action(request: HttpRequest, pk: int) -> Case:
    return get_object_or_404(
        Case.objects.filter(organization=_org(request)).select_related(
            "item__source", "item__author", "organization", "appeal__decision"
        ),
        pk=pk,
    )


@org_view(Capability.MODERATE)
@require_POST
def case_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Keep, hide, delete, escalate, reply or report; then straight to the next case."""
    case = _case_for_action(request, pk)
    here = redirect(_case_url(case))
    if case.state == Case.State.CLOSED:
        messages.error(request, _("This case is already closed."))
        return here
    if case.kind == Case.Kind.APPEAL:
        messages.error(request, _("An appeal is decided by upholding or reversing the decision."))
        return here
    actor = _actor(request)
    if not claim_case(actor, case):
        messages.error(request, _("Someone else is working on this case."))
        return here
    form = DecisionForm(request.POST, categories=_decision_categories(request))
    if not form.is_valid():
        _report_errors(request, form)
        return here
    action = form.cleaned_data["action"]
    try:
        decision = decide(
            actor,
            case.item,
            action,
            category=form.cleaned_data["category"],
            note=form.cleaned_data["note"],
            reply_text=form.cleaned_data["reply_text"],
        )
    except ModerationError as exc:
        messages.error(request, str(exc))
        return here
    if action in (Decision.Action.REPLY, Decision.Action.REPORT):
        # Answering or reporting does not settle the case: stay on it.
        _flash(request, _done_text(action))
        return here
    return _go_next(request, _done_text(action), decision)


@org_view(Capability.MODERATE)
@require_POST
def case_release(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_for_action(request, pk)
    release_case(_actor(request), case)
    _flash(request, _("Case #%(id)s released: someone else can take it.") % {"id": case.pk})
    return redirect(_queue_url(request))


@org_view(Capability.MODERATE)
@require_POST
def case_appeal_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Uphold or reverse the contested decision (someone other than who took it)."""
    case = _case_for_action(request, pk)
    here = redirect(_case_url(case))
    if case.kind != Case.Kind.APPEAL or case.appeal is None:
        messages.error(request, _("This case is not an appeal."))
        return here
    if case.state == Case.State.CLOSED:
        messages.error(request, _("This case is already closed."))
        return here
    actor = _actor(request)
    excluded = case.excluded_user_id is not None and case.excluded_user_id == request.user.pk
    if not excluded and not claim_case(actor, case):
        messages.error(request, _("Someone else is working on this case."))
        return here
    form = AppealDecisionForm(request.POST)
    if not form.is_valid():
        _report_errors(request, form)
        return here
    outcome = form.cleaned_data["outcome"]
    try:
        decide_appeal(actor, case.appeal, outcome, form.cleaned_data["note"])
    except ModerationError as exc:
        messages.error(request, str(exc))
        return here
    if outcome == Appeal.Outcome.REVERSED:
        text = _("Appeal decided: the decision is reversed and the item restored.")
    else:
        text = _("Appeal decided: the decision is upheld.")
    return _go_next(request, text)


@org_view(Capability.MODERATE)
@require_POST
def undo_last(request: HttpRequest) -> HttpResponse:
    """Undo a decision (the one posted, else the moderator's last) and go back to its case."""
    organization = _org(request)
    actor = _actor(request)
    target = _safe_next(request) or _queue_url(request)
    posted = request.POST.get("decision", "")
    if posted:
        decision = (
            Decision.objects.filter(organization=organization, pk=int(posted)).first()
            if posted.isdigit()
            else None
        )
    else:
        decision = last_undoable(actor, organization)
    if decision is None:
        messages.info(request, _("Nothing to undo."))
        return redirect(target)
    try:
        undo(actor, decision)
    except ModerationError as exc:
        messages.error(request, str(exc))
        return redirect(target)
    if decision.action in (Decision.Action.HIDE, Decision.Action.DELETE):
        text = _("Undone: the item is visible again.")
    else:
        text = _("Undone: the item is back in the queue.")
    _flash(request, text)
    reopened = (
        open_cases(organization)
        .filter(item_id=decision.item_id)
        .exclude(kind=Case.Kind.APPEAL)
        .order_by("-priority", "created_at")
        .first()
    )
    if reopened is not None and claim_case(actor, reopened):
        return redirect(_case_url(reopened))
    return redirect(target)


# --- the item page and appeals -----------------------------------------------------------------


@org_view(Capability.MODERATE)
@require_POST
def item_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """A decision taken from the item page (its moderation panel)."""
    item = get_object_or_404(Item.objects.filter(organization=_org(request)), pk=pk)
    form = DecisionForm(request.POST, categories=_decision_categories(request))
    back = redirect(_item_url(request, item.pk) + "#moderation")
    if not form.is_valid():
        _report_errors(request, form)
        return back
    action = form.cleaned_data["action"]
    try:
        decide(
            _actor(request),
            item,
            action,
            category=form.cleaned_data["category"],
            note=form.cleaned_data["note"],
            reply_text=form.cleaned_data["reply_text"],
        )
    except ModerationError as exc:
        messages.error(request, str(exc))
        return back
    messages.success(request, _done_text(action))
    return back


@org_view(Capability.MODERATE)
def appeal_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record an author's contestation of a hide or a deletion (entered by an agent)."""
    decision = get_object_or_404(
        Decision.objects.filter(organization=_org(request)).select_related(
            "item__author", "actor", "confirmed_by"
        ),
        pk=pk,
    )
    form = AppealForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            file_appeal(
                _actor(request),
                decision,
                form.cleaned_data["statement"],
                form.cleaned_data["received_via"],
            )
        except ModerationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _(
                    "Appeal recorded. It waits in the queue for a moderator other than the one who decided."
                ),
            )
            return redirect(_item_url(request, decision.item_id) + "#moderation")
    return render(
        request,
        "moderation/appeal_form.html",
        {
            "nav": "moderation",
            "decision": decision,
            "item": decision.item,
            "form": form,
            "suggestions": RECEIVED_VIA_SUGGESTIONS,
            "sensitive": is_sensitive(
                decision.category, _severities(request).get(decision.category)
            ),
        },
    )


# --- evidence dossiers -------------------------------------------------------------------------


def _dossier(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    organization = _org(request)
    item = get_object_or_404(
        Item.objects.filter(organization=organization).select_related(
            "author", "source", "organization"
        ),
        pk=pk,
    )
    if fmt == "pdf":
        body, content_type = dossiers.dossier_pdf(item), "application/pdf"
    else:
        body, content_type = dossiers.dossier_json(item), "application/json"
    record(
        _actor(request),
        "moderation.dossier.exported",
        organization=organization,
        obj=item,
        after={
            "format": fmt,
            "evidence": list(item.evidence.values_list("sha256", flat=True)),
        },
    )
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="dossier-{organization.slug}-{item.pk}.{fmt}"'
    )
    response["Cache-Control"] = "no-store"
    return response


@org_view(Capability.MODERATE)
def dossier_json(request: HttpRequest, pk: int) -> HttpResponse:
    return _dossier(request, pk, "json")


@org_view(Capability.MODERATE)
def dossier_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return _dossier(request, pk, "pdf")


# --- DSA statements of reasons -----------------------------------------------------------------


def _statement_bodies(request: HttpRequest) -> Iterator[dict[str, Any]] | None:
    form = StatementsForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return None
    decisions = statement_decisions(_org(request))
    data = form.cleaned_data if form.is_bound else {}
    if data.get("date_from"):
        decisions = decisions.filter(created_at__date__gte=data["date_from"])
    if data.get("date_to"):
        decisions = decisions.filter(created_at__date__lte=data["date_to"])
    return (statement(decision) for decision in decisions.iterator(chunk_size=500))


def _bad_dates() -> HttpResponse:
    return HttpResponseBadRequest(
        _("Give the dates as YYYY-MM-DD, the start before the end."),
        content_type="text/plain; charset=utf-8",
    )


@org_view(Capability.MODERATE)
def statements_json(request: HttpRequest) -> HttpResponse:
    """Statements of reasons as the Transparency Database's bulk body: ``{"statements": []}``."""
    bodies = _statement_bodies(request)
    if bodies is None:
        return _bad_dates()

    def chunks(items: Iterator[dict[str, Any]]) -> Iterator[str]:
        yield '{"statements": ['
        for index, body in enumerate(items):
            yield ("," if index else "") + "\n" + json.dumps(body, ensure_ascii=False)
        yield "\n]}\n"

    response = StreamingHttpResponse(chunks(bodies), content_type="application/json")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    slug = _org(request).slug
    response["Content-Disposition"] = f'attachment; filename="statements-{slug}-{stamp}.json"'
    return response


@org_view(Capability.MODERATE)
def statements_csv(request: HttpRequest) -> HttpResponse:
    bodies = _statement_bodies(request)
    if bodies is None:
        return _bad_dates()
    return stream_csv(
        list(CSV_FIELDS),
        (csv_row(body) for body in bodies),
        f"statements-{_org(request).slug}",
        request=request,
    )


# --- the decisions log -------------------------------------------------------------------------


def _decision_rows(decisions: QuerySet[Decision]) -> Iterator[list[Any]]:
    for decision in decisions.iterator(chunk_size=1000):
        item = decision.item
        yield [
            decision.pk,
            decision.created_at,
            item.pk,
            item.platform,
            item.author.handle,
            item.text,
            decision.action,
            decision.status,
            decision.category,
            decision.clause,
            decision.score,
            decision.automated,
            decision.actor.get_username() if decision.actor else "",
            decision.confirmed_by.get_username() if decision.confirmed_by else "",
            decision.note,
            decision.platform_status,
            (decision.platform_result or {}).get("detail", ""),
            decision.evidence.sha256 if decision.evidence else "",
            decision.reverses_id or "",
        ]


@org_view(Capability.MODERATE)
def decisions_log(request: HttpRequest) -> HttpResponse:
    """Every decision, filterable; shadow decisions (what a charter would have done) apart."""
    organization = _org(request)
    base = (
        Decision.objects.filter(organization=organization)
        .select_related("item__author", "item__source", "actor", "confirmed_by", "evidence")
        .order_by("-created_at", "-id")
    )
    names = _category_names(request)
    filterset = DecisionFilter(
        request.GET or None, queryset=base, request=request, category_names=names
    )
    decisions = filterset.qs if filterset.is_bound else base.exclude(status=Decision.Status.SHADOW)
    if request.GET.get("format") == "csv":
        return stream_csv(
            DECISION_COLUMNS,
            _decision_rows(decisions),
            f"decisions-{organization.slug}",
            request=request,
        )
    page = Paginator(decisions, PAGE_SIZE).get_page(request.GET.get("page"))
    shadow = request.GET.get("status") == Decision.Status.SHADOW
    in_force: dict[int, Decision] = {}
    if shadow:
        # What actually happened to each item, beside what the shadow charter would have done.
        item_ids = [decision.item_id for decision in page.object_list]
        for decision in (
            Decision.objects.filter(item_id__in=item_ids)
            .exclude(status__in=[Decision.Status.SHADOW, Decision.Status.SUPERSEDED])
            .order_by("created_at", "id")
        ):
            in_force[decision.item_id] = decision
    severities = _severities(request)
    rows = [
        {
            "decision": decision,
            "category_name": names.get(decision.category, decision.category),
            "status_badge": STATUS_BADGES.get(decision.status, ""),
            "platform_badge": PLATFORM_BADGES.get(decision.platform_status, ""),
            "sensitive": is_sensitive(decision.category, severities.get(decision.category)),
            "actual": in_force.get(decision.item_id),
            "undoable": decision.undoable,
        }
        for decision in page.object_list
    ]
    statements_form = StatementsForm(request.GET or None, auto_id="dsa_%s")
    context = {
        "nav": "moderation",
        "tab": "shadow" if shadow else "decisions",
        "filter": filterset,
        "page_obj": page,
        "rows": rows,
        "shadow": shadow,
        "filtered": filterset.is_bound
        and any(v for k, v in request.GET.items() if k not in ("page", "status")),
        "statements_form": statements_form,
        "htmx_target": "#results",
    }
    return _htmx_render(
        request, "moderation/decisions.html", "moderation/_decisions_results.html", context
    )


# --- the classifier ----------------------------------------------------------------------------


def _retrain_key(organization: Organization) -> str:
    return f"moderation.retrain:{organization.pk}"


@org_view(Capability.MANAGE)
def classifier(request: HttpRequest) -> HttpResponse:
    """The organization's classifier versions: which is active, retrain, roll back."""
    organization = _org(request)
    versions = (
        ClassifierVersion.objects.filter(organization=organization)
        .defer("model")
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )
    running = Job.objects.filter(
        dedupe_key=_retrain_key(organization), state__in=LIVE_STATES
    ).first()
    last = (
        Job.objects.filter(name="moderation.retrain", organization=organization)
        .order_by("-created_at", "-id")
        .first()
    )
    learnable = (
        Decision.objects.filter(
            organization=organization,
            automated=False,
            action__in=learning.LEARNED_ACTIONS,
            status__in=[Decision.Status.APPLIED, Decision.Status.OVERTURNED],
        )
        .values("item_id")
        .distinct()
        .count()
    )
    return render(
        request,
        "moderation/classifier.html",
        {
            "nav": "moderation",
            "tab": "classifier",
            "versions": versions,
            "active": next((v for v in versions if v.active), None),
            "running": running,
            "last_job": last,
            "learnable": learnable,
        },
    )


@org_view(Capability.MANAGE)
@require_POST
def classifier_retrain(request: HttpRequest) -> HttpResponse:
    organization = _org(request)
    job = enqueue(
        "moderation.retrain",
        {"organization_id": organization.pk, "user_id": request.user.pk},
        organization=organization,
        dedupe_key=_retrain_key(organization),
    )
    record(
        _actor(request),
        "moderation.classifier.retrain_requested",
        organization=organization,
        obj=job,
    )
    messages.success(
        request,
        _("Retraining started in the background; the new version is activated when it ends."),
    )
    return redirect("moderation:classifier", org_slug=organization.slug)


@org_view(Capability.MANAGE)
@require_POST
def classifier_activate(request: HttpRequest, pk: int) -> HttpResponse:
    organization = _org(request)
    version = get_object_or_404(
        ClassifierVersion.objects.filter(organization=organization).defer("model"), pk=pk
    )
    learning.activate(_actor(request), version)
    messages.success(
        request, _("Version %(version)s is now the active classifier.") % {"version": version}
    )
    return redirect("moderation:classifier", org_slug=organization.slug)


@org_view(Capability.MANAGE)
@require_POST
def classifier_default(request: HttpRequest) -> HttpResponse:
    organization = _org(request)
    learning.deactivate_all(_actor(request), organization)
    messages.success(request, _("The default model is used again."))
    return redirect("moderation:classifier", org_slug=organization.slug)
