"""The public self-report link: /r/<token>/ (short, for QR codes)."""

from django.urls import path

from fangkong.screening import selfreport

app_name = "selfreport"
urlpatterns = [
    path("<str:token>/", selfreport.report, name="report"),
]
