"""The composer's forms (a post, and one variant per account) and the post page's small forms.

The composer is one main form and one :class:`VariantForm` per account the organization can
publish from, each with the fields its network has (a title on YouTube, a first comment where
the network takes one): the network's limits say which."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from beffroi.connectors.post_limits import DraftVariant, PostLimits
from beffroi.organizations.models import Organization
from beffroi.publishing.limits import draft_media, limits_of, publishes_by_api
from beffroi.publishing.models import MediaAsset, Post
from beffroi.publishing.services import VariantInput
from beffroi.sources.models import Source

#: The format a ``datetime-local`` input reads and writes (local time, no zone).
LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"


class LocalDateTimeInput(forms.DateTimeInput):
    """A date and time in the organization's local time (the browser's own picker)."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format=LOCAL_INPUT_FORMAT)

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, datetime) and timezone.is_aware(value):
            value = timezone.localtime(value)
        return super().format_value(value)


def publishes(source: Source) -> bool:
    """Whether posts can be written for ``source``: its network has documented limits (a
    network without a publishing API gets a package to post by hand), or its connector
    publishes."""
    if source.kind == Source.Kind.WATCH:
        return False
    return limits_of(source.platform) is not None or publishes_by_api(source)


def publishable_sources(organization: Organization) -> list[Source]:
    """The organization's accounts posts are written for, by name."""
    return [
        source
        for source in Source.objects.for_org(organization).filter(enabled=True).order_by("name")
        if publishes(source)
    ]


