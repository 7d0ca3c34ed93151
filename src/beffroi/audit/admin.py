"""Admin for audit events (read-only) and the audit mixin used by every other admin."""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from beffroi.audit.actions import AuditAction
from beffroi.audit.models import AuditEvent
from beffroi.audit.services import Actor, record, snapshot

ModelT = TypeVar("ModelT", bound=models.Model)


def _organization_of(obj: models.Model) -> Any:
    from beffroi.organizations.models import Organization

    if isinstance(obj, Organization):
        return obj
    return getattr(obj, "organization", None)


class AuditedAdmin(admin.ModelAdmin[ModelT]):
    """Changes made in the admin are audited like the others (channel ``ui``)."""

    def save_model(self, request: HttpRequest, obj: ModelT, form: Any, change: bool) -> None:
        before = None
        if change and obj.pk is not None:
            previous = type(obj)._default_manager.filter(pk=obj.pk).first()
            before = snapshot(previous) if previous is not None else None
        super().save_model(request, obj, form, change)
        action = AuditAction.ADMIN_UPDATE if change else AuditAction.ADMIN_CREATE
        record(
            Actor(request.user, "ui"),
            action,
            organization=_organization_of(obj),
            obj=obj,
            before=before,
            after=snapshot(obj),
        )

    def delete_model(self, request: HttpRequest, obj: ModelT) -> None:
        record(
            Actor(request.user, "ui"),
            AuditAction.ADMIN_DELETE,
            organization=_organization_of(obj),
            obj=obj,
            before=snapshot(obj),
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: models.QuerySet[ModelT]) -> None:
        for obj in queryset:
            record(
                Actor(request.user, "ui"),
                AuditAction.ADMIN_DELETE,
                organization=_organization_of(obj),
                obj=obj,
                before=snapshot(obj),
            )
        super().delete_queryset(request, queryset)


class ReadOnlyAdmin(admin.ModelAdmin[ModelT]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ModelT | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ModelT | None = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin[AuditEvent]):
    list_display = (
        "created_at",
        "organization",
        "actor_label",
        "channel",
        "action",
        "object_type",
        "object_id",
    )
    list_filter = ("channel", "organization")
    search_fields = ("action", "actor_label", "object_id")
    date_hierarchy = "created_at"
    list_select_related = ("organization",)
