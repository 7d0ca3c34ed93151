import json

from django.contrib import admin
from django.utils.html import format_html

from beffroi.audit.admin import AuditedAdmin
from beffroi.items.models import Author, Item


@admin.register(Author)
class AuthorAdmin(AuditedAdmin[Author]):
    list_display = ("handle", "display_name", "platform", "organization", "first_seen_at")
    list_filter = ("platform",)
    search_fields = ("handle", "display_name", "platform_id")
    readonly_fields = ("organization", "platform", "platform_id", "extra", "first_seen_at")
    list_select_related = ("organization",)


@admin.register(Item)
class ItemAdmin(AuditedAdmin[Item]):
    """The raw payload is evidence: shown, never edited."""

    list_display = ("created_at", "platform", "kind", "author", "state", "organization")
    list_filter = ("platform", "kind", "state", "language")
    search_fields = ("text", "platform_id", "author__handle")
    date_hierarchy = "created_at"
    exclude = ("raw",)
    readonly_fields = (
        "organization",
        "source",
        "platform",
        "platform_id",
        "author",
        "parent",
        "thread_id",
        "parent_platform_id",
        "created_at",
        "ingested_at",
        "raw_payload",
    )
    list_select_related = ("author", "organization")

    class Media:
        # A class, not an inline style: the Content-Security-Policy refuses inline styles.
        css = {"all": ("beffroi/admin.css",)}

    @admin.display(description="raw payload")
    def raw_payload(self, obj: Item) -> str:
        return format_html(
            '<pre class="raw-payload">{}</pre>',
            json.dumps(obj.raw, indent=2, ensure_ascii=False, sort_keys=True),
        )
