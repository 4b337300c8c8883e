from django.urls import path

from fangkong.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("logout/others/", views.logout_others, name="logout_others"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
]
