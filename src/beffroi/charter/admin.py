"""Read-mostly admin: charter changes go through the pages (services and audit), not here."""

from __future__ import annotations

from typing import TypeVar

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from beffroi.charter.models import Category, CharterVersion, RuleEntry

ChildT = TypeVar("ChildT", bound=models.Model)


class _ReadOnlyInline(admin.TabularInline[ChildT, CharterVersion]):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: CharterVersion | None = None) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: CharterVersion | None = None
    ) -> bool:
        return False


class CategoryInline(_ReadOnlyInline[Category]):
    model = Category
    fields = ("slug", "name_fr", "severity", "hide_at", "review_at", "shadow", "enabled")


class RuleInline(_ReadOnlyInline[RuleEntry]):
    model = RuleEntry
    fields = ("category", "language", "kind", "pattern", "weight", "enabled")


@admin.register(CharterVersion)
class CharterVersionAdmin(admin.ModelAdmin[CharterVersion]):
    list_display = ("organization", "number", "status", "created_at", "published_at")
    list_filter = ("status",)
    search_fields = ("organization__name", "organization__slug")
    inlines = [CategoryInline, RuleInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: CharterVersion | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: CharterVersion | None = None
    ) -> bool:
        return False
