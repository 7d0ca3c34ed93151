"""Veille pages of an organization, under ``/o/<slug>/veille/``."""

from django.urls import path

from beffroi.veille.views import (
    alerts,
    campaigns,
    channels,
    claims,
    dashboard,
    impersonation,
    narratives,
    watches,
)

app_name = "veille"
urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("scan/", dashboard.scan_now, name="scan"),
    path("alerts/", alerts.alerts, name="alerts"),
    path("alerts/<int:pk>/", alerts.alert_detail, name="alert"),
    path("alerts/<int:pk>/acknowledge/", alerts.alert_acknowledge, name="alert_acknowledge"),
    path("channels/", channels.channels, name="channels"),
    path("channels/new/", channels.channel_edit, name="channel_create"),
    path("channels/<int:pk>/", channels.channel_edit, name="channel_edit"),
    path("channels/<int:pk>/delete/", channels.channel_delete, name="channel_delete"),
    path("channels/<int:pk>/test/", channels.channel_test, name="channel_test"),
    path("watches/", watches.watches, name="watches"),
    path("watches/new/", watches.watch_edit, name="watch_create"),
    path("watches/<int:pk>/", watches.watch_detail, name="watch"),
    path("watches/<int:pk>/edit/", watches.watch_edit, name="watch_edit"),
    path("watches/<int:pk>/delete/", watches.watch_delete, name="watch_delete"),
    path("narratives/", narratives.narratives, name="narratives"),
    path("narratives/<int:pk>/", narratives.narrative_detail, name="narrative"),
    path("narratives/<int:pk>/rename/", narratives.narrative_rename, name="narrative_rename"),
    path("narratives/<int:pk>/merge/", narratives.narrative_merge, name="narrative_merge"),
    path("narratives/<int:pk>/split/", narratives.narrative_split, name="narrative_split"),
    path("claims/", claims.claims, name="claims"),
    path("claims/new/", claims.claim_edit, name="claim_create"),
    path("claims/import/", claims.claims_import, name="claims_import"),
    path("claims/matches/", claims.claim_matches, name="claim_matches"),
    path("claims/<int:pk>/", claims.claim_edit, name="claim_edit"),
    path("claims/<int:pk>/delete/", claims.claim_delete, name="claim_delete"),
    path("campaigns/", campaigns.campaigns, name="campaigns"),
    path("campaigns/<int:pk>/", campaigns.campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/status/", campaigns.campaign_status, name="campaign_status"),
    path("identities/", impersonation.identities_list, name="identities"),
    path("identities/new/", impersonation.identity_edit, name="identity_create"),
    path("identities/<int:pk>/", impersonation.identity_edit, name="identity_edit"),
    path("identities/<int:pk>/delete/", impersonation.identity_delete, name="identity_delete"),
    path("impersonators/", impersonation.impersonators, name="impersonators"),
    path("impersonators/<int:pk>/", impersonation.impersonator_detail, name="impersonator"),
    path(
        "impersonators/<int:pk>/status/",
        impersonation.impersonator_status,
        name="impersonator_status",
    ),
]
