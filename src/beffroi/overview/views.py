"""The organization dashboard: what needs attention today, volumes, what waits, sources in
trouble, busy conversations."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from beffroi.core.charts import bar_chart, legend, meter_bar
from beffroi.items.display import INBOX_COLUMNS
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability
from beffroi.overview.attention import needs
from beffroi.overview.dashboard import BUSY_THREAD_DAYS, CHART_DAYS, Dashboard, build_dashboard


def _chart_description(dashboard: Dashboard) -> str:
    chart = dashboard.chart
    if not chart.total:
        return _("No item in the last %(days)s days.") % {"days": CHART_DAYS}
    text = ngettext(
        "%(total)s item in the last %(days)s days.",
        "%(total)s items in the last %(days)s days.",
        chart.total,
    ) % {"total": chart.total, "days": CHART_DAYS}
    busiest = chart.busiest
    if busiest is not None:
        text += " " + _("Busiest day: %(day)s, with %(count)s.") % {
            "day": date_format(busiest[0], "l j F"),
            "count": busiest[1],
        }
    return text


@org_view(Capability.VIEW)
def dashboard(request: OrgRequest) -> HttpResponse:
    """What to look at first: what needs attention today (each line only for a role that may
    open its page), volumes, what waits, sources in trouble, busy conversations."""
    data = build_dashboard(request.org.organization)
    chart = data.chart
    kind_max = max((share.count for share in data.kinds), default=0)
    language_max = max((share.count for share in data.languages), default=0)
    context = {
        "nav": "dashboard",
        "needs": needs(request.org, data.now),
        "dash": data,
        "counters": data.counters,
        "chart_days": CHART_DAYS,
        "since": chart.days[0],
        "thread_days": BUSY_THREAD_DAYS,
        "chart_svg": bar_chart(
            chart.series,
            [date_format(day, "j N") for day in chart.days],
            title=_("Items per day and platform, last %(days)s days") % {"days": CHART_DAYS},
            description=_chart_description(data),
            id_prefix="daily-chart",
            label_every=5,
            value_label=_("items"),
            width=960,
            height=280,
        ),
        "chart_legend": legend(chart.series, id_prefix="daily-legend"),
        "chart_names": list(chart.series),
        "chart_rows": chart.rows,
        "chart_totals": chart.series_totals,
        "chart_total": chart.total,
        "kinds": [(share, meter_bar(share.count, kind_max)) for share in data.kinds],
        "languages": [(share, meter_bar(share.count, language_max)) for share in data.languages],
        "recent": data.recent,
        "columns": INBOX_COLUMNS,
        "threads": data.threads,
        "sources_in_error": data.sources_in_error,
    }
    return render(request, "overview/dashboard.html", context)
