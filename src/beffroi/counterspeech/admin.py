"""Read-mostly admin: entries change through the services (their approval is bound to what
they say, and each change is a version), not here."""

from __future__ import annotations

from typing import TypeVar

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from beffroi.audit.admin import AuditedAdmin
from beffroi.counterspeech.models import (
    Entry,
    EntrySource,
    EntryText,
    EntryVersion,
    LibrarySettings,
    LibrarySubscription,
)

ChildT = TypeVar("ChildT", bound=models.Model)


class _ReadOnlyInline(admin.TabularInline[ChildT, Entry]):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Entry | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Entry | None = None) -> bool:
        return False


class EntryTextInline(_ReadOnlyInline[EntryText]):
    model = EntryText
    fields = ("language", "text")


class EntrySourceInline(_ReadOnlyInline[EntrySource]):
    model = EntrySource
    fields = ("url", "title", "sha256", "fetched_at", "changed_at", "last_error")


class EntryVersionInline(_ReadOnlyInline[EntryVersion]):
    model = EntryVersion
    fields = ("number", "author", "author_label", "reason", "created_at")


@admin.register(Entry)
class EntryAdmin(AuditedAdmin[Entry]):
    list_display = ("title", "organization", "state", "strategy", "version", "use_count")
    list_filter = ("organization", "state", "strategy", "origin")
    search_fields = ("title", "key")
    inlines = (EntryTextInline, EntrySourceInline, EntryVersionInline)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Entry | None = None) -> bool:
        return False


@admin.register(LibrarySettings)
class LibrarySettingsAdmin(AuditedAdmin[LibrarySettings]):
    list_display = ("organization", "public_name", "published")
    list_filter = ("published",)


@admin.register(LibrarySubscription)
class LibrarySubscriptionAdmin(AuditedAdmin[LibrarySubscription]):
    list_display = ("subscriber", "publisher", "created_at")
