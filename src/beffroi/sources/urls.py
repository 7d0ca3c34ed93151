from django.urls import path

from beffroi.sources import connect, views

app_name = "sources"
urlpatterns = [
    path("", views.source_list, name="list"),
    path("new/", views.source_create, name="create"),
    path("<int:pk>/edit/", views.source_edit, name="edit"),
    path("<int:pk>/sync/", views.source_sync, name="sync"),
    path("<int:pk>/import/", views.source_import, name="import"),
    path("connect/choose/", connect.connect_choose, name="connect_choose"),
    path("connect/<slug:platform>/", connect.connect_start, name="connect"),
]
