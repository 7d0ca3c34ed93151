"""The public charter page, without login: ``/charter/<slug>/`` (``?lang=en`` for English)."""

from django.urls import path

from beffroi.charter import views

app_name = "charter_public"
urlpatterns = [path("<slug:slug>/", views.public_charter, name="page")]
