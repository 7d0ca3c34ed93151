"""The post list's filters: every choice is the organization's."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from beffroi.items.filtersets import SearchInput
from beffroi.organizations.roles import Capability
from beffroi.publishing import approval
from beffroi.publishing.forms import source_label
from beffroi.publishing.models import Post, PostLabel, PostVariant
from beffroi.sources.models import Source


def organization_accounts(request: HttpRequest | None) -> QuerySet[Source]:
    organization = getattr(request, "organization", None)
    if organization is None:
        return Source.objects.none()
    return Source.objects.for_org(organization).exclude(kind=Source.Kind.WATCH).order_by("name")


def organization_labels(request: HttpRequest | None) -> QuerySet[PostLabel]:
    organization = getattr(request, "organization", None)
    if organization is None:
        return PostLabel.objects.none()
    return PostLabel.objects.for_org(organization)


class PostFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", widget=SearchInput())
    state = django_filters.ChoiceFilter(
        label=_("State"), choices=Post.State.choices, empty_label=_("Any state")
    )
    account = django_filters.ModelChoiceFilter(
        label=_("Account"),
        method="by_account",
        # django-filter documents a callable of the request here; the stubs allow a queryset only.
        queryset=organization_accounts,  # type: ignore[arg-type]
        empty_label=_("All accounts"),
    )
    label = django_filters.ModelChoiceFilter(
        label=_("Label"),
        field_name="labels",
        queryset=organization_labels,  # type: ignore[arg-type]
        empty_label=_("All labels"),
    )
    campaign = django_filters.ChoiceFilter(
        label=_("Campaign"), choices=[], empty_label=_("All campaigns")
    )
    kind = django_filters.ChoiceFilter(
        label=_("Kind"), choices=Post.Kind.choices, empty_label=_("All kinds")
    )
    waiting = django_filters.BooleanFilter(
        label=_("Waiting for my approval"),
        method="by_waiting",
        widget=forms.CheckboxInput,
    )

    class Meta:
        model = Post
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        present = []
        if self.queryset is not None:
            present = list(
                self.queryset.exclude(campaign="")
                .order_by("campaign")
                .values_list("campaign", flat=True)
                .distinct()
            )
        self.filters["campaign"].extra["choices"] = [(name, name) for name in present]
        org = getattr(self.request, "org", None)
        if org is None or not org.can(Capability.APPROVE):
            del self.filters["waiting"]
        # Accounts named as the composer names them: "Page (Facebook)" (the form is built
        # here, once the filters are set).
        self.form.fields["account"].label_from_instance = source_label  # type: ignore[attr-defined]

    def search(self, queryset: QuerySet[Post], name: str, value: str) -> QuerySet[Post]:
        value = value.strip()
        if not value:
            return queryset
        texts = PostVariant.objects.filter(
            Q(text__icontains=value) | Q(title__icontains=value)
        ).values("post_id")
        return queryset.filter(
            Q(title__icontains=value) | Q(campaign__icontains=value) | Q(pk__in=texts)
        )

    def by_account(self, queryset: QuerySet[Post], name: str, value: Source) -> QuerySet[Post]:
        # A subquery, not a join: one row per post, no DISTINCT over the whole list.
        return queryset.filter(pk__in=PostVariant.objects.filter(source=value).values("post_id"))

    def by_waiting(self, queryset: QuerySet[Post], name: str, value: bool | None) -> QuerySet[Post]:
        if not value:
            return queryset
        user = getattr(self.request, "user", None)
        # Few posts wait in review at a time: each is read against its current step.
        waiting = [
            post.pk
            for post in queryset.filter(state=Post.State.IN_REVIEW).exclude(author=user)
            if approval.may_decide(user, post)
        ]
        return queryset.filter(pk__in=waiting)
