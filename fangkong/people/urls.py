from django.urls import path

from fangkong.people import views

app_name = "people"
urlpatterns = [
    path("search/", views.search, name="search"),
    path("households/<int:pk>/", views.household_detail, name="household"),
    path("residents/<int:pk>/", views.resident_detail, name="resident"),
    path("residents/<int:pk>/reveal/", views.resident_reveal, name="reveal"),
    path("residents/<int:pk>/edit/", views.resident_edit, name="resident_edit"),
    # The area page's resident export (its link is people's panel on that page).
    path("areas/<str:code>/export/", views.area_export, name="area_export"),
]
