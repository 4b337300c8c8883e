from django.urls import path

from fangkong.cases import views

app_name = "cases"
urlpatterns = [
    path("", views.home, name="home"),
    path("areas/<str:code>/", views.board, name="board"),
    path("areas/<str:code>/people/", views.people, name="people"),
    path("areas/<str:code>/export/", views.export, name="export"),
    path("areas/<str:code>/post-discharge/", views.post_discharge, name="post_discharge"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/transition/", views.transition, name="transition"),
    path("<int:pk>/severity/", views.severity, name="severity"),
    path("<int:pk>/tests/", views.order_test, name="order_test"),
    path("open/<int:resident_pk>/", views.open_case, name="open"),
    path("tests/", views.tests, name="tests"),
    path("tests/<int:pk>/sample/", views.sample, name="sample"),
    path("tests/<int:pk>/result/", views.result, name="result"),
    path("tests/import/", views.lab_import, name="import"),
    path("tests/import/template/", views.import_template, name="import_template"),
    path("tests/import/<int:batch_id>/", views.import_result, name="import_result"),
    path("tests/import/<int:batch_id>/report/", views.import_report, name="import_report"),
]
