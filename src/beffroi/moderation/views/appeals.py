"""Appeals: an author's contestation recorded by an agent, and its judgement from the case
(by someone other than the person who took the contested decision)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from beffroi.moderation.display import is_sensitive
from beffroi.moderation.forms import RECEIVED_VIA_SUGGESTIONS, AppealDecisionForm, AppealForm
from beffroi.moderation.models import Appeal, Decision
from beffroi.moderation.services import ModerationError, decide_appeal_case, file_appeal
from beffroi.moderation.views.cases import case_for_action
from beffroi.moderation.views.common import (
    case_url,
    go_next,
    item_url,
    report_errors,
    severities,
)
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability


@org_view(Capability.MODERATE)
def appeal_create(request: OrgRequest, pk: int) -> HttpResponse:
    """Record an author's contestation of a hide or a deletion (entered by an agent)."""
    decision = request.org.get(
        Decision.objects.select_related("item__author", "actor", "confirmed_by"), pk=pk
    )
    form = AppealForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            file_appeal(
                request.org.actor,
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
            return redirect(item_url(request, decision.item_id) + "#moderation")
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
                decision.category, severities(request).get(decision.category)
            ),
        },
    )


@org_view(Capability.MODERATE)
@require_POST
def case_appeal_decide(request: OrgRequest, pk: int) -> HttpResponse:
    """Uphold or reverse the contested decision (someone other than who took it)."""
    case = case_for_action(request, pk)
    here = redirect(case_url(case))
    form = AppealDecisionForm(request.POST)
    if not form.is_valid():
        report_errors(request, form)
        return here
    outcome = form.cleaned_data["outcome"]
    try:
        decide_appeal_case(request.org.actor, case, outcome, form.cleaned_data["note"])
    except ModerationError as exc:
        messages.error(request, str(exc))
        return here
    if outcome == Appeal.Outcome.REVERSED:
        # The restoring is the platform's to do: said as requested, not as done.
        text = _(
            "Appeal decided: the decision is reversed; the item is visible again once the "
            "platform has restored it."
        )
    else:
        text = _("Appeal decided: the decision is upheld.")
    return go_next(request, text)
