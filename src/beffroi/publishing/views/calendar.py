"""The publishing calendar: the month or the week of posts, its table and CSV export, moving a
post to another day; the calendar feed's address and the feed itself."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from beffroi.accounts.views import safe_next
from beffroi.core.exports import stream_csv
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.models import Organization
from beffroi.organizations.roles import Capability
from beffroi.publishing import calendar, feed, services
from beffroi.publishing.models import Post, PostLabel
from beffroi.sources.models import Source

VIEWS = ("month", "week", "list")
#: Rows of the table of the month per page (the CSV export has them all).
TABLE_PAGE_SIZE = 200


class CalendarFilterForm(forms.Form):
    """The calendar's filters (a value that is not the organization's is ignored)."""

    source = forms.ModelChoiceField(
        label=gettext_lazy("Account"),
        queryset=Source.objects.none(),
        required=False,
        empty_label=gettext_lazy("All"),
    )
    label = forms.ModelChoiceField(
        label=gettext_lazy("Label"),
        queryset=PostLabel.objects.none(),
        required=False,
        empty_label=gettext_lazy("All"),
    )
    campaign = forms.ChoiceField(label=gettext_lazy("Campaign"), required=False)

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sources = Source.objects.for_org(organization).filter(kind=Source.Kind.ACCOUNT)
        self.fields["source"].queryset = sources.order_by("name")  # type: ignore[attr-defined]
        self.fields["label"].queryset = PostLabel.objects.for_org(organization)  # type: ignore[attr-defined]
        campaigns = (
            Post.objects.for_org(organization)
            .exclude(campaign="")
            .order_by("campaign")
            .values_list("campaign", flat=True)
            .distinct()
        )
        self.fields["campaign"].choices = [  # type: ignore[attr-defined]
            ("", _("All")),
            *((name, name) for name in campaigns),
        ]

    def filters(self) -> calendar.Filters:
        self.is_valid()
        data = self.cleaned_data  # the fields that were valid only
        source, label = data.get("source"), data.get("label")
        return calendar.Filters(
            source_id=source.pk if source is not None else None,
            label_id=label.pk if label is not None else None,
            campaign=data.get("campaign") or "",
        )


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return None


def _title(period: calendar.Period) -> str:
    if period.kind == "month":
        return formats.date_format(period.first, "YEAR_MONTH_FORMAT")
    return _("Week of %(day)s") % {"day": formats.date_format(period.first, "DATE_FORMAT")}


def _csv(shown: calendar.Calendar, request: HttpRequest) -> HttpResponseBase:
    header = [
        _("Date"),
        _("Time"),
        _("Title"),
        _("State"),
        _("Accounts"),
        _("Labels"),
        _("Campaign"),
        _("Close to another post"),
        _("Period without publishing"),
    ]
    rows = (
        [
            entry.day,
            entry.time_label,
            entry.title,
            entry.state_label,
            ", ".join(f"{a.name} ({a.platform_label})" for a in entry.accounts),
            ", ".join(entry.labels),
            entry.campaign,
            ", ".join(entry.close_on),
            entry.window.name if entry.window is not None else "",
        ]
        for entry in shown.entries
    )
    return stream_csv(header, rows, "calendar", request)


@org_view(Capability.VIEW)
def calendar_view(request: OrgRequest) -> HttpResponseBase:
    """The month (the default), the week (``?view=week``) or the month's posts as a table
    (``?view=list``), around ``?date=YYYY-MM-DD`` (today by default)."""
    organization = request.org.organization
    now = timezone.now()
    zone = calendar.local_zone(organization)
    today = timezone.localtime(now, zone).date()
    view = request.GET.get("view", "month")
    if view not in VIEWS:
        view = "month"
    anchor = _day(request.GET.get("date")) or today
    period = calendar.week_period(anchor) if view == "week" else calendar.month_period(anchor)
    filter_form = CalendarFilterForm(request.GET, organization=organization)
    shown = calendar.calendar_of(organization, period, now, filter_form.filters())
    if request.GET.get("format") == "csv":
        return _csv(shown, request)
    slug = organization.slug
    can_move = request.org.can(Capability.PUBLISH)
    return render(
        request,
        "publishing/calendar.html",
        {
            "nav": "publishing",
            "view": view,
            "calendar": shown,
            "page_obj": (
                Paginator(shown.entries, TABLE_PAGE_SIZE).get_page(request.GET.get("page"))
                if view == "list"
                else None
            ),
            "period_title": _title(period),
            "weekdays": [formats.date_format(day, "l") for day in period.weeks[0]],
            "today": today,
            "filter_form": filter_form,
            "can_move": can_move,
            "can_manage": request.org.can(Capability.MANAGE),
            # Built once here, not once a post: a post's page is this prefix, its id and "/"
            # (publishing:detail).
            "post_url_prefix": reverse("publishing:list", args=[slug]),
            "move_url": reverse("publishing:calendar_move", args=[slug]),
            "here": request.get_full_path(),
        },
    )


@org_view(Capability.PUBLISH)
@require_POST
def calendar_move(request: OrgRequest) -> HttpResponse:
    """Move a post to another day at the same local time (the keyboard, a drag, or the form
    of each post)."""
    organization = request.org.organization
    post = request.org.get(Post, pk=request.POST.get("post"))
    day = _day(request.POST.get("date"))
    calendar_url = reverse("publishing:calendar", args=[organization.slug])
    if day is None:
        messages.error(request, _("Choose the day to move the post to."))
        return redirect(safe_next(request, calendar_url))
    back = safe_next(request, f"{calendar_url}?date={day.isoformat()}")
    if post.scheduled_at is None:
        messages.error(request, _("This post has no time yet: schedule it from its page."))
        return redirect(back)
    zone = calendar.local_zone(organization)
    when = calendar.moved_to(post.scheduled_at, day, zone)
    try:
        services.schedule(request.org.actor, post, when)
    except services.PublishingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("“%(title)s” moved to %(when)s.")
            % {
                "title": post.title,
                "when": timezone.localtime(when, zone).strftime("%d/%m/%Y %H:%M"),
            },
        )
    return redirect(back)


@org_view(Capability.MANAGE)
def calendar_feed_settings(request: OrgRequest) -> HttpResponse:
    """The calendar feed's address, and making a new one (the old one stops working)."""
    organization = request.org.organization
    if request.method == "POST":
        feed.rotate_calendar_feed(request.org.actor, organization)
        messages.success(
            request,
            _(
                "A new address was made: the previous one no longer works. "
                "Give the new one to those who should see the calendar."
            ),
        )
        return redirect("publishing:calendar_feed", org_slug=organization.slug)
    response = render(
        request,
        "publishing/calendar_feed.html",
        {"nav": "publishing", "feed_url": feed.feed_url(organization)},
    )
    response["Cache-Control"] = "no-store"  # the address is a key to the calendar
    return response


@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The iCalendar feed, for calendar applications (no login: the signed token is the key)."""
    organization = feed.organization_of_token(token)
    if organization is None:
        raise Http404("No such calendar")
    response = HttpResponse(
        feed.calendar_ics(organization, timezone.now()), content_type="text/calendar; charset=utf-8"
    )
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response