def split_labels(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class VariantForm(forms.Form):
    """What one account publishes: its text (empty: the main text), link, media, and the
    title and first comment where its network has them."""

    text = forms.CharField(
        label=_("Text for this account"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Empty: the main text."),
    )
    title = forms.CharField(label=_("Title"), required=False, max_length=200)
    link = forms.URLField(label=_("Link"), required=False, max_length=1000, assume_scheme="https")
    first_comment = forms.CharField(
        label=_("First comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Posted under the post, right after it."),
    )
    assets = forms.ModelMultipleChoiceField(
        label=_("Images and videos"),
        queryset=MediaAsset.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self,
        *args: Any,
        source: Source,
        assets: QuerySet[MediaAsset],
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("prefix", f"variant-{source.pk}")
        super().__init__(*args, **kwargs)
        self.source = source
        self.limits: PostLimits | None = limits_of(source.platform)
        fields: Any = self.fields
        fields["assets"].queryset = assets
        limits = self.limits
        if limits is None or not limits.title_max_length:
            del self.fields["title"]
        else:
            fields["title"].max_length = limits.title_max_length
        if limits is None or not limits.first_comment:
            del self.fields["first_comment"]
        # Elsewhere the address is written in the text: the network shows no link card.
        if limits is None or not limits.link_field:
            del self.fields["link"]

    def value(self, name: str) -> str:
        """A text field's value as written (the form need not be valid: the live check reads
        what is being typed)."""
        if name not in self.fields:
            return ""
        if self.is_bound:
            return str(self.data.get(self.add_prefix(name), "") or "")
        return str(self.initial.get(name, "") or "")

    def chosen_assets(self) -> list[MediaAsset]:
        """The media chosen, in the library's order; others' ids are ignored."""
        if not self.is_bound:
            return list(self.initial.get("assets", []))
        data: Any = self.data  # a QueryDict
        wanted = {
            int(value) for value in data.getlist(self.add_prefix("assets")) if str(value).isdigit()
        }
        return [asset for asset in self.fields["assets"].queryset if asset.pk in wanted]  # type: ignore[attr-defined]

    def text_or(self, main_text: str) -> str:
        return self.value("text").strip() or main_text

    def draft(self, main_text: str) -> DraftVariant:
        """What would be published, for the live check."""
        return DraftVariant(
            text=self.text_or(main_text),
            media=tuple(draft_media(asset) for asset in self.chosen_assets()),
            link=self.value("link").strip(),
            first_comment=self.value("first_comment").strip(),
            title=self.value("title").strip(),
        )

    def variant_input(self, main_text: str) -> VariantInput:
        """What the service is given (``cleaned_data``: the form is valid)."""
        data = self.cleaned_data
        return VariantInput(
            source=self.source,
            text=(data.get("text") or "").strip() or main_text,
            title=(data.get("title") or "").strip(),
            link=data.get("link") or "",
            first_comment=(data.get("first_comment") or "").strip(),
            media=list(data.get("assets") or []),
        )


class ComposeForm(forms.Form):
    """A post: its accounts, main text and when, labels, campaign, repetition."""

    title = forms.CharField(
        label=_("Internal title"),
        required=False,
        max_length=200,
        help_text=_("For the calendar; never published. Empty: the start of the text."),
    )
    accounts = forms.ModelMultipleChoiceField(
        label=_("Publish from"),
        queryset=Source.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one account to publish from.")},
    )
    main_text = forms.CharField(
        label=_("Text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("The same text everywhere, unless an account has its own below."),
    )
    scheduled_at = forms.DateTimeField(
        label=_("Publish at"),
        required=False,
        widget=LocalDateTimeInput(),
        input_formats=[LOCAL_INPUT_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        help_text=_("Local time. Empty: decided later (or published once approved, on demand)."),
    )
    labels = forms.CharField(
        label=_("Labels"), required=False, max_length=400, help_text=_("Separated by commas.")
    )
    campaign = forms.CharField(label=_("Campaign"), required=False, max_length=100)
    recurrence = forms.CharField(
        label=_("Repeat"),
        required=False,
        max_length=200,
        help_text=_("An iCalendar rule (FREQ=WEEKLY;BYDAY=SA for every Saturday). Empty: once."),
    )
    evergreen = forms.BooleanField(
        label=_("Evergreen"),
        required=False,
        help_text=_("May be published again in an empty slot."),
    )

    def __init__(self, *args: Any, sources: Sequence[Source], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["accounts"].queryset = Source.objects.filter(pk__in=[s.pk for s in sources])
        fields["accounts"].label_from_instance = source_label

    def chosen_ids(self) -> set[int]:
        """The accounts ticked (as written: the live check reads a form being typed)."""
        if not self.is_bound:
            return {int(value) for value in self.initial.get("accounts", [])}
        data: Any = self.data  # a QueryDict
        return {int(value) for value in data.getlist("accounts") if str(value).isdigit()}

    def written_main_text(self) -> str:
        if self.is_bound:
            return str(self.data.get("main_text", "") or "").strip()
        return str(self.initial.get("main_text", "") or "").strip()

    def clean_labels(self) -> list[str]:
        return split_labels(self.cleaned_data["labels"])


def source_label(source: Source) -> str:
    from beffroi.sources.forms import platform_label

    return f"{source.name} ({platform_label(source.platform)})"


def compose_initial(post: Post) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
    """The composer's starting values for ``post``: its fields, and each variant's. When
    every account has the same text, it is the main text and the variants' stay empty."""
    variants = list(post.variants.select_related("source"))
    texts = {variant.text for variant in variants}
    shared = texts.pop() if len(texts) == 1 else ""
    initial = {
        "title": post.title,
        "accounts": [variant.source_id for variant in variants],
        "main_text": shared,
        "scheduled_at": post.scheduled_at,
        "labels": ", ".join(label.name for label in post.labels.order_by("name")),
        "campaign": post.campaign,
        "recurrence": post.recurrence,
        "evergreen": post.evergreen,
    }
    per_source: dict[int, dict[str, Any]] = {}
    for variant in variants:
        per_source[variant.source_id] = {
            "text": "" if shared else variant.text,
            "title": variant.title,
            "link": variant.link,
            "first_comment": variant.first_comment,
            "assets": [
                attached.media
                for attached in variant.variantmedia_set.select_related("media").order_by(
                    "position", "id"
                )
            ],
        }
    return initial, per_source


class DecideForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Said to the author with your decision."),
    )
    seen_hash = forms.CharField(widget=forms.HiddenInput)


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Comment"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ScheduleForm(forms.Form):
    when = forms.DateTimeField(
        label=_("Publish at"),
        required=False,
        widget=LocalDateTimeInput(),
        input_formats=[LOCAL_INPUT_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        help_text=_("Local time. Empty: no time (waits to be published on demand)."),
    )


class SuspendForm(forms.Form):
    reason = forms.CharField(
        label=_("Why"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ExternalLinkForm(forms.Form):
    name = forms.CharField(label=_("For whom"), max_length=120)
    email = forms.EmailField(label=_("Their e-mail (optional)"), required=False)


class ConfirmForm(forms.Form):
    url = forms.URLField(
        label=_("Its link (optional)"), required=False, max_length=1000, assume_scheme="https"
    )


def variant_forms(
    data: Mapping[str, Any] | None,
    sources: Sequence[Source],
    assets: QuerySet[MediaAsset],
    initial: Mapping[int, Mapping[str, Any]] | None = None,
) -> list[VariantForm]:
    """One variant form per account (those not chosen are shown empty, ready)."""
    return [
        VariantForm(
            data,
            source=source,
            assets=assets,
            initial=dict((initial or {}).get(source.pk, {})),
        )
        for source in sources
    ]
