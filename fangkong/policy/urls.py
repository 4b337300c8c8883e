from django.urls import path

from fangkong.policy import views

app_name = "policy"
urlpatterns = [
    path("", views.detail, name="detail"),
    path("edit/", views.edit, name="edit"),
]
