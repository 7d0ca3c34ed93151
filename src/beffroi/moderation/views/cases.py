"""A case: opening it does not take it (Take does); everything needed to decide (the item, why it was flagged,
its thread, its author's history, every decision on it) and the decision itself."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from beffroi.core.sessions import keep_in_session
from beffroi.items.models import Item
from beffroi.moderation.display import is_sensitive, item_is_sensitive, timeline, why
from beffroi.moderation.forms import AppealDecisionForm, DecisionForm, EscalationForm
from beffroi.moderation.models import Case, Decision
from beffroi.moderation.services import (
    ModerationError,
    decide_case,
    escalate_case,
    escalation_candidates,
    holder,
    is_lead,
    lock_expires_at,
    release_case,
    take_case,
    take_over_case,
    take_refusal,
    touch_case,
)
from beffroi.moderation.views.common import (
    HISTORY_KEY,
    HISTORY_LIMIT,
    case_url,
    charter_categories,
    decision_categories,
    done_text,
    flash,
    go_next,
    queue_url,
    report_errors,
    severities,
    undo_context,
)
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability

#: Siblings shown on each side of the item in the thread around it.
SIBLINGS_AROUND = 8
#: How many of the author's other items and past decisions a case shows.
AUTHOR_HISTORY = 10


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


def _thread_around(item: Item) -> dict[str, Any]:
    """The post, the parent and the item's siblings (oldest first), around the item."""
    related = (
        Item.objects.for_org(item.organization_id)
        .filter(platform=item.platform)
        .select_related("author")
    )
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
    items = Item.objects.for_org(item.organization_id).filter(author_id=item.author_id)
    counts = items.aggregate(
        total=Count("id"),
        hidden=Count("id", filter=Q(visibility=Item.Visibility.HIDDEN)),
        deleted=Count("id", filter=Q(visibility=Item.Visibility.DELETED)),
    )
    by_author = (
        Decision.objects.for_org(item.organization_id)
        .filter(item__author_id=item.author_id)
        .exclude(item_id=item.pk)
    )
    decisions = (
        by_author.filter(automated=False)
        .exclude(status__in=[Decision.Status.SHADOW, Decision.Status.SUPERSEDED])
        .select_related("item", "actor")
        .order_by("-created_at", "-id")[:AUTHOR_HISTORY]
    )
    # Counted only where the platform did it (or a demo source simulated it).
    automatic = by_author.filter(
        automated=True,
        status=Decision.Status.APPLIED,
        platform_status=Decision.PlatformStatus.DONE,
    ).count()
    return {
        "counts": counts,
        "automatic": automatic,
        "items": items.exclude(pk=item.pk).order_by("-created_at", "-id")[:AUTHOR_HISTORY],
        "decisions": decisions,
    }


@org_view(Capability.MODERATE)
def case_detail(request: OrgRequest, pk: int) -> HttpResponse:
    """One case: everything needed to decide, and the keys to do it. Opening it takes
    nothing: the person takes it (Take, ``t``), or decides at once on a case nobody holds."""
    organization = request.org.organization
    case = request.org.get(
        Case.objects.select_related(
            "item__author",
            "item__source",
            "assignee",
            "decision__actor",
            "decision__confirmed_by",
            "appeal__entered_by",
            "organization",
            "escalated_to",
        ),
        pk=pk,
    )
    user = request.user
    lead = is_lead(user, organization.pk)
    current = holder(case)
    mine = current is not None and current.pk == user.pk
    if mine:
        touch_case(request.org.actor, case)  # opening it is activity: the lock starts again
        case.refresh_from_db(fields=["assigned_at"])
    held_by = current if current is not None and not mine else None
    excluded = (
        case.state != Case.State.CLOSED
        and case.excluded_user_id is not None
        and case.excluded_user_id == user.pk
    )
    # Why this person may not act on the case (held by someone else, not for them), if so.
    refusal = take_refusal(user, case, lead=lead) if case.state != Case.State.CLOSED else None
    _remember(request, case)
    item = case.item
    by_category = severities(request)
    basis = case.decision
    category = case.category or (basis.category if basis else "")
    sensitive = is_sensitive(category, case.severity or by_category.get(category))
    thread = _thread_around(item)
    previous = _previous_case_id(request, case)
    can_act = case.state != Case.State.CLOSED and refusal is None
    context = {
        "nav": "moderation",
        "tab": "queue",
        "case": case,
        "item": item,
        "author": item.author,
        "sensitive": sensitive,
        "why": why(item, basis, category, charter_categories(request)),
        "thread": thread,
        "thread_sensitive": {
            s.pk
            for s in thread["siblings"]
            if s.pk != item.pk and item_is_sensitive(s, by_category)
        },
        "history": _author_history(item),
        "timeline": timeline(item),
        "evidence": list(item.evidence.select_related("created_by").order_by("created_at")),
        "appeal": case.appeal,
        "contested": case.appeal.decision if case.appeal else None,
        "held_by": held_by,
        "held_by_me": mine,
        "lock_expires_at": lock_expires_at(case),
        "excluded": excluded,
        "refusal": refusal if held_by is None else None,
        "can_act": can_act,
        "can_take": can_act and not mine,
        "can_take_over": held_by is not None and lead and not excluded,
        "escalation_form": EscalationForm(members=escalation_candidates(organization.pk, user)),
        "form": DecisionForm(categories=decision_categories(request), initial={"category": ""}),
        "appeal_form": AppealDecisionForm(),
        "previous_url": (
            reverse("moderation:case", kwargs={"org_slug": organization.slug, "pk": previous})
            if previous
            else ""
        ),
        "age": timezone.now() - case.created_at,
        **undo_context(request),
    }
    return render(request, "moderation/case.html", context)


