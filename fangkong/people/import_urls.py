from django.urls import path

from fangkong.people import area_import_views, import_views

app_name = "imports"
urlpatterns = [
    path("", import_views.upload, name="upload"),
    path("template/", import_views.template, name="template"),
    path("<int:batch_id>/", import_views.result, name="result"),
    path("<int:batch_id>/report/", import_views.report, name="report"),
    path("areas/", area_import_views.upload, name="areas"),
    path("areas/<int:batch_id>/", area_import_views.result, name="areas_result"),
]
