from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from beffroi.connectors.registry import connector_class
from beffroi.core.crypto import decrypt_json, encrypt_json
from beffroi.organizations.models import Organization
from beffroi.organizations.scoping import OrgManager
from beffroi.sources import redaction

#: Platforms whose sources receive uploaded files: never synced, never acted on.
UPLOAD_PLATFORMS = frozenset({"file", "snapchat"})
#: The setting that marks a demo town's source (``beffroi demo``): actions simulated.
DEMO_SETTING = "demo"
#: The longest time between two scheduled syncs (a week), in the interface and the API.
MAX_SYNC_INTERVAL_MINUTES = 7 * 24 * 60


def secret_options(platform: str) -> frozenset[str]:
    """The options ``platform``'s connector declares secret (none if it cannot be loaded)."""
    try:
        options = connector_class(platform).options
    except Exception:  # an unknown or broken connector: hide by names and addresses only
        return frozenset()
    return frozenset(name for name, option in options.items() if option.secret)


class Source(models.Model):
    """A connected platform account of the organization, a watch, or a file import."""

    class Kind(models.TextChoices):
        ACCOUNT = "account", _("Own account")
        WATCH = "watch", _("Watch over the wider network")
        IMPORT = "import", _("File import")

    class Status(models.TextChoices):
        NEW = "new", _("Never synced")
        OK = "ok", _("OK")
        AUTH_FAILED = "auth_failed", _("Credentials refused")
        RATE_LIMITED = "rate_limited", _("Rate limited")
        ERROR = "error", _("Error")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sources")
    name = models.CharField(_("name"), max_length=120)
    platform = models.CharField(_("platform"), max_length=32)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.ACCOUNT)
    enabled = models.BooleanField(_("enabled"), default=True)
    settings = models.JSONField(_("settings"), default=dict, blank=True)
    credentials_encrypted = models.TextField(blank=True, default="", editable=False)
    cursor = models.JSONField(default=dict, blank=True, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    last_error = models.TextField(blank=True, default="")
    last_synced_at = models.DateTimeField(null=True, blank=True)
    retry_after = models.DateTimeField(null=True, blank=True)
    sync_interval_minutes = models.PositiveIntegerField(_("sync every (minutes)"), default=15)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgManager()

    class Meta:
        ordering = ["organization__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="unique_source_name")
        ]
        verbose_name = _("source")

    def __str__(self) -> str:
        return f"{self.name} ({self.platform})"

    def set_credentials(self, credentials: dict[str, Any]) -> None:
        self.credentials_encrypted = encrypt_json(credentials) if credentials else ""

    def get_credentials(self) -> dict[str, Any]:
        return decrypt_json(self.credentials_encrypted)

    @property
    def is_upload(self) -> bool:
        return self.platform in UPLOAD_PLATFORMS

    @property
    def is_demo(self) -> bool:
        """A source of the demo town: no credentials, its platform actions are simulated."""
        return bool((self.settings or {}).get(DEMO_SETTING))

    @property
    def has_credentials(self) -> bool:
        return bool(self.credentials_encrypted)

    @property
    def shown_settings(self) -> dict[str, Any]:
        """The settings as every face shows them: the secrets inside them hidden."""
        return redaction.redact(self.settings or {}, secret_options(self.platform))

    def redact_snapshot(self, data: dict[str, Any]) -> dict[str, Any]:
        """What the audit trail keeps of the source: settings and cursor (which repeats a
        feed's address) with their secrets hidden."""
        if "settings" in data:
            data["settings"] = self.shown_settings
        if isinstance(data.get("cursor"), dict):
            data["cursor"] = redaction.redact(data["cursor"])
        return data


class ConnectionAlert(models.Model):
    """A source whose connection needs a person: refused or soon-expiring credentials.

    At most one open alert per source and kind; it is resolved when the source syncs again
    or receives new credentials. Shown to the organization's administrators in the interface
    and sent to them by e-mail.
    """

    class Kind(models.TextChoices):
        REFUSED = "refused", _("Credentials refused")
        EXPIRING = "expiring", _("Credentials expire soon")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="connection_alerts"
    )
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="connection_alerts")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    message = models.TextField()
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_result = models.CharField(max_length=255, blank=True, default="")

    objects = OrgManager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "kind"],
                condition=models.Q(resolved_at__isnull=True),
                name="one_open_connection_alert_per_kind",
            )
        ]
        verbose_name = _("connection alert")

    def __str__(self) -> str:
        return f"{self.source} — {self.kind}"
