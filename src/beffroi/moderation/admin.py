from django.contrib import admin

from beffroi.audit.admin import AuditedAdmin
from beffroi.moderation.models import Case, Decision


@admin.register(Decision)
class DecisionAdmin(AuditedAdmin[Decision]):
    list_display = (
        "created_at",
        "organization",
        "item",
        "action",
        "category",
        "automated",
        "actor",
    )
    list_filter = ("action", "automated", "organization")
    search_fields = ("category", "clause", "rule")
    raw_id_fields = ("item",)
    readonly_fields = ("scores", "platform_result", "created_at")
    list_select_related = ("organization", "item", "actor")


@admin.register(Case)
class CaseAdmin(AuditedAdmin[Case]):
    list_display = ("created_at", "organization", "item", "state", "priority", "assignee")
    list_filter = ("state", "organization")
    search_fields = ("reason",)
    raw_id_fields = ("item",)
    list_select_related = ("organization", "item", "assignee")
