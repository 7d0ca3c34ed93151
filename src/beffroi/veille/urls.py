"""Veille pages of an organization, under ``/o/<slug>/veille/``."""

from django.urls import path

from beffroi.veille import views

app_name = "veille"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("scan/", views.scan_now, name="scan"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert"),
    path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
    path("channels/", views.channels, name="channels"),
    path("channels/new/", views.channel_edit, name="channel_create"),
    path("channels/<int:pk>/", views.channel_edit, name="channel_edit"),
    path("channels/<int:pk>/delete/", views.channel_delete, name="channel_delete"),
    path("channels/<int:pk>/test/", views.channel_test, name="channel_test"),
    path("watches/", views.watches, name="watches"),
    path("watches/new/", views.watch_edit, name="watch_create"),
    path("watches/<int:pk>/", views.watch_detail, name="watch"),
    path("watches/<int:pk>/edit/", views.watch_edit, name="watch_edit"),
    path("watches/<int:pk>/delete/", views.watch_delete, name="watch_delete"),
    path("narratives/", views.narratives, name="narratives"),
    path("narratives/<int:pk>/", views.narrative_detail, name="narrative"),
    path("narratives/<int:pk>/rename/", views.narrative_rename, name="narrative_rename"),
    path("narratives/<int:pk>/merge/", views.narrative_merge, name="narrative_merge"),
    path("narratives/<int:pk>/split/", views.narrative_split, name="narrative_split"),
    path("claims/", views.claims, name="claims"),
    path("claims/new/", views.claim_edit, name="claim_create"),
    path("claims/import/", views.claims_import, name="claims_import"),
    path("claims/matches/", views.claim_matches, name="claim_matches"),
    path("claims/<int:pk>/", views.claim_edit, name="claim_edit"),
    path("claims/<int:pk>/delete/", views.claim_delete, name="claim_delete"),
    path("campaigns/", views.campaigns, name="campaigns"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/status/", views.campaign_status, name="campaign_status"),
    path("identities/", views.identities_list, name="identities"),
    path("identities/new/", views.identity_edit, name="identity_create"),
    path("identities/<int:pk>/", views.identity_edit, name="identity_edit"),
    path("identities/<int:pk>/delete/", views.identity_delete, name="identity_delete"),
    path("impersonators/", views.impersonators, name="impersonators"),
    path("impersonators/<int:pk>/", views.impersonator_detail, name="impersonator"),
    path("impersonators/<int:pk>/status/", views.impersonator_status, name="impersonator_status"),
]
