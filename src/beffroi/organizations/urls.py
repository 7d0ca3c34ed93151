from django.urls import path

from beffroi.audit import views as audit_views
from beffroi.organizations import views

app_name = "organizations"
urlpatterns = [
    path("", views.settings_view, name="settings"),
    path("members/", views.members, name="members"),
    path("members/invite/", views.member_invite, name="member_invite"),
    path("members/new/", views.member_create, name="member_create"),
    path("members/<int:pk>/role/", views.member_role, name="member_role"),
    path("members/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path(
        "members/invitations/<int:pk>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("audit/", audit_views.audit_log, name="audit"),
]
