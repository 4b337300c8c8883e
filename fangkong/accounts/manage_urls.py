from django.urls import path

from fangkong.accounts import manage_views

app_name = "manage"
urlpatterns = [
    path("", manage_views.account_list, name="list"),
    path("new/", manage_views.account_create, name="create"),
    path("import/", manage_views.account_import, name="import"),
    path("import/template/", manage_views.account_import_template, name="import_template"),
    path("<int:pk>/", manage_views.account_detail, name="detail"),
    path("<int:pk>/edit/", manage_views.account_edit, name="edit"),
    path("<int:pk>/deactivate/", manage_views.account_deactivate, name="deactivate"),
    path("<int:pk>/reactivate/", manage_views.account_reactivate, name="reactivate"),
    path("<int:pk>/password/", manage_views.account_reset_password, name="reset_password"),
    path("<int:pk>/sessions/end/", manage_views.account_end_sessions, name="end_sessions"),
    path("<int:pk>/unlock/", manage_views.account_unlock, name="unlock"),
    path("<int:pk>/two-factor/reset/", manage_views.account_reset_two_factor, name="reset_two_factor"),
]
