"""Charter pages of an organization, under ``/o/<slug>/charter/``."""

from django.urls import path

from beffroi.charter import views

app_name = "charter"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.draft_create, name="draft_create"),
    path("import/", views.import_charter, name="import"),
    path("diff/", views.diff, name="diff"),
    path("versions/<int:pk>/", views.version_detail, name="version"),
    path("versions/<int:pk>/settings/", views.version_edit, name="version_edit"),
    path("versions/<int:pk>/shadow/", views.shadow, name="shadow"),
    path("versions/<int:pk>/publish/", views.publish, name="publish"),
    path("versions/<int:pk>/retire/", views.retire, name="retire"),
    path("versions/<int:pk>/discard/", views.discard, name="discard"),
    path("versions/<int:pk>/export/", views.export, name="export"),
    path("versions/<int:pk>/categories/new/", views.category_create, name="category_create"),
    path("versions/<int:pk>/rules/", views.rules, name="rules"),
    path("versions/<int:pk>/rules/new/", views.rule_create, name="rule_create"),
    path("versions/<int:pk>/rules/bulk/", views.rule_bulk, name="rule_bulk"),
    path("categories/<int:pk>/edit/", views.category_edit, name="category_edit"),
    path("categories/<int:pk>/delete/", views.category_delete, name="category_delete"),
    path("rules/<int:pk>/edit/", views.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
]
