from django.urls import path

from fangkong.accounts import token_views

app_name = "tokens"
urlpatterns = [
    path("", token_views.token_list, name="list"),
    path("<int:token_id>/revoke/", token_views.revoke, name="revoke"),
]
