"""The desk's addresses outside an organization's pages, under ``/hooks/requests/``: where a
webhook request system says what became of a request (signed, not logged in)."""

from django.urls import path

from beffroi.conversations.views import hooks

app_name = "request_hooks"
urlpatterns = [
    path("<int:system_id>/", hooks.request_status, name="status"),
]
