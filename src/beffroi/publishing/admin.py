from django.contrib import admin

from beffroi.audit.admin import AuditedAdmin
from beffroi.publishing.models import ApprovalWorkflow, MediaAsset, Post


@admin.register(Post)
class PostAdmin(AuditedAdmin[Post]):
    list_display = ("title", "organization", "state", "scheduled_at")
    list_filter = ("organization", "state", "kind")
    raw_id_fields = ("in_reply_to", "series")


@admin.register(MediaAsset)
class MediaAssetAdmin(AuditedAdmin[MediaAsset]):
    list_display = ("name", "organization", "kind", "size_bytes")
    list_filter = ("organization", "kind")


@admin.register(ApprovalWorkflow)
class ApprovalWorkflowAdmin(AuditedAdmin[ApprovalWorkflow]):
    list_display = ("name", "organization", "source")
    list_filter = ("organization",)
