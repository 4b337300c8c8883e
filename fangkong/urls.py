from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from fangkong.api import api

urlpatterns = [
    path("", include("fangkong.areas.urls")),
    path("", include("fangkong.people.urls")),
    path("import/", include("fangkong.people.import_urls")),
    path("accounts/tokens/", include("fangkong.accounts.token_urls")),
    path("accounts/manage/", include("fangkong.accounts.manage_urls")),
    path("accounts/", include("fangkong.accounts.urls")),
    path("audit/", include("fangkong.audit.urls")),
    path("jobs/", include("fangkong.jobs.urls")),
    path("policy/", include("fangkong.policy.urls")),
    path("screening/", include("fangkong.screening.urls")),
    path("r/", include("fangkong.screening.selfreport_urls")),
    path("cases/", include("fangkong.cases.urls")),
    path("observation/", include("fangkong.observation.urls")),
    path("o/", include("fangkong.observation.selfreport_urls")),
    path("facilities/", include("fangkong.facilities.urls")),
    path("crosscheck/", include("fangkong.crosscheck.urls")),
    path("tracing/", include("fangkong.tracing.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico whatever the page says.
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path("i18n/", include("django.conf.urls.i18n")),
]

handler400 = "fangkong.core.error_pages.bad_request"
handler403 = "fangkong.core.error_pages.permission_denied"
handler404 = "fangkong.core.error_pages.page_not_found"
handler500 = "fangkong.core.error_pages.server_error"
