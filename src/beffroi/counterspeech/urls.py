"""The counter-speech library's pages of an organization, under ``/o/<slug>/counter-speech/``."""

from django.urls import path

from beffroi.counterspeech.views import drafting, entries, outcomes, sharing

app_name = "counterspeech"
urlpatterns = [
    path("", entries.library, name="library"),
    path("import/", entries.import_file, name="import"),
    path("new/", entries.entry_form, name="create"),
    path("<int:pk>/", entries.entry_detail, name="detail"),
    path("<int:pk>/edit/", entries.entry_form, name="edit"),
    path("<int:pk>/submit/", entries.entry_submit, name="submit"),
    path("<int:pk>/approve/", entries.entry_approve, name="approve"),
    path("<int:pk>/send-back/", entries.entry_send_back, name="send_back"),
    path("<int:pk>/retire/", entries.entry_retire, name="retire"),
    path("outcomes/", outcomes.outcomes, name="outcomes"),
    path("gaps/", outcomes.gaps, name="gaps"),
    path("sharing/", sharing.sharing, name="sharing"),
    path("sharing/publish/", sharing.publish, name="publish"),
    path("sharing/unpublish/", sharing.unpublish, name="unpublish"),
    path("sharing/subscribe/", sharing.subscribe, name="subscribe"),
    path("sharing/<int:pk>/unsubscribe/", sharing.unsubscribe, name="unsubscribe"),
    path("drafting/", drafting.drafting_settings, name="drafting"),
    path("drafting/test/", drafting.drafting_test, name="drafting_test"),
    path("draft/<int:pk>/", drafting.draft, name="draft"),
]
