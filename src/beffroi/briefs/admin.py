"""Read-only admin: briefs, deliveries and answers change through the services (each change
audited, the partners' desks kept in step), never here; a link's secret is never shown."""

from __future__ import annotations

from typing import TypeVar

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from beffroi.audit.admin import AuditedAdmin
from beffroi.briefs.models import (
    Brief,
    BriefDelivery,
    BriefEntry,
    BriefPost,
    BriefResponse,
    ExternalPartner,
    Partnership,
)

ModelT = TypeVar("ModelT", bound=models.Model)


class _ReadOnlyAdmin(AuditedAdmin[ModelT]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ModelT | None = None) -> bool:
        return False


class BriefPostInline(admin.TabularInline[BriefPost, Brief]):
    model = BriefPost
    extra = 0
    can_delete = False
    fields = ("position", "platform", "platform_id", "url", "author_handle")

    def has_add_permission(self, request: HttpRequest, obj: Brief | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Brief | None = None) -> bool:
        return False


class BriefEntryInline(admin.TabularInline[BriefEntry, Brief]):
    model = BriefEntry
    extra = 0
    can_delete = False
    fields = ("position", "key", "title", "strategy")

    def has_add_permission(self, request: HttpRequest, obj: Brief | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Brief | None = None) -> bool:
        return False


@admin.register(Brief)
class BriefAdmin(_ReadOnlyAdmin[Brief]):
    list_display = ("title", "organization", "state", "origin", "sent_at", "valid_until")
    list_filter = ("organization", "state", "origin")
    search_fields = ("title", "key")
    inlines = (BriefPostInline, BriefEntryInline)


@admin.register(BriefDelivery)
class BriefDeliveryAdmin(_ReadOnlyAdmin[BriefDelivery]):
    list_display = ("brief", "organization", "external_name", "state", "delivered_at")
    list_filter = ("state",)


@admin.register(BriefResponse)
class BriefResponseAdmin(_ReadOnlyAdmin[BriefResponse]):
    list_display = ("delivery", "how", "answered_by", "answered_at", "url")
    list_filter = ("how",)


@admin.register(Partnership)
class PartnershipAdmin(_ReadOnlyAdmin[Partnership]):
    list_display = ("sender", "organization", "state", "proposed_at", "accepted_at")
    list_filter = ("state",)


@admin.register(ExternalPartner)
class ExternalPartnerAdmin(_ReadOnlyAdmin[ExternalPartner]):
    list_display = ("name", "organization", "key_id", "created_at")
    fields = ("name", "organization", "key_id", "counterpart", "created_at")
    readonly_fields = fields
