"""The publishing desk's pages of an organization, under ``/o/<slug>/publishing/``."""

from django.urls import path

from beffroi.publishing.views import calendar, library, pause, posts

app_name = "publishing"
urlpatterns = [
    path("", posts.post_list, name="list"),
    path("new/", posts.post_compose, name="create"),
    path("check/", posts.post_check, name="check"),
    path("<int:pk>/", posts.post_detail, name="detail"),
    path("<int:pk>/edit/", posts.post_compose, name="edit"),
    path("<int:pk>/submit/", posts.post_submit, name="submit"),
    path("<int:pk>/decide/", posts.post_decide, name="decide"),
    path("<int:pk>/schedule/", posts.post_schedule, name="schedule"),
    path("<int:pk>/publish-now/", posts.post_publish_now, name="publish_now"),
    path("<int:pk>/publish-again/", posts.post_publish_again, name="publish_again"),
    path("<int:pk>/suspend/", posts.post_suspend, name="suspend"),
    path("<int:pk>/reinstate/", posts.post_reinstate, name="reinstate"),
    path("<int:pk>/comment/", posts.post_comment, name="comment"),
    path("<int:pk>/external-link/", posts.post_external_link, name="external_link"),
    path("variants/<int:pk>/retry/", posts.variant_retry, name="variant_retry"),
    path("variants/<int:pk>/confirm/", posts.variant_confirm, name="variant_confirm"),
    path("variants/<int:pk>/package/", posts.variant_package, name="variant_package"),
    path("calendar/", calendar.calendar_view, name="calendar"),
    path("calendar/move/", calendar.calendar_move, name="calendar_move"),
    path("calendar/feed/", calendar.calendar_feed_settings, name="calendar_feed"),
    path("pause/", pause.pause_page, name="pause"),
    path("pause/<int:pk>/resume/", pause.pause_resume, name="pause_resume"),
    path("windows/new/", pause.window_edit, name="window_create"),
    path("windows/<int:pk>/", pause.window_edit, name="window_edit"),
    path("windows/<int:pk>/delete/", pause.window_delete, name="window_delete"),
    path("media/", library.media_list, name="media"),
    path("media/<int:pk>/", library.media_edit, name="media_edit"),
    path("media/<int:pk>/file/", library.media_file, name="media_file"),
    path("media/<int:pk>/delete/", library.media_delete, name="media_delete"),
    path("workflows/", library.workflows, name="workflows"),
    path("workflows/new/", library.workflow_edit, name="workflow_create"),
    path("workflows/<int:pk>/", library.workflow_edit, name="workflow_edit"),
    path("workflows/<int:pk>/delete/", library.workflow_delete, name="workflow_delete"),
    path("settings/", library.publishing_settings, name="settings"),
]
