"""Forms of the veille: watches, alert channels, the claims library, protected identities."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils.translation import gettext_lazy as _

from beffroi import config
from beffroi.analysis.watch_query import WatchQueryError, parse
from beffroi.items.search import query_error_message
from beffroi.veille.models import Alert, AlertChannel, CheckedClaim, ProtectedIdentity, Watch

MAX_UPLOAD_BYTES = config.MAX_UPLOAD_BYTES
LIBRARY_EXTENSIONS = {
    ".json": "jsonld",
    ".jsonld": "jsonld",
    ".html": "html",
    ".htm": "html",
    ".csv": "csv",
}
MAX_PHOTO_BYTES = 5 * 1024 * 1024

# The query language's error messages are the inbox search's: one translation, one place.


def _words(value: str) -> list[str]:
    """A list typed as commas, spaces or lines."""
    return [word for word in value.replace(",", " ").split() if word]


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.replace(",", "\n").splitlines() if line.strip()]


class WatchForm(forms.ModelForm):  # type: ignore[type-arg]
    languages_text = forms.CharField(
        label=_("Languages"),
        required=False,
        help_text=_("Only items in these languages (codes such as fr en ar); empty: all."),
    )
    accounts_text = forms.CharField(
        label=_("Accounts"),
        required=False,
        help_text=_("Only items from these accounts (handles); empty: everyone."),
    )
    platforms_text = forms.CharField(
        label=_("Platforms"),
        required=False,
        help_text=_("Only items from these platforms (mastodon, bluesky…); empty: all."),
    )

    class Meta:
        model = Watch
        fields = ["name", "query", "sensitivity", "alerts_enabled", "listen", "enabled"]
        widgets = {"query": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["languages_text"] = " ".join(self.instance.languages)
            self.initial["accounts_text"] = " ".join(self.instance.accounts)
            self.initial["platforms_text"] = " ".join(self.instance.platforms)
        self.fields["sensitivity"].widget = forms.NumberInput(
            attrs={"min": "0", "max": "1", "step": "0.05"}
        )

    def clean_query(self) -> str:
        query = str(self.cleaned_data["query"]).strip()
        try:
            parse(query)
        except WatchQueryError as error:
            raise ValidationError(query_error_message(error)) from error
        return query

    def clean_sensitivity(self) -> float:
        value = float(self.cleaned_data["sensitivity"])
        if not 0.0 <= value <= 1.0:
            raise ValidationError(_("The sensitivity goes from 0 to 1."))
        return value

    def save(self, commit: bool = True) -> Watch:
        watch: Watch = super().save(commit=False)
        watch.languages = [w.casefold() for w in _words(self.cleaned_data["languages_text"])]
        watch.accounts = [w.lstrip("@") for w in _words(self.cleaned_data["accounts_text"])]
        watch.platforms = [w.casefold() for w in _words(self.cleaned_data["platforms_text"])]
        if commit:
            watch.save()
        return watch


class ChannelForm(forms.ModelForm):  # type: ignore[type-arg]
    secret = forms.CharField(
        label=_("Matrix access token"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Stored encrypted, never shown again; left empty, the stored one is kept."),
    )
    kinds = forms.MultipleChoiceField(
        label=_("Alert kinds"),
        choices=Alert.Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every kind."),
    )

    class Meta:
        model = AlertChannel
        fields = ["name", "kind", "target", "room", "kinds", "enabled"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, target = data.get("kind"), str(data.get("target") or "").strip()
        if kind == AlertChannel.Kind.EMAIL:
            for address in _lines(target):
                try:
                    validate_email(address)
                except ValidationError:
                    self.add_error(
                        "target", _("“%(value)s” is not an e-mail address.") % {"value": address}
                    )
        elif kind in (AlertChannel.Kind.WEBHOOK, AlertChannel.Kind.MATRIX):
            try:
                URLValidator(schemes=["https", "http"])(target)
            except ValidationError:
                self.add_error("target", _("Give the full address, starting with https://."))
        if kind == AlertChannel.Kind.MATRIX:
            if not str(data.get("room") or "").startswith(("!", "#")):
                self.add_error("room", _("A Matrix room id starts with ! (or an alias with #)."))
            if not data.get("secret") and not self.instance.secret_encrypted:
                self.add_error(
                    "secret", _("A Matrix channel needs the access token of its bot account.")
                )
        return data

    def save(self, commit: bool = True) -> AlertChannel:
        channel: AlertChannel = super().save(commit=False)
        channel.kinds = list(self.cleaned_data.get("kinds") or [])
        if self.cleaned_data.get("secret"):
            channel.set_secret(self.cleaned_data["secret"])
        if commit:
            channel.save()
        return channel


class ClaimForm(forms.ModelForm):  # type: ignore[type-arg]
    url = forms.URLField(
        label=_("fact-check address"), max_length=1000, required=False, assume_scheme="https"
    )

    class Meta:
        model = CheckedClaim
        fields = [
            "statement",
            "verdict",
            "url",
            "source",
            "claimant",
            "reviewed_on",
            "language",
            "title",
        ]
        widgets = {
            "statement": forms.Textarea(attrs={"rows": 3}),
            "reviewed_on": forms.DateInput(attrs={"type": "date"}),
        }


class LibraryImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "A fact-checker's page (HTML) or feed (JSON-LD) with schema.org ClaimReview, or a "
            "CSV with the columns claim, verdict, url, source, date, language, title."
        ),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(_("The file is larger than 10 MB."))
        if PurePath(upload.name).suffix.casefold() not in LIBRARY_EXTENSIONS:
            raise ValidationError(_("Give a .json, .jsonld, .html or .csv file."))
        return upload

    @property
    def file_format(self) -> str:
        return LIBRARY_EXTENSIONS[PurePath(self.cleaned_data["file"].name).suffix.casefold()]


class IdentityForm(forms.ModelForm):  # type: ignore[type-arg]
    handles_text = forms.CharField(
        label=_("Official accounts"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One handle or profile address per line: these accounts are genuine."),
    )
    allowed_text = forms.CharField(
        label=_("Allow-list"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Other genuine accounts with a similar name (a fan page, a namesake)."),
    )
    photo = forms.ImageField(
        label=_("Photo"),
        required=False,
        help_text=_("The official profile picture; only its fingerprint is kept."),
    )

    class Meta:
        model = ProtectedIdentity
        fields = ["kind", "name"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["handles_text"] = "\n".join(self.instance.handles)
            self.initial["allowed_text"] = "\n".join(self.instance.allowed)

    def clean_photo(self) -> Any:
        photo = self.cleaned_data.get("photo")
        if photo and photo.size > MAX_PHOTO_BYTES:
            raise ValidationError(_("The photo is larger than 5 MB."))
        return photo

    def save(self, commit: bool = True) -> ProtectedIdentity:
        identity: ProtectedIdentity = super().save(commit=False)
        identity.handles = _lines(self.cleaned_data["handles_text"])
        identity.allowed = _lines(self.cleaned_data["allowed_text"])
        photo = self.cleaned_data.get("photo")
        if photo:
            from PIL import Image

            from beffroi.analysis.impersonation import avatar_hash

            photo.seek(0)
            with Image.open(photo) as image:
                fingerprint = avatar_hash(image)
            identity.avatar_hashes = sorted({*identity.avatar_hashes, fingerprint})
        if commit:
            identity.save()
        return identity


class NarrativeNameForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)


class NarrativeMergeForm(forms.Form):
    into = forms.IntegerField(label=_("Merge into"), widget=forms.Select)


class NarrativeSplitForm(forms.Form):
    items = forms.TypedMultipleChoiceField(
        coerce=int, label=_("Items"), widget=forms.CheckboxSelectMultiple
    )
    name = forms.CharField(label=_("Name of the new narrative"), max_length=200, required=False)
