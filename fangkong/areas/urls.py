from django.urls import path

from fangkong.areas import views

app_name = "areas"
urlpatterns = [
    path("", views.home, name="home"),
    path("areas/<str:code>/", views.area_detail, name="detail"),
    path("areas/<str:code>/export/", views.area_export, name="export"),
    path("compounds/<int:pk>/", views.compound_detail, name="compound"),
    path("buildings/<int:pk>/", views.building_detail, name="building"),
]
