"""The desk's pages of an organization, under ``/o/<slug>/conversations/``."""

from django.urls import path

from beffroi.conversations.views import desk, library, reports

app_name = "conversations"
urlpatterns = [
    path("", desk.conversation_list, name="list"),
    path("bulk/", desk.conversation_bulk, name="bulk"),
    path("response-times/", reports.response_times, name="response_times"),
    path("<int:pk>/", desk.conversation_detail, name="detail"),
    path("<int:pk>/presence/", desk.conversation_presence, name="presence"),
    path("<int:pk>/assign/", desk.conversation_assign, name="assign"),
    path("<int:pk>/team/", desk.conversation_team, name="team"),
    path("<int:pk>/state/", desk.conversation_state, name="state"),
    path("<int:pk>/labels/", desk.conversation_labels, name="labels"),
    path("<int:pk>/request/", desk.conversation_request, name="request"),
    path("<int:pk>/snooze/", desk.conversation_snooze, name="snooze"),
    path("<int:pk>/note/", desk.conversation_note, name="note"),
    path("<int:pk>/reply/", desk.conversation_reply, name="reply"),
    path("<int:pk>/handoff/", desk.conversation_handoff, name="handoff"),
    path("handoffs/<int:pk>/retry/", desk.handoff_retry, name="handoff_retry"),
    path("replies/<int:pk>/retry/", desk.reply_retry, name="reply_retry"),
    path("replies/<int:pk>/confirm/", desk.reply_confirm, name="reply_confirm"),
    path("saved-replies/", library.saved_replies, name="saved_replies"),
    path("saved-replies/new/", library.saved_reply_edit, name="saved_reply_create"),
    path("saved-replies/<int:pk>/", library.saved_reply_edit, name="saved_reply_edit"),
    path("saved-replies/<int:pk>/delete/", library.saved_reply_delete, name="saved_reply_delete"),
    path("request-systems/", library.request_systems, name="request_systems"),
    path("request-systems/new/", library.request_system_edit, name="request_system_create"),
    path("request-systems/<int:pk>/", library.request_system_edit, name="request_system_edit"),
    path("request-models/", library.request_models, name="request_models"),
    path("request-models/learn/", library.request_models_learn, name="request_models_learn"),
    path(
        "request-models/<int:pk>/activate/",
        library.request_model_activate,
        name="request_model_activate",
    ),
    path("routing-rules/", library.routing_rules, name="routing_rules"),
    path("routing-rules/new/", library.routing_rule_edit, name="routing_rule_create"),
    path("routing-rules/<int:pk>/", library.routing_rule_edit, name="routing_rule_edit"),
    path("routing-rules/<int:pk>/delete/", library.routing_rule_delete, name="routing_rule_delete"),
    path("teams/", library.teams, name="teams"),
    path("teams/new/", library.team_edit, name="team_create"),
    path("teams/<int:pk>/", library.team_edit, name="team_edit"),
    path("<int:pk>/reply-box/", desk.conversation_reply_box, name="reply_box"),
]
