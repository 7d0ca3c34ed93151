from django.contrib import admin

from beffroi.audit.admin import ReadOnlyAdmin
from beffroi.jobs.models import Job


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin[Job]):
    """Jobs are written by the engine only: read them here."""

    list_display = ("id", "name", "organization", "state", "attempts", "created_at", "finished_at")
    list_filter = ("state", "name")
    search_fields = ("name", "dedupe_key", "last_error")
    list_select_related = ("organization",)
