"""Top-level routes. Organization pages live under ``/o/<slug>/``."""

from django.contrib import admin
from django.urls import include, path

from beffroi.sources import connect, webhooks
from beffroi.web import metrics

urlpatterns = [
    path("", include("beffroi.core.urls")),
    path("accounts/", include("beffroi.accounts.urls")),
    path("invitations/", include("beffroi.organizations.invitation_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("o/<slug:org_slug>/", include("beffroi.overview.urls")),
    path("o/<slug:org_slug>/", include("beffroi.items.urls")),
    path("o/<slug:org_slug>/settings/", include("beffroi.organizations.urls")),
    path("o/<slug:org_slug>/sources/", include("beffroi.sources.urls")),
    path("o/<slug:org_slug>/charter/", include("beffroi.charter.urls")),
    path("o/<slug:org_slug>/moderation/", include("beffroi.moderation.urls")),
    path("o/<slug:org_slug>/veille/", include("beffroi.veille.urls")),
    path("o/<slug:org_slug>/conversations/", include("beffroi.conversations.urls")),
    path("o/<slug:org_slug>/publishing/", include("beffroi.publishing.urls")),
    path("o/<slug:org_slug>/counter-speech/", include("beffroi.counterspeech.urls")),
    path("o/<slug:org_slug>/briefs/", include("beffroi.briefs.urls")),
    path("charter/", include("beffroi.charter.public_urls")),
    # The one callback address registered on every platform's OAuth application.
    path("sources/oauth/callback/", connect.oauth_callback, name="oauth_callback"),
    path("webhooks/meta/", webhooks.meta_webhook, name="meta_webhook"),
    path("hooks/requests/", include("beffroi.conversations.hook_urls")),
    path("p/", include("beffroi.publishing.public_urls")),
    path("api/v1/", include("beffroi.api.urls")),
    # Health and queue depth for Prometheus (off unless BEFFROI_METRICS_TOKEN is set).
    path("metrics", metrics.metrics, name="metrics"),
    path("django-admin/", admin.site.urls),
]

# A database held by other work answers 503 "busy, try again", not 400 or 500 (core/busy.py).
handler400 = "beffroi.core.busy.bad_request"
handler500 = "beffroi.core.busy.server_error"
