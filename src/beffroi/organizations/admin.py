from django.contrib import admin
from django.http import HttpRequest

from beffroi.audit.admin import AuditedAdmin
from beffroi.organizations.models import Invitation, Membership, Organization


class MembershipInline(admin.TabularInline[Membership, Organization]):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Organization)
class OrganizationAdmin(AuditedAdmin[Organization]):
    list_display = ("name", "slug", "kind", "language", "created_at")
    list_filter = ("kind",)
    search_fields = ("name", "slug")
    readonly_fields = ("created_at",)
    inlines = (MembershipInline,)


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin[Membership]):
    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("role", "organization")
    search_fields = ("user__username", "user__email", "organization__name")
    autocomplete_fields = ("user", "organization")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin[Invitation]):
    """Read-only: invitations change only through their services (answered by the invitee,
    revoked by the organization, expired by the sweep), each step audited there."""

    list_display = ("identifier", "organization", "role", "state", "created_at", "expires_at")
    list_filter = ("state", "role", "organization")
    search_fields = ("identifier", "organization__name")
    exclude = ("token_hash",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Invitation | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Invitation | None = None) -> bool:
        return False
