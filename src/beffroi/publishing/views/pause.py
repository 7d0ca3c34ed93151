"""The crisis switch: pausing publishing (the organization, one account, a label's posts) and
resuming it; the periods planned ahead when nothing is published (an electoral reserve)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.models import Organization
from beffroi.organizations.roles import Capability
from beffroi.publishing import calendar, services
from beffroi.publishing.context_processors import pauses_in_force
from beffroi.publishing.models import Pause, PauseWindow, Post, PostLabel
from beffroi.sources.models import Source

#: Pauses ended lately, shown under the active ones (what happened in the last crisis).
ENDED_SHOWN = 10
#: How the page writes the moment a pause was confirmed (to the second: it is what counts).
CONFIRMED_FORMAT = "%d/%m/%Y %H:%M:%S"


class PauseForm(forms.Form):
    scope = forms.ChoiceField(
        label=gettext_lazy("What to pause"),
        choices=Pause.Scope.choices,
        initial=Pause.Scope.ORGANIZATION,
        widget=forms.RadioSelect,
    )
    source = forms.ModelChoiceField(
        label=gettext_lazy("Account (when pausing one account)"),
        queryset=Source.objects.none(),
        required=False,
    )
    label = forms.ModelChoiceField(
        label=gettext_lazy("Label (when pausing a label's posts)"),
        queryset=PostLabel.objects.none(),
        required=False,
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Every member reads it on every page while the pause lasts."),
    )
    confirm = forms.BooleanField(
        label=gettext_lazy("I understand nothing will be published until the pause is lifted"),
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sources = Source.objects.for_org(organization).filter(kind=Source.Kind.ACCOUNT)
        self.fields["source"].queryset = sources.order_by("name")  # type: ignore[attr-defined]
        self.fields["label"].queryset = PostLabel.objects.for_org(organization)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        scope = data.get("scope")
        if scope == Pause.Scope.SOURCE and not data.get("source"):
            self.add_error("source", _("Choose the account to pause."))
        if scope == Pause.Scope.LABEL and not data.get("label"):
            self.add_error("label", _("Choose the label whose posts to pause."))
        # Only what the scope names is paused.
        if scope != Pause.Scope.SOURCE:
            data["source"] = None
        if scope != Pause.Scope.LABEL:
            data["label"] = None
        return data


class WindowForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=120,
        help_text=gettext_lazy("Shown on the calendar (Electoral reserve)."),
    )
    starts_at = forms.DateTimeField(
        label=gettext_lazy("From"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=gettext_lazy("Local time."),
    )
    ends_at = forms.DateTimeField(
        label=gettext_lazy("Until"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=gettext_lazy("Local time. Nothing is published until then."),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _pause_url(organization: Organization) -> str:
    return reverse("publishing:pause", args=[organization.slug])


def _confirmed(request: OrgRequest, paused: Pause) -> None:
    """The flash of a pause: when it took hold, and the posts that were already on their way."""
    confirmed = timezone.localtime(paused.confirmed_at or paused.started_at)
    messages.success(
        request,
        _("Publishing paused. Confirmed at %(time)s: nothing is published from that moment on.")
        % {"time": confirmed.strftime(CONFIRMED_FORMAT)},
    )
    if paused.in_flight:
        messages.warning(
            request,
            ngettext(
                "%(count)d post was already being sent at that moment: "
                "its page shows whether the platform published it.",
                "%(count)d posts were already being sent at that moment: "
                "their pages show whether the platform published them.",
                paused.in_flight,
            )
            % {"count": paused.in_flight},
        )


@org_view(Capability.VIEW)
def pause_page(request: OrgRequest) -> HttpResponse:
    """The pauses in force (who, when, why) and the periods planned without publishing; an
    administrator pauses publishing here."""
    organization = request.org.organization
    form = PauseForm(request.POST or None, organization=organization)
    if request.method == "POST":
        request.org.require(Capability.MANAGE)
        if form.is_valid():
            try:
                paused = services.pause(
                    request.org.actor,
                    organization,
                    form.cleaned_data["reason"],
                    source=form.cleaned_data["source"],
                    label=form.cleaned_data["label"],
                )
            except services.PublishingError as exc:
                form.add_error("reason", str(exc))
            else:
                _confirmed(request, paused)
                return redirect(_pause_url(organization))
    now = timezone.now()
    windows = list(request.org.scoped(PauseWindow).filter(ends_at__gt=now))
    ended = (
        request.org.scoped(Pause)
        .filter(ended_at__isnull=False)
        .select_related("source", "label", "started_by", "ended_by")
        .order_by("-ended_at")[:ENDED_SHOWN]
    )
    return render(
        request,
        "publishing/pause.html",
        {
            "nav": "publishing",
            "pauses": pauses_in_force(organization.pk),
            "ended": ended,
            "windows": [
                (window, calendar.planned_inside(organization, window.starts_at, window.ends_at))
                for window in windows
            ],
            "form": form,
            "can_manage": request.org.can(Capability.MANAGE),
        },
    )


@org_view(Capability.MANAGE)
@require_POST
def pause_resume(request: OrgRequest, pk: int) -> HttpResponse:
    organization = request.org.organization
    try:
        services.resume(request.org.actor, request.org.get(Pause, pk=pk))
    except services.PublishingError as exc:
        messages.error(request, str(exc))
    else:
        unattempted = reverse("publishing:list", args=[organization.slug])
        messages.success(
            request,
            format_html(
                '{} <a href="{}?state={}">{}</a>',
                _(
                    "Publishing resumed. The posts whose time passed during the pause stay "
                    "“not attempted”: a person must publish or reschedule each one."
                ),
                unattempted,
                Post.State.UNATTEMPTED.value,
                _("See the posts not attempted"),
            ),
        )
    return redirect(_pause_url(organization))


@org_view(Capability.MANAGE)
def window_edit(request: OrgRequest, pk: int | None = None) -> HttpResponse:
    """Plan (or change) a period without publishing, in local time; says how many posts
    planned then it stops."""
    organization = request.org.organization
    window = request.org.get(PauseWindow, pk=pk) if pk is not None else None
    initial = (
        {
            "name": window.name,
            "starts_at": window.starts_at,
            "ends_at": window.ends_at,
            "reason": window.reason,
        }
        if window is not None
        else None
    )
    form = WindowForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = services.save_window(
                request.org.actor,
                organization,
                data["name"],
                data["starts_at"],
                data["ends_at"],
                data["reason"],
                window=window,
            )
        except services.PublishingError as exc:
            form.add_error("ends_at", str(exc))
        else:
            messages.success(request, _("Period without publishing saved."))
            inside = calendar.planned_inside(organization, saved.starts_at, saved.ends_at)
            if inside:
                messages.warning(request, _planned_inside_text(inside))
            return redirect(_pause_url(organization))
    inside = (
        calendar.planned_inside(organization, window.starts_at, window.ends_at)
        if window is not None
        else 0
    )
    return render(
        request,
        "publishing/window_form.html",
        {
            "nav": "publishing",
            "form": form,
            "window": window,
            "inside_text": _planned_inside_text(inside) if inside else "",
        },
    )


def _planned_inside_text(count: int) -> str:
    return ngettext(
        "%(count)d post planned in this period will not be published while it lasts: "
        "move it, or it stays “not attempted”.",
        "%(count)d posts planned in this period will not be published while it lasts: "
        "move them, or they stay “not attempted”.",
        count,
    ) % {"count": count}


@org_view(Capability.MANAGE)
@require_POST
def window_delete(request: OrgRequest, pk: int) -> HttpResponse:
    window = request.org.get(PauseWindow, pk=pk)
    services.delete_window(request.org.actor, window)
    messages.success(request, _("Period without publishing removed."))
    return redirect(_pause_url(request.org.organization))
