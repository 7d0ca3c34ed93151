from django.contrib import admin

from beffroi.audit.admin import AuditedAdmin
from beffroi.sources.models import Source


@admin.register(Source)
class SourceAdmin(AuditedAdmin[Source]):
    """Credentials are never shown: only whether some are stored."""

    list_display = (
        "name",
        "organization",
        "platform",
        "kind",
        "enabled",
        "status",
        "last_synced_at",
        "has_credentials",
    )
    list_filter = ("platform", "kind", "status", "enabled")
    search_fields = ("name", "organization__name")
    exclude = ("credentials_encrypted",)
    readonly_fields = (
        "credentials_stored",
        "cursor",
        "status",
        "last_error",
        "last_synced_at",
        "retry_after",
        "created_at",
    )
    list_select_related = ("organization",)

    @admin.display(boolean=True, description="credentials stored")
    def has_credentials(self, obj: Source) -> bool:
        return obj.has_credentials

    @admin.display(boolean=True, description="credentials stored")
    def credentials_stored(self, obj: Source) -> bool:
        return obj.has_credentials
