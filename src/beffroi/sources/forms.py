"""Source forms: built from the connector's declared options; secrets are never shown back."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from django import forms
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from beffroi.connectors.base import Option
from beffroi.sources.models import Source

SETTING_PREFIX = "setting_"
SECRET_PREFIX = "secret_"  # noqa: S105 (a field name prefix, not a secret)

#: Options the web interface never offers, by platform. A file source's ``path`` would let
#: whoever manages sources read any file of the server: files come in by upload only.
HIDDEN_OPTIONS: dict[str, set[str]] = {"file": {"path", "format"}}

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
UPLOAD_EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson"}

# Labels and help of the built-in connectors' options, so that they are translated (the
# connectors do not import Django). Others are shown as their connector wrote them.
CONNECTOR_STRINGS = (
    gettext_noop("Instance URL"),
    gettext_noop("Address of the Mastodon server, e.g. https://piaille.fr"),
    gettext_noop("Access token"),
    gettext_noop(
        "Token of an application of the account, with the scopes read, "
        "write:statuses and write:reports."
    ),
    gettext_noop("Days of history on the first sync"),
    gettext_noop("Days during which replies to a post are re-checked"),
    gettext_noop("File import"),
    gettext_noop("Hashtags to listen to"),
    gettext_noop("Public posts with these hashtags, separated by spaces or commas (without #)"),
)


def visible_options(platform: str, options: Mapping[str, Option]) -> dict[str, Option]:
    hidden = HIDDEN_OPTIONS.get(platform, set())
    return {key: option for key, option in options.items() if key not in hidden}


class PlatformForm(forms.Form):
    platform = forms.ChoiceField(label=_("Platform"))

    def __init__(self, *args: Any, platforms: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["platform"].choices = platforms


class SourceForm(forms.Form):
    """Name, kind, schedule, and one field per connector option.

    Secret options are password fields that start empty: left blank, the stored value is
    kept (on creation a required secret must be given).
    """

    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=Source.Kind.choices)
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)
    sync_interval_minutes = forms.IntegerField(
        label=_("Sync every (minutes)"), min_value=1, max_value=7 * 24 * 60, initial=15
    )

    def __init__(
        self,
        *args: Any,
        platform: str,
        options: Mapping[str, Option],
        source: Source | None = None,
        **kwargs: Any,
    ) -> None:
        if source is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": source.name,
                    "kind": source.kind,
                    "enabled": source.enabled,
                    "sync_interval_minutes": source.sync_interval_minutes,
                },
            )
        super().__init__(*args, **kwargs)
        self.platform = platform
        self.source = source
        if source is None:
            # A new source syncs on the default schedule; it can be changed once created.
            del self.fields["sync_interval_minutes"]
        self.options = visible_options(platform, options)
        stored = source.get_credentials() if source is not None and source.has_credentials else {}
        settings = source.settings if source is not None else {}
        for key, option in self.options.items():
            label = _gettext(option.label)
            help_text = _gettext(option.help) if option.help else ""
            if option.secret:
                is_stored = bool(stored.get(key))
                if is_stored:
                    keep = _gettext("A value is stored; leave blank to keep it.")
                    help_text = f"{help_text} {keep}".strip()
                self.fields[SECRET_PREFIX + key] = forms.CharField(
                    label=label,
                    required=option.required and not is_stored,
                    strip=True,
                    help_text=help_text,
                    widget=forms.PasswordInput(
                        render_value=False, attrs={"autocomplete": "new-password"}
                    ),
                )
            else:
                self.fields[SETTING_PREFIX + key] = forms.CharField(
                    label=label,
                    required=option.required,
                    help_text=help_text,
                    initial=settings.get(key, option.default),
                )

    def settings_values(self) -> dict[str, Any]:
        """The source's settings: the stored ones, updated with the form's non-empty values."""
        values = dict(self.source.settings) if self.source is not None else {}
        for key in self.options:
            name = SETTING_PREFIX + key
            if name in self.fields:
                value = self.cleaned_data.get(name, "")
                if value:
                    values[key] = value
                else:
                    values.pop(key, None)
        return values

    def credentials_values(self) -> dict[str, Any] | None:
        """New credentials, or ``None`` when every secret field was left blank (keep)."""
        given = {
            key: self.cleaned_data[SECRET_PREFIX + key]
            for key in self.options
            if self.cleaned_data.get(SECRET_PREFIX + key)
        }
        if not given:
            return None if self.source is not None else {}
        stored = (
            self.source.get_credentials()
            if self.source is not None and self.source.has_credentials
            else {}
        )
        return {**stored, **given}

    def option_fields(self) -> list[forms.BoundField]:
        return [
            self[name] for name in self.fields if name.startswith((SETTING_PREFIX, SECRET_PREFIX))
        ]

    def base_fields_bound(self) -> list[forms.BoundField]:
        names = ("name", "kind", "enabled", "sync_interval_minutes")
        return [self[name] for name in names if name in self.fields]


#: Platforms whose sources take the platform's own data export, and its file types.
EXPORT_EXTENSIONS: dict[str, tuple[str, ...]] = {"snapchat": (".zip", ".json")}


class ImportForm(forms.Form):
    FORMAT_CHOICES = [
        ("", _("Guess from the file name")),
        ("csv", "CSV"),
        ("ndjson", "NDJSON"),
    ]

    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (.csv, .tsv) or NDJSON (.ndjson, .jsonl), 10 MB at most."),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(UPLOAD_EXTENSIONS)}),
    )
    format = forms.ChoiceField(label=_("Format"), choices=FORMAT_CHOICES, required=False)
    skip_invalid = forms.BooleanField(
        label=_("Import the valid rows even if some rows are invalid"), required=False
    )

    def __init__(self, *args: Any, platform: str = "file", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.extensions = EXPORT_EXTENSIONS.get(platform, tuple(UPLOAD_EXTENSIONS))
        if platform in EXPORT_EXTENSIONS:
            # A platform's own export: its shape is recognised, there is no format to choose.
            del self.fields["format"]
            self.fields["file"].help_text = _(
                "The platform's data export (%(extensions)s), 10 MB at most."
            ) % {"extensions": ", ".join(self.extensions)}
            self.fields["file"].widget.attrs["accept"] = ",".join(self.extensions)

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        suffix = PurePath(upload.name or "").suffix.lower()
        if suffix not in self.extensions:
            raise forms.ValidationError(
                _("Unsupported file type: use a file ending in %(extensions)s.")
                % {"extensions": ", ".join(self.extensions)}
            )
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 10 MB: split it."))
        return upload
