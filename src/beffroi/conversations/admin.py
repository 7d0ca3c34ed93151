from django.contrib import admin

from beffroi.audit.admin import AuditedAdmin
from beffroi.conversations.models import Conversation, SavedReply, Team


@admin.register(Team)
class TeamAdmin(AuditedAdmin[Team]):
    list_display = ("name", "slug", "organization")
    list_filter = ("organization",)


@admin.register(Conversation)
class ConversationAdmin(AuditedAdmin[Conversation]):
    list_display = ("pk", "organization", "kind", "state", "assignee", "team", "last_citizen_at")
    list_filter = ("organization", "state", "kind")
    raw_id_fields = ("root", "author", "source", "items")


@admin.register(SavedReply)
class SavedReplyAdmin(AuditedAdmin[SavedReply]):
    list_display = ("name", "language", "organization", "acknowledgement")
    list_filter = ("organization", "language")
