from django.urls import path

from beffroi.overview import views

app_name = "overview"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
