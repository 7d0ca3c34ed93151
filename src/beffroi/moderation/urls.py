"""Moderation pages of an organization, under ``/o/<slug>/moderation/``."""

from django.urls import path

from beffroi.moderation.views import (
    appeals,
    cases,
    classifier,
    decisions,
    dossiers,
    replies,
    review_queue,
    statements,
)

app_name = "moderation"
urlpatterns = [
    path("queue/", review_queue.queue, name="queue"),
    path("queue/next/", review_queue.queue_next, name="queue_next"),
    path("queue/bulk/", review_queue.queue_bulk, name="queue_bulk"),
    path("undo/", decisions.undo_last, name="undo"),
    path("cases/<int:pk>/", cases.case_detail, name="case"),
    path("cases/<int:pk>/decide/", cases.case_decide, name="case_decide"),
    path("cases/<int:pk>/release/", cases.case_release, name="case_release"),
    path("cases/<int:pk>/take/", cases.case_take, name="case_take"),
    path("cases/<int:pk>/take-over/", cases.case_take_over, name="case_take_over"),
    path("cases/<int:pk>/appeal/", appeals.case_appeal_decide, name="case_appeal"),
    path("items/<int:pk>/decide/", decisions.item_decide, name="item_decide"),
    path("items/<int:pk>/reply/", replies.item_reply, name="item_reply"),
    path("items/<int:pk>/dossier.json", dossiers.dossier_json, name="dossier_json"),
    path("items/<int:pk>/dossier.pdf", dossiers.dossier_pdf, name="dossier_pdf"),
    path("decisions/", decisions.decisions_log, name="decisions"),
    path("decisions/<int:pk>/appeal/", appeals.appeal_create, name="appeal_create"),
    path("decisions/<int:pk>/retry/", decisions.platform_retry, name="platform_retry"),
    path("statements.json", statements.statements_json, name="statements_json"),
    path("statements.csv", statements.statements_csv, name="statements_csv"),
    path("classifier/", classifier.classifier, name="classifier"),
    path("classifier/retrain/", classifier.classifier_retrain, name="classifier_retrain"),
    path("classifier/default/", classifier.classifier_default, name="classifier_default"),
    path(
        "classifier/<int:pk>/activate/",
        classifier.classifier_activate,
        name="classifier_activate",
    ),
]
