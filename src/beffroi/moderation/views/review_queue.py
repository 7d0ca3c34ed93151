"""The review queue: open cases filtered and ordered, the next case, a decision on a selection."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from beffroi.core.sessions import keep_in_session
from beffroi.moderation.display import is_sensitive, percent, platform_effect
from beffroi.moderation.filtersets import QUEUE_ORDERS, CaseFilter
from beffroi.moderation.forms import BULK_ACTIONS, BulkForm
from beffroi.moderation.models import Case, Decision
from beffroi.moderation.services import (
    ASSIGNMENT_TIMEOUT,
    decide_cases,
    escalations_for,
    open_cases,
)
from beffroi.moderation.views.common import (
    FILTERS_KEY,
    HISTORY_LIMIT,
    PAGE_SIZE,
    SKIPPED_KEY,
    case_url,
    category_names,
    claim_next,
    flash,
    htmx_render,
    queue_url,
    report_errors,
    safe_next,
    severities,
    undo_context,
)
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability


def _queue_row(case: Case, by_category: dict[str, int], names: dict[str, str]) -> dict[str, Any]:
    stale = timezone.now() - ASSIGNMENT_TIMEOUT
    return {
        "case": case,
        "held": case.state == Case.State.ASSIGNED
        and case.assigned_at is not None
        and case.assigned_at >= stale,
        "item": case.item,
        "sensitive": is_sensitive(case.category, case.severity or by_category.get(case.category)),
        "category_name": names.get(case.category, case.category),
        "confidence": percent(case.score),
        # An appeal contests a decision: what it did on the platform, beside the case.
        "platform": platform_effect(case.decision)
        if case.kind == Case.Kind.APPEAL and case.decision is not None
        else None,
    }


@org_view(Capability.MODERATE)
def queue(request: OrgRequest) -> HttpResponse:
    """Open cases, filtered and ordered; a selection can be decided at once."""
    organization = request.org.organization
    base = (
        open_cases(organization)
        .select_related(
            "item__author",
            "item__source",
            "assignee",
            "organization",
            "decision__item",
            "escalated_to",
        )
        .order_by(*QUEUE_ORDERS["priority"])
    )
    names = category_names(request)
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
    by_category = severities(request)
    by_kind = dict(open_cases(organization).order_by().values_list("kind").annotate(n=Count("id")))
    tabs = [("", _("All"), sum(by_kind.values()))] + [
        (value, label, by_kind.get(value, 0)) for value, label in Case.Kind.choices
    ]
    context = {
        "nav": "moderation",
        "tab": "queue",
        "filter": filterset,
        "page_obj": page,
        "rows": [_queue_row(case, by_category, names) for case in page.object_list],
        "kind_tabs": tabs,
        "current_kind": request.GET.get("kind", ""),
        "filtered": filterset.is_bound
        and any(v for k, v in request.GET.items() if k not in ("page", "sort")),
        "bulk_actions": BULK_ACTIONS,
        # Escalations sent to this person (or to the leads, when they are one): in-app notice.
        "escalated_to_me": escalations_for(request.org.actor, organization).count(),
        "htmx_target": "#results",
        **undo_context(request),
    }
    return htmx_render(request, "moderation/queue.html", "moderation/_queue_results.html", context)


@org_view(Capability.MODERATE)
@require_POST
def queue_next(request: OrgRequest) -> HttpResponse:
    """Claim the next case; with ``skip``, first let go of the case being skipped."""
    skip = request.POST.get("skip", "")
    skipped_case = request.org.scoped(Case).filter(pk=int(skip)).first() if skip.isdigit() else None
    if skipped_case is not None:
        skipped = [pk for pk in request.session.get(SKIPPED_KEY, []) if isinstance(pk, int)]
        request.session[SKIPPED_KEY] = [*skipped, skipped_case.pk][-HISTORY_LIMIT:]
    case = claim_next(request, releasing=skipped_case)
    if case is None:
        flash(request, _("No more cases for you in the queue."))
        return redirect(queue_url(request))
    return redirect(case_url(case))


@org_view(Capability.MODERATE)
@require_POST
def queue_bulk(request: OrgRequest) -> HttpResponse:
    """The same decision on each selected case that nobody else holds."""
    target = safe_next(request) or queue_url(request)
    form = BulkForm(request.POST, cases=request.org.scoped(Case).select_related("item"))
    if not form.is_valid():
        report_errors(request, form)
        return redirect(target)
    action = form.cleaned_data["action"]
    outcome = decide_cases(
        request.org.actor, form.cleaned_data["cases"], action, note=form.cleaned_data["note"]
    )
    label = Decision.Action(action).label
    if outcome.done and action in (Decision.Action.HIDE, Decision.Action.DELETE):
        # Requested, not done: the platform answers later (each item page says what it did).
        messages.success(
            request,
            ngettext(
                "%(action)s: %(count)s case decided, requested from the platform.",
                "%(action)s: %(count)s cases decided, requested from the platform.",
                outcome.done,
            )
            % {"action": label, "count": outcome.done},
        )
    elif outcome.done:
        messages.success(
            request,
            ngettext(
                "%(action)s: %(count)s case decided.",
                "%(action)s: %(count)s cases decided.",
                outcome.done,
            )
            % {"action": label, "count": outcome.done},
        )
    if outcome.held:
        messages.warning(
            request,
            ngettext(
                "%(count)s case is being handled by someone else: left as it is.",
                "%(count)s cases are being handled by someone else: left as they are.",
                outcome.held,
            )
            % {"count": outcome.held},
        )
    if outcome.skipped:
        messages.warning(
            request,
            ngettext(
                "%(count)s case was closed or is an appeal: left as it is.",
                "%(count)s cases were closed or are appeals: left as they are.",
                outcome.skipped,
            )
            % {"count": outcome.skipped},
        )
    for failure in outcome.failures:
        messages.error(request, failure)
    return redirect(target)
