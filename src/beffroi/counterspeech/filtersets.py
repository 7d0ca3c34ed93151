"""The library list's filters, over :func:`beffroi.counterspeech.services.visible_entries`
(the view gives that queryset: own entries and the subscribed libraries' approved ones)."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from beffroi.counterspeech.models import (
    Entry,
    EntrySource,
    EntryText,
    Strategy,
    Target,
    Tone,
    local_day,
    valid_on,
)
from beffroi.items.filtersets import SearchInput


class EntryFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", widget=SearchInput())
    state = django_filters.ChoiceFilter(
        label=_("State"), choices=Entry.State.choices, empty_label=_("Any state")
    )
    strategy = django_filters.ChoiceFilter(
        label=_("Strategy"), choices=Strategy.choices, empty_label=_("Any strategy")
    )
    tone = django_filters.ChoiceFilter(
        label=_("Tone"), choices=Tone.choices, empty_label=_("Any tone")
    )
    target = django_filters.ChoiceFilter(
        label=_("Targeted group"),
        choices=Target.choices,
        method="by_target",
        empty_label=_("Any group"),
    )
    topic = django_filters.CharFilter(label=_("Topic"), method="by_topic")
    language = django_filters.CharFilter(label=_("Language"), method="by_language")
    library = django_filters.ChoiceFilter(
        label=_("Library"),
        choices=[("own", _("Ours")), ("shared", _("Subscribed libraries"))],
        method="by_library",
        empty_label=_("All libraries"),
    )
    valid_now = django_filters.BooleanFilter(
        label=_("Valid today"), method="by_valid_now", widget=forms.CheckboxInput
    )
    source_changed = django_filters.BooleanFilter(
        label=_("A source changed since approval"),
        method="by_source_changed",
        widget=forms.CheckboxInput,
    )

    class Meta:
        model = Entry
        fields: list[str] = []

    def search(self, queryset: QuerySet[Entry], name: str, value: str) -> QuerySet[Entry]:
        value = value.strip()
        if not value:
            return queryset
        texts = EntryText.objects.filter(text__icontains=value).values("entry_id")
        return queryset.filter(Q(title__icontains=value) | Q(pk__in=texts))

    def by_target(self, queryset: QuerySet[Entry], name: str, value: str) -> QuerySet[Entry]:
        # The list is stored as JSON text: the quoted code matches one element, on SQLite and
        # PostgreSQL alike (``contains`` on a JSON list is PostgreSQL's only).
        return queryset.filter(targets__icontains=f'"{value}"') if value else queryset

    def by_topic(self, queryset: QuerySet[Entry], name: str, value: str) -> QuerySet[Entry]:
        # Topics are free text, stored as JSON with its non-ASCII letters escaped on SQLite:
        # compared here, in Python (a library holds thousands of entries, not millions).
        wanted = value.strip().casefold()
        if not wanted:
            return queryset
        matching = [
            pk
            for pk, topics in queryset.values_list("pk", "topics")
            if any(str(topic).casefold() == wanted for topic in topics)
        ]
        return queryset.filter(pk__in=matching)

    def by_language(self, queryset: QuerySet[Entry], name: str, value: str) -> QuerySet[Entry]:
        value = value.strip().lower()
        if not value:
            return queryset
        return queryset.filter(pk__in=EntryText.objects.filter(language=value).values("entry_id"))

    def by_library(self, queryset: QuerySet[Entry], name: str, value: str) -> QuerySet[Entry]:
        organization = getattr(self.request, "organization", None)
        if organization is None or not value:
            return queryset
        if value == "own":
            return queryset.filter(organization=organization)
        return queryset.exclude(organization=organization)

    def by_valid_now(
        self, queryset: QuerySet[Entry], name: str, value: bool | None
    ) -> QuerySet[Entry]:
        return queryset.filter(valid_on(local_day(None))) if value else queryset

    def by_source_changed(
        self, queryset: QuerySet[Entry], name: str, value: bool | None
    ) -> QuerySet[Entry]:
        if not value:
            return queryset
        changed = EntrySource.objects.filter(changed_at__isnull=False).values("entry_id")
        return queryset.filter(pk__in=changed)
