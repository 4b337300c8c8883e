from django.urls import path

from fangkong.crosscheck import views

app_name = "crosscheck"
urlpatterns = [
    path("", views.todo_list, name="todos"),
    path("export/", views.todo_export, name="export"),
    path("<int:pk>/", views.todo_detail, name="todo"),
    path("<int:pk>/close/", views.todo_close, name="close"),
    path("<int:pk>/register/", views.todo_register, name="register"),
    path("import/", views.evidence_upload, name="import"),
    path("import/template/<str:kind>/", views.evidence_template_download, name="template"),
    path("import/<int:batch_id>/", views.evidence_result, name="result"),
]
