from django.urls import path

from fangkong.screening import views

app_name = "screening"
urlpatterns = [
    path("", views.today, name="today"),
    path("households/<int:pk>/visit/", views.visit, name="visit"),
    path("households/<int:pk>/qr/", views.household_qr, name="qr"),
    path("households/<int:pk>/qr.png", views.household_qr_png, name="qr_png"),
    path("areas/<str:code>/coverage/", views.coverage, name="coverage"),
    path("areas/<str:code>/coverage.xlsx", views.coverage_export, name="coverage_export"),
    path("follow-ups/", views.follow_ups, name="follow_ups"),
    path("follow-ups/<int:pk>/take/", views.follow_up_handle, {"action": "take"}, name="follow_up_take"),
    path("follow-ups/<int:pk>/dismiss/", views.follow_up_handle, {"action": "dismiss"}, name="follow_up_dismiss"),
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/new/", views.campaign_create, name="campaign_create"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
]
