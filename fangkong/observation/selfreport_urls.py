"""The personal self-report link of an observation file: /o/<token>/ (short, for QR codes)."""

from django.urls import path

from fangkong.observation import selfreport

app_name = "obs_selfreport"
urlpatterns = [
    path("<str:token>/", selfreport.report, name="report"),
]
