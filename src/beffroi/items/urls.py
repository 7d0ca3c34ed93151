from django.urls import path

from beffroi.items import views

app_name = "items"
urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("items/<int:pk>/", views.item_detail, name="item"),
    path("authors/<int:pk>/", views.author_detail, name="author"),
]
