from django.urls import path

from fangkong.accounts import two_factor_views, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("logout/others/", views.logout_others, name="logout_others"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("two-factor/", two_factor_views.account, name="two_factor"),
    path("two-factor/enrol/", two_factor_views.enrol, name="two_factor_enrol"),
    path("two-factor/enrol/qr.svg", two_factor_views.enrol_qr, name="two_factor_qr"),
    path("two-factor/verify/", two_factor_views.verify, name="two_factor_verify"),
    path("two-factor/remove/", two_factor_views.remove, name="two_factor_remove"),
    path("two-factor/backup-codes/", two_factor_views.new_backup_codes, name="two_factor_backup_codes"),
]
