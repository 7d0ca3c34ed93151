"""Addresses of the publishing desk reached without an account, each by a signed token: the
external approval page, media fetched by platforms, the calendar feed."""

from django.urls import path

from beffroi.publishing.views import calendar, external

app_name = "publishing_public"
urlpatterns = [
    path("approve/<str:token>/", external.external_approval, name="approve"),
    path("media/<str:token>/", external.public_media, name="media"),
    path("calendar/<str:token>.ics", calendar.calendar_feed, name="calendar_feed"),
]
