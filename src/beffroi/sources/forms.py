"""Source forms: built from the connector's declared options; secrets are never shown back."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from django import forms
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from beffroi import config
from beffroi.connectors.base import Option
from beffroi.connectors.fileimport import import_platforms
from beffroi.core.forms import set_choices
from beffroi.sources.models import MAX_SYNC_INTERVAL_MINUTES, Source
from beffroi.sources.redaction import REDACTED

SETTING_PREFIX = "setting_"
SECRET_PREFIX = "secret_"  # noqa: S105 (a field name prefix, not a secret)

#: Options the web interface never offers, by platform. A file source's ``path`` would let
#: whoever manages sources read any file of the server: files come in by upload only.
HIDDEN_OPTIONS: dict[str, set[str]] = {"file": {"path", "format"}}

MAX_UPLOAD_BYTES = config.MAX_UPLOAD_BYTES
UPLOAD_EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson"}

# Labels and help of the built-in connectors' options, so that they are translated (the
# connectors do not import Django; a test checks that none is missing). Others are shown as
# their connector wrote them.
CONNECTOR_STRINGS = (
    gettext_noop("Facebook"),
    gettext_noop("Page ID"),
    gettext_noop("Numeric id of the Facebook Page"),
    gettext_noop("Page access token"),
    gettext_noop("Set by connecting the Page with Facebook Login"),
    gettext_noop("Graph API address"),
    gettext_noop("Leave empty to use https://graph.facebook.com"),
    gettext_noop("Days of history on the first sync"),
    gettext_noop("Instagram"),
    gettext_noop("Instagram account ID"),
    gettext_noop("Numeric id of the Instagram professional account (set when connecting)"),
    gettext_noop("Token of the Facebook Page linked to the account, set by Facebook Login"),
    gettext_noop("X"),
    gettext_noop("Account id"),
    gettext_noop("Numeric id of the X account (filled in when connecting)."),
    gettext_noop("Username"),
    gettext_noop("The account's @username, without @ (filled in when connecting)."),
    gettext_noop("Search query"),
    gettext_noop(
        'Optional: recent public posts matching this X search query are listened to, e.g. "mairie de Lyon" -is:retweet lang:fr (every post read counts towards the monthly cap).'
    ),
    gettext_noop("API address"),
    gettext_noop("Address of the X API; leave the default."),
    gettext_noop("Access token"),
    gettext_noop("OAuth 2.0 user access token (obtained when connecting the account)."),
    gettext_noop("YouTube"),
    gettext_noop("Channel ID"),
    gettext_noop(
        "ID of the YouTube channel (UC…); filled in when the account is connected. Empty: the token's own channel."
    ),
    gettext_noop("Search query for listening"),
    gettext_noop(
        "Other channels' videos matching these words are brought in as posts. Each search page costs 100 units of the daily API quota (10,000 by default)."
    ),
    gettext_noop("API base URL"),
    gettext_noop("Address of the YouTube Data API; change it only for tests."),
    gettext_noop("Days during which new replies to a comment are looked for"),
    gettext_noop("Category of published videos"),
    gettext_noop(
        "YouTube's category id: 25 News & Politics (the default), 29 Nonprofits & Activism, "
        "27 Education…"
    ),
    gettext_noop("Privacy of published videos"),
    gettext_noop(
        "public, unlisted or private. While Google has not audited this Beffroi's Google Cloud "
        "project, YouTube locks every uploaded video private."
    ),
    gettext_noop("Language of published videos"),
    gettext_noop(
        "Language of their title and description, as a code such as fr or en-GB; empty: not given."
    ),
    gettext_noop(
        "OAuth access token with the scope youtube.force-ssl; set by the connection flow."
    ),
    gettext_noop("Bluesky"),
    gettext_noop("Handle"),
    gettext_noop("The account's handle, e.g. mairie.bsky.social or mairie.fr"),
    gettext_noop("App password"),
    gettext_noop(
        "An app password created in Bluesky under Settings > Privacy and security > App passwords (not the account's password)"
    ),
    gettext_noop("Service URL"),
    gettext_noop("The account's PDS or entryway; https://bsky.social for Bluesky accounts"),
    gettext_noop("Latest public posts matching this search (Bluesky search syntax)"),
    gettext_noop("Keywords to listen to"),
    gettext_noop(
        "New posts of the whole network containing one of these words or phrases, separated by commas (read from Jetstream)"
    ),
    gettext_noop("Jetstream URL"),
    gettext_noop("The Jetstream instance read for keywords"),
    gettext_noop("Moderation service (DID)"),
    gettext_noop("The labeler that receives reports; Bluesky's moderation by default"),
    gettext_noop("Mastodon"),
    gettext_noop("Instance URL"),
    gettext_noop("Address of the Mastodon server, e.g. https://piaille.fr"),
    gettext_noop(
        "Token of an application of the account, with the scopes read, write:statuses, write:media and write:reports."
    ),
    gettext_noop("Days during which replies to a post are re-checked"),
    gettext_noop("Hashtags to listen to"),
    gettext_noop("Public posts with these hashtags, separated by spaces or commas (without #)"),
    gettext_noop("Search queries to listen to"),
    gettext_noop("One query per line; needs the instance's full-text search"),
    gettext_noop("Telegram"),
    gettext_noop("Public channels"),
    gettext_noop(
        "Usernames of public channels, separated by spaces or commas (e.g. durov, https://t.me/telegram)"
    ),
    gettext_noop("Reading method"),
    gettext_noop(
        "'web': the public web preview t.me/s (nothing to connect); 'api': the Telegram API with an account's credentials"
    ),
    gettext_noop("Pages read per channel and sync"),
    gettext_noop("About 20 posts per page with the web preview, 100 with the API"),
    gettext_noop("Web preview address"),
    gettext_noop("Address of Telegram's web preview (method 'web')"),
    gettext_noop("API id"),
    gettext_noop("The api_id of an application created on my.telegram.org (method 'api')"),
    gettext_noop("API hash"),
    gettext_noop("The api_hash of that application (method 'api')"),
    gettext_noop("Session string"),
    gettext_noop("A Telethon StringSession created once for the account (method 'api')"),
    gettext_noop("The organization's channel"),
    gettext_noop(
        "When the channels listed include others': the username of the organization's own (only its posts and comments are the organization's)"
    ),
    gettext_noop("Account's user id"),
    gettext_noop(
        "The numeric id of the account the session logs in, printed with the session string (method 'api'): its comments are the organization's answers"
    ),
    gettext_noop("RSS / Atom feed"),
    gettext_noop("Feed address"),
    gettext_noop("Address of the RSS or Atom feed, e.g. https://www.example.org/feed.xml"),
    gettext_noop("TikTok"),
    gettext_noop("Keywords"),
    gettext_noop("Words to listen to in video descriptions (Research API), separated by commas."),
    gettext_noop("Hashtags"),
    gettext_noop("Hashtags to listen to (Research API), separated by commas, without '#'."),
    gettext_noop("Accounts"),
    gettext_noop("TikTok usernames whose videos to follow (Research API), separated by commas."),
    gettext_noop("Days of history"),
    gettext_noop("How many days back the first sync reads (default 7)."),
    gettext_noop("Privacy of published posts"),
    gettext_noop(
        "PUBLIC_TO_EVERYONE, MUTUAL_FOLLOW_FRIENDS, FOLLOWER_OF_CREATOR or SELF_ONLY; must be one the account allows (default PUBLIC_TO_EVERYONE)."
    ),
    gettext_noop("TikTok's API base URL (default https://open.tiktokapis.com)."),
    gettext_noop("The connected account's open_id (set when the account is connected)."),
    gettext_noop("Account username"),
    gettext_noop("The connected account's username (set when the account is connected)."),
    gettext_noop("Research client key"),
    gettext_noop("Client key of the research project admitted to TikTok's Research API."),
    gettext_noop("Research client secret"),
    gettext_noop("Client secret of the research project."),
    gettext_noop("The connected account's user token (from connecting the account), to publish."),
    gettext_noop("Snapchat (data export)"),
    gettext_noop("File"),
    gettext_noop(
        "The Snapchat export to import: the .zip from My Data, or its json/chat_history.json."
    ),
    gettext_noop(
        "The account's Snapchat username (names the sender of its own messages in older exports)."
    ),
    gettext_noop("File import"),
    gettext_noop("Path of the CSV or NDJSON file to import (see docs/import-format.md)."),
    gettext_noop("Format"),
    gettext_noop("csv or ndjson; guessed from the file's extension when empty."),
)


def visible_options(platform: str, options: Mapping[str, Option]) -> dict[str, Option]:
    hidden = HIDDEN_OPTIONS.get(platform, set())
    return {key: option for key, option in options.items() if key not in hidden}


class PlatformForm(forms.Form):
    platform = forms.ChoiceField(label=_("Platform"))

    def __init__(self, *args: Any, platforms: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "platform", platforms)


class SourceForm(forms.Form):
    """Name, kind, schedule, and one field per connector option.

    Secret options are password fields that start empty: left blank, the stored value is
    kept (on creation a required secret must be given).
    """

    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=Source.Kind.choices)
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)
    sync_interval_minutes = forms.IntegerField(
        label=_("Sync every (minutes)"),
        min_value=1,
        max_value=MAX_SYNC_INTERVAL_MINUTES,
        initial=15,
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
        # Secrets inside settings (a feed's key) are shown hidden; the service puts the
        # stored value back when the placeholder comes back.
        settings = source.shown_settings if source is not None else {}
        for key, option in self.options.items():
            label = gettext(option.label)
            help_text = gettext(option.help) if option.help else ""
            if option.secret:
                is_stored = bool(stored.get(key))
                if is_stored:
                    keep = gettext("A value is stored; leave blank to keep it.")
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
                if REDACTED in str(settings.get(key, "")):
                    kept = gettext(
                        "Parts shown as %(placeholder)s are hidden; they are kept unless you "
                        "change them."
                    ) % {"placeholder": REDACTED}
                    help_text = f"{help_text} {kept}".strip()
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


#: Platforms the import reads that have no connector to name them.
_PLATFORM_LABELS = {"linkedin": "LinkedIn", "tiktok": "TikTok", "youtube": "YouTube", "rss": "RSS"}


def platform_label(platform: str) -> str:
    """The platform as people name it ("linkedin" → "LinkedIn"), not its slug."""
    from beffroi.connectors.registry import connector_class

    try:
        # The connectors' labels are English; their msgids are marked above (gettext_noop).
        return gettext(str(connector_class(platform).label))
    except Exception:  # no connector (an import-only platform), or one that cannot load
        return _PLATFORM_LABELS.get(platform, platform.capitalize())


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
    platform = forms.ChoiceField(
        label=_("Platform"),
        required=False,
        help_text=_(
            "The platform of rows that name none, e.g. for a 4CAT CSV export. “Detect”: the "
            "file's platform column or Zeeschuimer's, else “file”."
        ),
    )
    skip_invalid = forms.BooleanField(
        label=_("Import the valid rows even if some rows are invalid"), required=False
    )

    def __init__(self, *args: Any, platform: str = "file", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.extensions = EXPORT_EXTENSIONS.get(platform, tuple(UPLOAD_EXTENSIONS))
        set_choices(
            self,
            "platform",
            [
                ("", gettext("Detect")),
                *((name, platform_label(name)) for name in import_platforms()),
            ],
        )
        if platform in EXPORT_EXTENSIONS:
            # A platform's own export: its shape is recognised, there is no format or
            # platform to choose.
            del self.fields["format"]
            del self.fields["platform"]
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
