from django.urls import path

from fangkong.areas import grid_views, views

app_name = "areas"
urlpatterns = [
    path("", views.home, name="home"),
    path("areas/<str:code>/", views.area_detail, name="detail"),
    path("areas/<str:code>/grids/", grid_views.community_grids, name="grids"),
    path("areas/<str:code>/grids/new/", grid_views.grid_create, name="grid_create"),
    path("areas/<str:code>/grid/", grid_views.grid_manage, name="grid_manage"),
    path("areas/<str:code>/grid/rename/", grid_views.grid_rename, name="grid_rename"),
    path("areas/<str:code>/grid/buildings/", grid_views.grid_buildings, name="grid_buildings"),
    path("areas/<str:code>/grid/worker/", grid_views.grid_worker, name="grid_worker"),
    path("areas/<str:code>/grid/merge/", grid_views.grid_merge, name="grid_merge"),
    path("areas/<str:code>/grid/delete/", grid_views.grid_delete, name="grid_delete"),
    path("compounds/<int:pk>/", views.compound_detail, name="compound"),
    path("buildings/<int:pk>/", views.building_detail, name="building"),
]
