"""The inbox filters: every choice is limited to the request's organization."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from beffroi.items.models import Item
from beffroi.items.search import SearchQueryError, parse_search, search_q
from beffroi.sources.models import Source


class SearchInput(forms.TextInput):
    input_type = "search"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


def language_label(code: str) -> str:
    """``fr`` → « French » (in the interface's language), unknown codes as they are."""
    try:
        return f"{get_language_info(code)['name_translated']} ({code})"
    except KeyError:
        return code


def organization_sources(request: HttpRequest | None) -> QuerySet[Source]:
    organization = getattr(request, "organization", None)
    if organization is None:
        return Source.objects.none()
    return Source.objects.filter(organization=organization).order_by("name")


def validate_search(value: str) -> None:
    """The search field's check: the query parses, or its translated error is shown."""
    if value.strip():
        try:
            parse_search(value)
        except SearchQueryError as error:
            raise ValidationError(error.message, code="search") from error


class ItemFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        validators=[validate_search],
        help_text=_(
            "Words in any order, accents and case ignored; “exact phrase”, OR, -word, "
            "#hashtag, from:account, lang:fr, word* — as in watches."
        ),
        widget=SearchInput(
            attrs={
                "placeholder": _("Text or author"),
                "data-shortcut-search": "",
                "aria-keyshortcuts": "/",
                "aria-describedby": "search-help search-errors",
                "autocomplete": "off",
            }
        ),
    )
    source = django_filters.ModelChoiceFilter(
        label=_("Source"),
        # django-filter calls a callable with the request (documented); its stubs want a queryset.
        queryset=organization_sources,  # type: ignore[arg-type]
        empty_label=_("All sources"),
    )
    kind = django_filters.ChoiceFilter(
        label=_("Kind"), choices=Item.Kind.choices, empty_label=_("All kinds")
    )
    language = django_filters.ChoiceFilter(
        label=_("Language"), choices=[], empty_label=_("All languages")
    )
    state = django_filters.ChoiceFilter(
        label=_("State"), choices=Item.State.choices, empty_label=_("All states")
    )
    visibility = django_filters.ChoiceFilter(
        label=_("Visibility"), choices=Item.Visibility.choices, empty_label=_("Any visibility")
    )
    date_from = django_filters.DateFilter(
        label=_("From"), field_name="created_at", lookup_expr="date__gte", widget=DateInput()
    )
    date_to = django_filters.DateFilter(
        label=_("To"), field_name="created_at", lookup_expr="date__lte", widget=DateInput()
    )

    class Meta:
        model = Item
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        languages = (
            # Set by FilterSet.__init__ (the model's rows when none is given); the stubs allow None.
            self.queryset.exclude(language="")  # type: ignore[union-attr]
            .order_by("language")
            .values_list("language", flat=True)
            .distinct()
        )
        self.filters["language"].extra["choices"] = [
            (code, language_label(code)) for code in languages
        ]

    def filter_queryset(self, queryset: QuerySet[Item]) -> QuerySet[Item]:
        # A search that cannot be read shows its error by the field and lists nothing
        # (listing everything would read as "everything matches").
        if "q" in self.form.errors:
            return queryset.none()
        return super().filter_queryset(queryset)

    def search(self, queryset: QuerySet[Item], name: str, value: str) -> QuerySet[Item]:
        return search_items(queryset, value)


def search_items(queryset: QuerySet[Item], value: str) -> QuerySet[Item]:
    """Items that ``value`` finds, in the watches' query language (``beffroi.items.search``):
    the inbox's search and the API's ``q`` alike. Raises ``SearchQueryError`` when
    ``value`` cannot be read (the form and the API check it first)."""
    if not value.strip():
        return queryset
    return queryset.filter(search_q(value))
