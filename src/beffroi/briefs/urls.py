"""The response briefs of an organization, under ``/o/<slug>/briefs/``."""

from django.urls import path

from beffroi.briefs.views import briefs, partners, received

app_name = "briefs"
urlpatterns = [
    path("", briefs.brief_list, name="list"),
    path("new/", briefs.brief_form, name="create"),
    path("import/", received.import_brief, name="import"),
    path("<int:pk>/", briefs.brief_detail, name="detail"),
    path("<int:pk>/edit/", briefs.brief_form, name="edit"),
    path("<int:pk>/send/", briefs.brief_send, name="send"),
    path("<int:pk>/close/", briefs.brief_close, name="close"),
    path("<int:pk>/export/", briefs.brief_export, name="export"),
    path("<int:pk>/answers/import/", briefs.brief_import_responses, name="import_responses"),
    path("received/<int:pk>/", received.received, name="received"),
    path("received/<int:pk>/acknowledge/", received.acknowledge, name="acknowledge"),
    path("received/<int:pk>/decline/", received.decline, name="decline"),
    path("received/<int:pk>/answered/", received.declare, name="declare"),
    path("received/<int:pk>/report/", received.export_responses, name="export_responses"),
    path("partners/", partners.partners, name="partners"),
    path("partners/propose/", partners.propose, name="propose"),
    path("partners/accept/", partners.accept, name="accept"),
    path("partners/stop-sending/", partners.stop_sending, name="stop_sending"),
    path("partners/stop-receiving/", partners.stop_receiving, name="stop_receiving"),
    path("links/new/", partners.link_create, name="link_create"),
    path("links/join/", partners.link_join, name="link_join"),
    path("links/<int:pk>/delete/", partners.link_delete, name="link_delete"),
]