def case_for_action(request: OrgRequest, pk: int) -> Case:
    """The case a decision is posted on (404 when not this organization's)."""
    return request.org.get(
        Case.objects.select_related(
            "item__source", "item__author", "organization", "appeal__decision"
        ),
        pk=pk,
    )


@org_view(Capability.MODERATE)
@require_POST
def case_decide(request: OrgRequest, pk: int) -> HttpResponse:
    """Keep, hide, delete, escalate, reply or report; then straight to the next case."""
    case = case_for_action(request, pk)
    here = redirect(case_url(case))
    form = DecisionForm(request.POST, categories=decision_categories(request))
    if not form.is_valid():
        report_errors(request, form)
        return here
    action = form.cleaned_data["action"]
    if action == Decision.Action.ESCALATE:
        return _escalate(request, case, form.cleaned_data["note"], form.cleaned_data["category"])
    try:
        decision = decide_case(
            request.org.actor,
            case,
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
        flash(request, done_text(action))
        return here
    return go_next(request, done_text(action), decision)


@org_view(Capability.MODERATE)
@require_POST
def case_release(request: OrgRequest, pk: int) -> HttpResponse:
    case = case_for_action(request, pk)
    release_case(request.org.actor, case)
    flash(request, _("Case #%(id)s released: someone else can take it.") % {"id": case.pk})
    return redirect(queue_url(request))


def _escalate(request: OrgRequest, case: Case, note: str, category: str) -> HttpResponse:
    """Escalate to the member chosen (or the administrators), then on to the next case."""
    user = request.user
    form = EscalationForm(
        request.POST, members=escalation_candidates(case.organization_id, user), user=user
    )
    if not form.is_valid():
        report_errors(request, form)
        return redirect(case_url(case))
    target = form.cleaned_data["escalate_to"]
    try:
        decision = escalate_case(request.org.actor, case, to=target, note=note, category=category)
    except ModerationError as exc:
        messages.error(request, str(exc))
        return redirect(case_url(case))
    text = (
        _("Escalated to %(name)s.") % {"name": target.get_username()}
        if target is not None
        else _("Escalated to the administrators.")
    )
    return go_next(request, text, decision)


@org_view(Capability.MODERATE)
@require_POST
def case_take(request: OrgRequest, pk: int) -> HttpResponse:
    """Take the case: it is the person's until they decide, let it go or stay away."""
    case = case_for_action(request, pk)
    try:
        take_case(request.org.actor, case)
    except ModerationError as exc:
        messages.error(request, str(exc))
    else:
        flash(request, _("You have taken case #%(id)s.") % {"id": case.pk})
    return redirect(case_url(case))


@org_view(Capability.MANAGE)
@require_POST
def case_take_over(request: OrgRequest, pk: int) -> HttpResponse:
    """An administrator takes a case someone else holds (recorded in the audit trail)."""
    case = case_for_action(request, pk)
    previous = holder(case)
    try:
        take_over_case(request.org.actor, case)
    except ModerationError as exc:
        messages.error(request, str(exc))
    else:
        flash(
            request,
            _("You have taken over case #%(id)s from %(name)s.")
            % {"id": case.pk, "name": previous.get_username() if previous else "–"},
        )
    return redirect(case_url(case))
