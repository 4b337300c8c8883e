from django.urls import path

from fangkong.observation import views

app_name = "observation"
urlpatterns = [
    path("", views.home, name="home"),
    path("areas/<str:code>/", views.board, name="board"),
    path("areas/<str:code>/release/", views.release_area, name="release_area"),
    path("areas/<str:code>/notices/", views.area_notices, name="area_notices"),
    path("areas/<str:code>/responsible/", views.assign_responsible, name="responsible"),
    path("files/<int:pk>/", views.detail, name="file"),
    path("files/<int:pk>/report/", views.report, name="report"),
    path("files/<int:pk>/note/", views.note, name="note"),
    path("files/<int:pk>/decision/", views.decision, name="decision"),
    path("files/<int:pk>/violation/", views.violation, name="violation"),
    path("files/<int:pk>/release/", views.release, name="release"),
    path("files/<int:pk>/responsible/", views.set_responsible, name="set_responsible"),
    path("files/<int:pk>/link/", views.renew_link, name="renew_link"),
    path("files/<int:pk>/notice/", views.notice, name="notice"),
    path("alerts/<int:pk>/handle/", views.handle_alert, name="handle_alert"),
    path("open/<int:resident_pk>/", views.open_file, name="open"),
]
