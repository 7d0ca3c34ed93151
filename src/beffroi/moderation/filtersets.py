"""Filters of the review queue and of the decisions log; every choice is the organization's."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import F, QuerySet
from django.utils.translation import gettext_lazy as _

from beffroi.items.filtersets import DateInput, organization_sources
from beffroi.moderation.models import Case, Decision

#: Queue orders: name → ORDER BY (ties broken by age, then id, so pages are stable).
QUEUE_ORDERS: dict[str, tuple[Any, ...]] = {
    "priority": ("-priority", "-severity", "created_at", "id"),
    "severity": ("-severity", "-priority", "created_at", "id"),
    "oldest": ("created_at", "id"),
    "newest": ("-created_at", "-id"),
    "confidence": (F("score").desc(nulls_last=True), "created_at", "id"),
}

QUEUE_ORDER_CHOICES = [
    ("priority", _("Priority")),
    ("severity", _("Severity")),
    ("oldest", _("Oldest first")),
    ("newest", _("Newest first")),
    ("confidence", _("Confidence")),
]

SEVERITY_CHOICES = [
    ("1", _("Low or more")),
    ("2", _("Medium or more")),
    ("3", _("High or more")),
    ("4", _("Critical")),
]

ASSIGNEE_CHOICES = [
    ("mine", _("Mine")),
    ("nobody", _("Nobody")),
    ("others", _("Someone else")),
]


def category_choices(
    queryset: QuerySet[Any] | None, names: dict[str, str]
) -> list[tuple[str, str]]:
    """The categories present in ``queryset``, labelled with their charter name (none before
    FilterSet.__init__ has set the queryset, which the stubs allow)."""
    if queryset is None:
        return []
    present = (
        queryset.exclude(category="").order_by("category").values_list("category", flat=True)
    ).distinct()
    return [(slug, names.get(slug, slug)) for slug in present]


class CaseFilter(django_filters.FilterSet):
    """The queue filters (the data in the query string is also what "next case" follows)."""

    kind = django_filters.ChoiceFilter(
        label=_("Kind"), choices=Case.Kind.choices, empty_label=_("All kinds")
    )
    category = django_filters.ChoiceFilter(
        label=_("Category"), choices=[], empty_label=_("All categories")
    )
    severity = django_filters.ChoiceFilter(
        label=_("Severity"),
        choices=SEVERITY_CHOICES,
        lookup_expr="gte",
        empty_label=_("Any severity"),
    )
    source = django_filters.ModelChoiceFilter(
        label=_("Source"),
        field_name="item__source",
        # django-filter documents a callable of the request here; the stubs allow a queryset only.
        queryset=organization_sources,  # type: ignore[arg-type]
        empty_label=_("All sources"),
    )
    assignee = django_filters.ChoiceFilter(
        label=_("Assigned to"),
        choices=ASSIGNEE_CHOICES,
        method="by_assignee",
        empty_label=_("Anyone"),
    )
    sort = django_filters.ChoiceFilter(
        label=_("Order"),
        choices=QUEUE_ORDER_CHOICES,
        method="by_order",
        empty_label=None,
    )

    class Meta:
        model = Case
        fields: list[str] = []

    def __init__(self, *args: Any, category_names: dict[str, str] | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.filters["category"].extra["choices"] = category_choices(
            self.queryset, category_names or {}
        )

    def by_assignee(self, queryset: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        user = getattr(self.request, "user", None)
        if value == "mine":
            return queryset.filter(assignee=user)
        if value == "nobody":
            return queryset.filter(assignee__isnull=True)
        if value == "others":
            return queryset.filter(assignee__isnull=False).exclude(assignee=user)
        return queryset

    def by_order(self, queryset: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        return queryset.order_by(*QUEUE_ORDERS.get(value, QUEUE_ORDERS["priority"]))


AUTOMATED_CHOICES = [("yes", _("Automatic")), ("no", _("By a person"))]


class DecisionFilter(django_filters.FilterSet):
    """The decisions log. Without a status, shadow decisions (never acted on) are left out:
    they have their own tab."""

    action = django_filters.ChoiceFilter(
        label=_("Action"), choices=Decision.Action.choices, empty_label=_("All actions")
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Decision.Status.choices, empty_label=_("In force or past")
    )
    category = django_filters.ChoiceFilter(
        label=_("Category"), choices=[], empty_label=_("All categories")
    )
    automated = django_filters.ChoiceFilter(
        label=_("Taken"),
        choices=AUTOMATED_CHOICES,
        method="by_automation",
        empty_label=_("By anyone"),
    )
    date_from = django_filters.DateFilter(
        label=_("From"), field_name="created_at", lookup_expr="date__gte", widget=DateInput()
    )
    date_to = django_filters.DateFilter(
        label=_("To"), field_name="created_at", lookup_expr="date__lte", widget=DateInput()
    )

    class Meta:
        model = Decision
        fields: list[str] = []

    def __init__(self, *args: Any, category_names: dict[str, str] | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.filters["category"].extra["choices"] = category_choices(
            self.queryset, category_names or {}
        )

    @property
    def qs(self) -> QuerySet[Decision]:
        queryset = super().qs
        status = self.form.cleaned_data.get("status") if self.is_bound else ""
        if not status:
            queryset = queryset.exclude(status=Decision.Status.SHADOW)
        return queryset

    def by_automation(self, queryset: QuerySet[Decision], name: str, value: str) -> QuerySet[Any]:
        if value in ("yes", "no"):
            return queryset.filter(automated=value == "yes")
        return queryset
