"""Decisions: the log (filterable, CSV, the shadow charter's tab), a decision taken from an
item page, and undo."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from beffroi.core.exports import stream_csv
from beffroi.items.models import Item
from beffroi.moderation.display import STATUS_BADGES, is_sensitive, platform_effect
from beffroi.moderation.filtersets import DecisionFilter
from beffroi.moderation.forms import DecisionForm, StatementsForm
from beffroi.moderation.models import Decision
from beffroi.moderation.services import (
    ModerationError,
    decide,
    escalate_item,
    last_undoable,
    retry_platform_action,
    undo_and_reopen,
)
from beffroi.moderation.views.common import (
    PAGE_SIZE,
    case_url,
    category_names,
    decision_categories,
    done_text,
    flash,
    htmx_render,
    item_url,
    queue_url,
    report_errors,
    safe_next,
    severities,
)
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability

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
    "platform_effect",
    "platform_effect_text",
    "platform_detail",
    "evidence_sha256",
    "reverses",
]


def _decision_rows(decisions: QuerySet[Decision]) -> Iterator[list[Any]]:
    for decision in decisions.iterator(chunk_size=1000):
        item = decision.item
        effect = platform_effect(decision)
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
            effect.effect,
            effect.sentence,
            effect.detail,
            decision.evidence.sha256 if decision.evidence else "",
            decision.reverses_id or "",
        ]


@org_view(Capability.MODERATE)
def decisions_log(request: OrgRequest) -> HttpResponseBase:
    """Every decision, filterable; shadow decisions (what a charter would have done) apart."""
    organization = request.org.organization
    base = (
        request.org.scoped(Decision)
        .select_related("item__author", "item__source", "actor", "confirmed_by", "evidence")
        .order_by("-created_at", "-id")
    )
    names = category_names(request)
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
            request.org.scoped(Decision)
            .filter(item_id__in=item_ids)
            .exclude(status__in=[Decision.Status.SHADOW, Decision.Status.SUPERSEDED])
            .order_by("created_at", "id")
        ):
            in_force[decision.item_id] = decision
    by_category = severities(request)
    rows = [
        {
            "decision": decision,
            "category_name": names.get(decision.category, decision.category),
            "status_badge": STATUS_BADGES.get(decision.status, ""),
            "platform": platform_effect(decision),
            "sensitive": is_sensitive(decision.category, by_category.get(decision.category)),
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
    return htmx_render(
        request, "moderation/decisions.html", "moderation/_decisions_results.html", context
    )


@org_view(Capability.MODERATE)
@require_POST
def item_decide(request: OrgRequest, pk: int) -> HttpResponse:
    """A decision taken from the item page (its moderation panel)."""
    item = request.org.get(Item, pk=pk)
    form = DecisionForm(request.POST, categories=decision_categories(request))
    back = redirect(item_url(request, item.pk) + "#moderation")
    if not form.is_valid():
        report_errors(request, form)
        return back
    action = form.cleaned_data["action"]
    try:
        if action == Decision.Action.ESCALATE:
            # From the item page: to the administrators, by the one rule of escalation.
            escalate_item(
                request.org.actor,
                item,
                note=form.cleaned_data["note"],
                category=form.cleaned_data["category"],
            )
            messages.success(request, _("Escalated to the administrators."))
            return back
        decide(
            request.org.actor,
            item,
            action,
            category=form.cleaned_data["category"],
            note=form.cleaned_data["note"],
            reply_text=form.cleaned_data["reply_text"],
        )
    except ModerationError as exc:
        messages.error(request, str(exc))
        return back
    messages.success(request, done_text(action))
    return back


@org_view(Capability.MODERATE)
@require_POST
def undo_last(request: OrgRequest) -> HttpResponse:
    """Undo a decision (the one posted, else the moderator's last) and go back to its case."""
    target = safe_next(request) or queue_url(request)
    posted = request.POST.get("decision", "")
    if posted:
        decision = (
            request.org.scoped(Decision).filter(pk=int(posted)).first()
            if posted.isdigit()
            else None
        )
    else:
        decision = last_undoable(request.org.actor, request.org.organization)
    if decision is None:
        messages.info(request, _("Nothing to undo."))
        return redirect(target)
    try:
        reversal, reopened = undo_and_reopen(request.org.actor, decision)
    except ModerationError as exc:
        messages.error(request, str(exc))
        return redirect(target)
    if reversal.platform_status == Decision.PlatformStatus.PENDING:
        text = _("Undone: restoring the item requested from the platform.")
    elif decision.action in (Decision.Action.HIDE, Decision.Action.DELETE):
        # The restriction never took effect on the platform: the item was visible all along.
        text = _("Undone: the item stays visible.")
    else:
        text = _("Undone: the item is back in the queue.")
    flash(request, text)
    if reopened is not None:
        return redirect(case_url(reopened))
    return redirect(target)


@org_view(Capability.MODERATE)
@require_POST
def platform_retry(request: OrgRequest, pk: int) -> HttpResponse:
    """Send an action the platform refused to it again (after reconnecting the account)."""
    decision = request.org.get(Decision.objects.select_related("item"), pk=pk)
    target = safe_next(request) or item_url(request, decision.item_id) + "#moderation"
    try:
        retry_platform_action(request.org.actor, decision)
    except ModerationError as exc:
        messages.error(request, str(exc))
        return redirect(target)
    messages.success(request, _("Sent to the platform again: its answer will show here."))
    return redirect(target)
