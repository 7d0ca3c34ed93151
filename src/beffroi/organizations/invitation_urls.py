"""A person's own invitations, under ``/invitations/`` (outside any organization)."""

from django.urls import path

from beffroi.organizations import views

app_name = "invitations"
urlpatterns = [
    path("", views.my_invitations, name="list"),
    path("link/<str:key>/", views.invitation_open, name="open"),
    path("<int:pk>/accept/", views.invitation_accept, name="accept"),
    path("<int:pk>/decline/", views.invitation_decline, name="decline"),
]
