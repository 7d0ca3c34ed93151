"""Moderation pages of an organization, under ``/o/<slug>/moderation/``."""

from django.urls import path

from beffroi.moderation import views

app_name = "moderation"
urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("queue/next/", views.queue_next, name="queue_next"),
    path("queue/bulk/", views.queue_bulk, name="queue_bulk"),
    path("undo/", views.undo_last, name="undo"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("cases/<int:pk>/decide/", views.case_decide, name="case_decide"),
    path("cases/<int:pk>/release/", views.case_release, name="case_release"),
    path("cases/<int:pk>/appeal/", views.case_appeal_decide, name="case_appeal"),
    path("items/<int:pk>/decide/", views.item_decide, name="item_decide"),
    path("items/<int:pk>/dossier.json", views.dossier_json, name="dossier_json"),
    path("items/<int:pk>/dossier.pdf", views.dossier_pdf, name="dossier_pdf"),
    path("decisions/", views.decisions_log, name="decisions"),
    path("decisions/<int:pk>/appeal/", views.appeal_create, name="appeal_create"),
    path("statements.json", views.statements_json, name="statements_json"),
    path("statements.csv", views.statements_csv, name="statements_csv"),
    path("classifier/", views.classifier, name="classifier"),
    path("classifier/retrain/", views.classifier_retrain, name="classifier_retrain"),
    path("classifier/default/", views.classifier_default, name="classifier_default"),
    path("classifier/<int:pk>/activate/", views.classifier_activate, name="classifier_activate"),
]
