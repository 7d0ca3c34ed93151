"""What the moderation pages share: the charter's categories (read once a request), the
flash that announces the last action with its undo, the way to the next case, and small
helpers for addresses, forms and htmx fragments."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from beffroi.analysis.moderation.decide import CategoryPolicy
from beffroi.moderation.filtersets import CaseFilter
from beffroi.moderation.models import Case, Decision
from beffroi.moderation.policy import charter_policies
from beffroi.moderation.services import last_undoable, next_case, open_cases
from beffroi.organizations.context import OrgRequest

PAGE_SIZE = 50

# Session keys: the last action (with its undo), the queue filters "next case" follows, the
# cases seen (for "previous case") and the cases skipped since the queue was last opened.
FLASH_KEY = "moderation_flash"
FILTERS_KEY = "moderation_queue_filters"
HISTORY_KEY = "moderation_history"
SKIPPED_KEY = "moderation_skipped"
HISTORY_LIMIT = 50

#: Where a request keeps the charter's categories once read.
_CATEGORIES_ATTRIBUTE = "_moderation_categories"


def charter_categories(request: OrgRequest) -> dict[str, CategoryPolicy]:
    """The charter's categories (the live version wins over one in shadow), once a request."""
    cached: dict[str, CategoryPolicy] | None = getattr(request, _CATEGORIES_ATTRIBUTE, None)
    if cached is None:
        live, shadow = charter_policies(request.organization)
        cached = {}
        for policy in (shadow, live):
            if policy is not None:
                cached.update(policy.categories)
        setattr(request, _CATEGORIES_ATTRIBUTE, cached)
    return cached


def category_names(request: OrgRequest) -> dict[str, str]:
    return {slug: category.name for slug, category in charter_categories(request).items()}


def severities(request: OrgRequest) -> dict[str, int]:
    return {slug: category.severity for slug, category in charter_categories(request).items()}


def decision_categories(request: OrgRequest) -> list[tuple[str, str]]:
    """The categories a person may cite in a decision, as form choices."""
    return [(slug, category.name) for slug, category in charter_categories(request).items()]


def case_url(case: Case) -> str:
    return reverse("moderation:case", kwargs={"org_slug": case.organization.slug, "pk": case.pk})


def queue_url(request: OrgRequest) -> str:
    return reverse("moderation:queue", kwargs={"org_slug": request.org.organization.slug})


def item_url(request: OrgRequest, item_id: int) -> str:
    return reverse("items:item", kwargs={"org_slug": request.org.organization.slug, "pk": item_id})


def safe_next(request: HttpRequest) -> str:
    """The ``next`` address posted or asked for, when it stays on this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def done_text(action: str) -> str:
    texts = {
        Decision.Action.KEEP: _("Kept."),
        # What was requested, not what happened: the platform answers later (the item page
        # and the decisions log say what it did).
        Decision.Action.HIDE: _("Hiding requested from the platform."),
        Decision.Action.DELETE: _("Deletion requested from the platform."),
        Decision.Action.ESCALATE: _("Escalated."),
        Decision.Action.REPLY: _("Reply requested: it is published once the platform accepts it."),
        Decision.Action.REPORT: _("Report requested from the platform."),
    }
    return str(texts.get(action, _("Done.")))  # type: ignore[call-overload]


def flash(request: HttpRequest, text: str, undoable: Decision | None = None) -> None:
    """The result of the last action, shown (and announced) on the next page with its undo."""
    request.session[FLASH_KEY] = {"text": text, "undo": undoable.pk if undoable else None}


def pop_flash(request: OrgRequest) -> dict[str, Any] | None:
    shown = request.session.pop(FLASH_KEY, None)
    if not isinstance(shown, dict):
        return None
    decision_id = shown.get("undo")
    shown["decision"] = (
        request.org.scoped(Decision).filter(pk=decision_id, status=Decision.Status.APPLIED).first()
        if decision_id
        else None
    )
    return shown


def undo_context(request: OrgRequest) -> dict[str, Any]:
    """The flash of the last action and the moderator's last decision that can be undone."""
    return {
        "flash": pop_flash(request),
        "undoable": last_undoable(request.org.actor, request.org.organization),
    }


def filtered_open_cases(request: OrgRequest, query: QueryDict) -> QuerySet[Case]:
    base = open_cases(request.org.organization)
    filterset = CaseFilter(
        query or None, queryset=base, request=request, category_names=category_names(request)
    )
    return filterset.qs if filterset.is_bound else base


def claim_next(request: OrgRequest, releasing: Case | None = None) -> Case | None:
    """Claim the next case of the queue, as filtered when the moderator last looked at it,
    past the cases skipped since; ``releasing``: the case being skipped, let go of first."""
    cases = filtered_open_cases(request, QueryDict(request.session.get(FILTERS_KEY, "")))
    skipped = list(request.session.get(SKIPPED_KEY, []))
    if skipped:
        cases = cases.exclude(pk__in=skipped)
    return next_case(request.org.actor, request.org.organization, cases, releasing=releasing)


def go_next(request: OrgRequest, text: str, undoable: Decision | None = None) -> HttpResponse:
    """After a decision: straight to the next case, or back to the queue when none is left."""
    case = claim_next(request)
    # The sentences are translated apart from the f-string: xgettext skips calls inside one.
    if case is None:
        last = _("No more cases for you in the queue.")
        flash(request, f"{text} {last}", undoable)
        return redirect(queue_url(request))
    following = _("Next case.")
    flash(request, f"{text} {following}", undoable)
    return redirect(case_url(case))


def report_errors(request: HttpRequest, form: Any) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))


def htmx_render(
    request: HttpRequest, page: str, fragment: str, context: dict[str, Any]
) -> HttpResponse:
    """The whole page, or only its results for an htmx request (the filters' live update)."""
    htmx = getattr(request, "htmx", None)
    partial = bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]
    response = render(request, fragment if partial else page, context)
    patch_vary_headers(response, ("HX-Request",))
    return response
